// Patient record use cases (Z4, L3): search, create, read, change, archive and restore. Each
// runs in one transaction that starts with requireAccess, and every read and write of a record
// is one PHI audit event in it (a search page is one batched event).
import type { FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { HavenError } from '../../../platform/errors.js';
import {
  auditPhi,
  auditPhiBatch,
  requireAccess,
  type PatientAccess,
  type PhiAction,
} from '../../../platform/access/index.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import {
  countPatients,
  insertPatient,
  isMrnTaken,
  isOrganizationPatient,
  searchPatientRows,
  selectPatient,
  setPatientArchived,
  updatePatient,
  type Db,
  type PatientDetailRow,
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
/**
 * 409 when the record is archived: no new document, consent, note or change lands on an archived
 * record (docs/api/clinical.md). Read FOR SHARE, so an archive waits for the write in progress.
 * For writes that do not go through onPatient's `write` hold (the portal, uploads).
 */
export async function assertRecordOpen(db: Db, patientId: string): Promise<void> {
  const row = await db
    .selectFrom('patients')
    .select('archived_at')
    .where('id', '=', patientId)
    .forShare()
    .executeTakeFirst();
  if (row && row.archived_at !== null) throw patientArchived();
}

const mrnTaken = () =>
  new HavenError('CONFLICT', 'Another patient of this organization has this MRN.', {
    errors: [{ field: 'body.mrn', message: 'is already in use in this organization' }],
  });

function toSummary(row: PatientRow): Static<typeof PatientSummarySchema> {
  return {
    id: row.id,
    updatedAt: row.updated_at.toISOString(),
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    sex: row.sex,
    archived: row.archived_at !== null,
  };
}

function toPatientView(row: PatientDetailRow): PatientView {
  return {
    ...toSummary(row),
    address: row.address,
    contactMethods: row.contact_methods,
    // Linked, or an existing account invited: both read alike to staff, as a new account's
    // invitation (linked at once) does, so the record tells nothing about the account (A11).
    portalLinked: row.portal_user_id !== null || row.portal_invited,
    createdAt: row.created_at.toISOString(),
    archivedAt: row.archived_at ? row.archived_at.toISOString() : null,
  };
}

/**
 * The patient with this id in the organization, or 404: another organization's patient is
 * never loaded. `lock` holds the row for read-modify-write sequences.
 */
export async function findPatient(
  db: Db,
  organizationId: string,
  patientId: string,
  options: { lock?: boolean } = {},
): Promise<PatientDetailRow> {
  const row = await selectPatient(db, organizationId, patientId, options);
  if (!row) throw patientNotFound();
  return row;
}

/**
 * How a staff use case holds its patient: `read` it, `lock` it until commit, or lock it to
 * `write` (an archived record is then a 409). Locking needs the write permission.
 */
export type PatientHold = 'read' | 'lock' | 'write';

/**
 * Runs a staff use case on one patient of the caller's active organization, in one
 * transaction: requireAccess decides first (404 when invisible, as another organization's
 * always is), then the patient is held as `hold` says; `work` gets the transaction, the
 * patient's row and the access (who, in which organization).
 */
export function onPatient<T>(
  db: Db,
  request: FastifyRequest,
  patientId: string,
  hold: PatientHold,
  work: (trx: Db, patient: PatientDetailRow, access: PatientAccess) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const permission = hold === 'read' ? 'patient:read' : 'patient:write';
    const access = await requireAccess(trx, request, permission, {
      patientId,
      via: 'organization',
    });
    const patient = await findPatient(trx, access.organizationId, access.patientId, {
      lock: hold !== 'read',
    });
    if (hold === 'write' && patient.archived_at !== null) throw patientArchived();
    return work(trx, patient, access);
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

/**
 * One page of the active organization's patients; the page is one batched PHI audit event that
 * names every patient listed (auditPhiBatch), not one event and one chain lock per row.
 */
export async function searchPatients(
  db: Db,
  request: FastifyRequest,
  filters: PatientFilters,
): Promise<Static<typeof PatientPage>> {
  return db.transaction().execute(async (trx) => {
    const { organizationId } = await requireAccess(trx, request, 'organization:list_patients', {});
    // A foreign or unknown cursor is a 404 like any other invisible patient, and never
    // reveals where it would sort.
    if (filters.cursor !== undefined) {
      if (!(await isOrganizationPatient(trx, organizationId, filters.cursor))) {
        throw patientNotFound();
      }
    }
    const rows = await searchPatientRows(trx, organizationId, filters);
    const total = await countPatients(trx, organizationId, filters);
    const page = rows.slice(0, filters.limit);
    await auditPhiBatch(trx, request, {
      action: 'patient.listed',
      patientIds: page.map((row) => row.id),
      organizationId,
    });
    const last = page[page.length - 1];
    return {
      patients: page.map(toSummary),
      total,
      nextCursor: rows.length > filters.limit && last ? last.id : null,
    };
  });
}

export async function createPatient(
  db: Db,
  request: FastifyRequest,
  input: PatientInput,
): Promise<PatientView> {
  const row = await db
    .transaction()
    .execute(async (trx) => {
      const { organizationId, userId } = await requireAccess(
        trx,
        request,
        'organization:add_patients',
        {},
      );
      if (await isMrnTaken(trx, organizationId, input.mrn)) throw mrnTaken();
      const patientId = await insertPatient(trx, organizationId, input, userId);
      await auditPhi(trx, request, {
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
  request: FastifyRequest,
  patientId: string,
): Promise<PatientView> {
  const row = await onPatient(db, request, patientId, 'read', async (trx, found) => {
    await auditPhi(trx, request, { action: 'patient.read', patientId: found.id });
    return found;
  });
  return toPatientView(row);
}

/** Writes the fields that actually change; a patch that changes nothing is audited as a read. */
export async function changePatient(
  db: Db,
  request: FastifyRequest,
  patientId: string,
  patch: PatientPatch,
): Promise<PatientView> {
  const row = await onPatient(db, request, patientId, 'write', async (trx, stored) => {
    const changes = changesTo(stored, patch);
    const changed = Object.keys(changes);
    if (changed.length === 0) {
      // Nothing was written, but the answer still discloses the record: that is a read.
      await auditPhi(trx, request, { action: 'patient.read', patientId: stored.id });
      return stored;
    }
    const organizationId = stored.organization_id;
    if (
      changes.mrn !== undefined &&
      (await isMrnTaken(trx, organizationId, changes.mrn, stored.id))
    ) {
      throw mrnTaken();
    }
    await updatePatient(trx, organizationId, stored.id, changes);
    return auditedChange(trx, request, stored, { action: 'patient.updated', fields: changed });
  }).catch(onUniqueViolation(mrnTaken));
  return toPatientView(row);
}

/** Audits a change to the stored patient and reads the record back as it now stands. */
async function auditedChange(
  trx: Db,
  request: FastifyRequest,
  stored: PatientRow,
  change: { action: PhiAction; fields: readonly string[] },
): Promise<PatientDetailRow> {
  await auditPhi(trx, request, { ...change, patientId: stored.id });
  return findPatient(trx, stored.organization_id, stored.id);
}

/** Archives or restores the record; doing either twice is a 409 naming the current state. */
export async function setArchived(
  db: Db,
  request: FastifyRequest,
  patientId: string,
  archive: boolean,
): Promise<PatientView> {
  const row = await onPatient(db, request, patientId, 'lock', async (trx, stored) => {
    const archived = stored.archived_at !== null;
    if (archive && archived) {
      throw new HavenError('CONFLICT', 'The patient record is already archived.');
    }
    if (!archive && !archived) {
      throw new HavenError('CONFLICT', 'The patient record is not archived.');
    }
    await setPatientArchived(trx, stored.organization_id, stored.id, archive);
    return auditedChange(trx, request, stored, {
      action: archive ? 'patient.archived' : 'patient.restored',
      fields: ['archivedAt'],
    });
  });
  return toPatientView(row);
}
