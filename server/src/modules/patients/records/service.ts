// Patient record use cases (Z4, L3): search, create, read, change, archive and restore. Each
// runs in one transaction, and every read and write of a record is one PHI audit event in it.
import type { Static } from 'typebox';
import { HavenError } from '../../../platform/errors.js';
import { auditPhi } from '../../../platform/access/phi-audit.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import type { StaffCaller } from '../staff-caller.js';
import {
  insertPatient,
  isMrnTaken,
  isOrganizationPatient,
  searchPatientRows,
  selectPatient,
  setPatientArchived,
  updatePatient,
  type Db,
  type PatientRow,
} from './repo.js';
import type {
  PatientFilters,
  PatientInput,
  PatientPage,
  PatientPatch,
  PatientSchema,
  PatientSummarySchema,
} from './schemas.js';

export type PatientView = Static<typeof PatientSchema>;

const patientNotFound = () => new HavenError('NOT_FOUND', 'The patient was not found.');
const patientArchived = () =>
  new HavenError('CONFLICT', 'The patient record is archived; restore it first.');
const mrnTaken = () =>
  new HavenError('CONFLICT', 'Another patient of this organization has this MRN.', {
    errors: [{ field: 'body.mrn', message: 'is already in use in this organization' }],
  });

function toSummary(row: PatientRow): Static<typeof PatientSummarySchema> {
  return {
    id: row.id,
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    sex: row.sex,
    archived: row.archived_at !== null,
  };
}

function toPatientView(row: PatientRow): PatientView {
  return {
    ...toSummary(row),
    address: row.address,
    contactMethods: row.contact_methods,
    portalLinked: row.portal_user_id !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    archivedAt: row.archived_at ? row.archived_at.toISOString() : null,
  };
}

/**
 * The patient with this id in the caller's organization, or 404: another organization's
 * patient is never loaded. `lock` holds the row for read-modify-write sequences.
 */
export async function findPatient(
  db: Db,
  organizationId: string,
  patientId: string,
  options: { lock?: boolean } = {},
): Promise<PatientRow> {
  const row = await selectPatient(db, organizationId, patientId, options);
  if (!row) throw patientNotFound();
  return row;
}

/** The patient for a write: 404 when invisible, 409 when archived; locked until commit. */
export async function findWritablePatient(
  db: Db,
  organizationId: string,
  patientId: string,
): Promise<PatientRow> {
  const row = await findPatient(db, organizationId, patientId, { lock: true });
  if (row.archived_at !== null) throw patientArchived();
  return row;
}

/**
 * How a staff use case holds its patient: `read` it, `lock` it until commit, or lock it to
 * `write` (an archived record is then a 409).
 */
export type PatientHold = 'read' | 'lock' | 'write';

/**
 * Runs a staff use case on one patient of the caller's organization, in one transaction: the
 * patient is found first (404 when invisible, as another organization's always is) and held
 * as `hold` says; `work` gets the transaction and the patient's row.
 */
export function onPatient<T>(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  hold: PatientHold,
  work: (trx: Db, patient: PatientRow) => Promise<T>,
): Promise<T> {
  const { organizationId } = caller.scope;
  return db.transaction().execute(async (trx) => {
    const patient =
      hold === 'write'
        ? await findWritablePatient(trx, organizationId, patientId)
        : await findPatient(trx, organizationId, patientId, { lock: hold === 'lock' });
    return work(trx, patient);
  });
}

/** Key order and absent-vs-undefined do not matter; jsonb does not keep key order either. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Copies one field; generic so the key and its value's type stay tied together. */
function copyField<K extends keyof PatientInput>(to: PatientPatch, from: PatientPatch, key: K) {
  to[key] = from[key];
}

/** What a patient row says about the person, in the names the API uses. */
export function demographicsOf(
  row: Pick<
    PatientRow,
    'mrn' | 'given_name' | 'family_name' | 'birth_date' | 'sex' | 'address' | 'contact_methods'
  >,
): Required<PatientInput> {
  return {
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    sex: row.sex,
    address: row.address,
    contactMethods: row.contact_methods,
  };
}

/** The fields of the patch whose new value differs from the stored one, and those alone. */
function changesTo(row: PatientRow, patch: PatientPatch): PatientPatch {
  const stored: PatientInput = demographicsOf(row);
  const changes: PatientPatch = {};
  for (const key of Object.keys(patch) as Array<keyof PatientInput>) {
    if (patch[key] !== undefined && canonical(patch[key]) !== canonical(stored[key])) {
      copyField(changes, patch, key);
    }
  }
  return changes;
}

/** One page of the organization's patients; each patient listed is one PHI audit event. */
export async function searchPatients(
  db: Db,
  caller: StaffCaller,
  filters: PatientFilters,
): Promise<Static<typeof PatientPage>> {
  const { organizationId } = caller.scope;
  return db.transaction().execute(async (trx) => {
    // A foreign or unknown cursor is a 404 like any other invisible patient, and never
    // reveals where it would sort.
    if (filters.cursor !== undefined) {
      if (!(await isOrganizationPatient(trx, organizationId, filters.cursor))) {
        throw patientNotFound();
      }
    }
    const rows = await searchPatientRows(trx, organizationId, filters);
    const page = rows.slice(0, filters.limit);
    for (const row of page) {
      await auditPhi(trx, caller.request, { action: 'patient.listed', patientId: row.id });
    }
    const last = page[page.length - 1];
    return {
      patients: page.map(toSummary),
      nextCursor: rows.length > filters.limit && last ? last.id : null,
    };
  });
}

export async function createPatient(
  db: Db,
  caller: StaffCaller,
  input: PatientInput,
): Promise<PatientView> {
  const { organizationId, userId } = caller.scope;
  const row = await db
    .transaction()
    .execute(async (trx) => {
      if (await isMrnTaken(trx, organizationId, input.mrn)) throw mrnTaken();
      const patientId = await insertPatient(trx, organizationId, input, userId);
      await auditPhi(trx, caller.request, {
        action: 'patient.created',
        patientId,
        fields: Object.keys(input),
      });
      return findPatient(trx, organizationId, patientId);
    })
    // Two creations with the same MRN raced past the check: UNIQUE (organization_id, mrn).
    .catch(onUniqueViolation(mrnTaken));
  return toPatientView(row);
}

export async function readPatient(
  db: Db,
  caller: StaffCaller,
  patientId: string,
): Promise<PatientView> {
  const row = await onPatient(db, caller, patientId, 'read', async (trx, found) => {
    await auditPhi(trx, caller.request, { action: 'patient.read', patientId: found.id });
    return found;
  });
  return toPatientView(row);
}

/** Writes the fields that actually change; a patch that changes nothing is audited as a read. */
export async function changePatient(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  patch: PatientPatch,
): Promise<PatientView> {
  const { organizationId } = caller.scope;
  const row = await onPatient(db, caller, patientId, 'write', async (trx, stored) => {
    const changes = changesTo(stored, patch);
    const changed = Object.keys(changes);
    if (changed.length === 0) {
      // Nothing was written, but the answer still discloses the record: that is a read.
      await auditPhi(trx, caller.request, { action: 'patient.read', patientId: stored.id });
      return stored;
    }
    if (
      changes.mrn !== undefined &&
      (await isMrnTaken(trx, organizationId, changes.mrn, stored.id))
    ) {
      throw mrnTaken();
    }
    await updatePatient(trx, organizationId, stored.id, changes);
    await auditPhi(trx, caller.request, {
      action: 'patient.updated',
      patientId: stored.id,
      fields: changed,
    });
    return findPatient(trx, organizationId, stored.id);
  }).catch(onUniqueViolation(mrnTaken));
  return toPatientView(row);
}

/** Archives or restores the record; doing either twice is a 409 naming the current state. */
export async function setArchived(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  archive: boolean,
): Promise<PatientView> {
  const { organizationId } = caller.scope;
  const row = await onPatient(db, caller, patientId, 'lock', async (trx, stored) => {
    const archived = stored.archived_at !== null;
    if (archive && archived) {
      throw new HavenError('CONFLICT', 'The patient record is already archived.');
    }
    if (!archive && !archived) {
      throw new HavenError('CONFLICT', 'The patient record is not archived.');
    }
    await setPatientArchived(trx, organizationId, stored.id, archive);
    await auditPhi(trx, caller.request, {
      action: archive ? 'patient.archived' : 'patient.restored',
      patientId: stored.id,
      fields: ['archivedAt'],
    });
    return findPatient(trx, organizationId, stored.id);
  });
  return toPatientView(row);
}
