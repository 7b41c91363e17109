// Consent rules (Z4, L3, V1). The first half is shared with the patient portal and break-glass
// through the module's front door: those functions know nothing of requests — callers pass
// their transaction, scope the patient first and write their own PHI audit event. The second
// half is the staff use cases: organization scope, the org_admin check and the audit events.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { requireOrganizationAdmin } from '../../../platform/access/scopes.js';
import { auditPhi } from '../../../platform/access/phi-audit.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { isUniqueViolation } from '../../../platform/db/sql-text.js';
import { FieldErrors, cleanProse, cleanText } from '../../../platform/text.js';
import type { ConsentChannel } from '../../../platform/db/schema.js';
import type { StaffCaller } from '../staff-caller.js';
import { isOrganizationPatient, type Db } from '../records/repo.js';
import { onPatient } from '../records/service.js';
import {
  hasLiveConsent,
  insertConsent,
  insertDocument,
  latestDocumentVersion,
  lockConsent,
  lockOrganization,
  markWithdrawn,
  selectConsentDocuments,
  selectDocument,
  selectMissingConsents,
  selectPatientConsents,
  type ConsentRecordRow,
} from './repo.js';
import type {
  ConsentDocumentView,
  ConsentGateView,
  ConsentRecordView,
  PublishInput,
  StaffConsentInput,
} from './schemas.js';

/** Attempts at publishing when concurrent publications keep taking the next version number. */
const PUBLISH_ATTEMPTS = 3;

const notFound = (what: string) => new HavenError('NOT_FOUND', `${what} was not found.`);
const liveConsentConflict = () =>
  new HavenError('CONFLICT', 'The patient already holds a live consent to this document version.');
const alreadyWithdrawn = () =>
  new HavenError('CONFLICT', 'This consent has already been withdrawn.');

function toRecordView(row: ConsentRecordRow): ConsentRecordView {
  return {
    id: row.id,
    documentId: row.document_id,
    kind: row.kind,
    version: row.version,
    title: row.title,
    channel: row.channel,
    givenAt: row.given_at.toISOString(),
    withdrawnAt: row.withdrawn_at ? row.withdrawn_at.toISOString() : null,
    current: Boolean(row.current),
  };
}

/** Every version of the organization's consent documents, newest first (or current ones only). */
export async function listConsentDocuments(
  db: Db,
  organizationId: string,
  options: { currentOnly?: boolean } = {},
): Promise<ConsentDocumentView[]> {
  const rows = await selectConsentDocuments(db, organizationId, options);
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    version: row.version,
    title: row.title,
    body: row.body,
    required: row.required,
    publishedAt: row.published_at.toISOString(),
    current: Boolean(row.current),
  }));
}

/** The patient's consent records, newest first, withdrawn ones included. */
export async function listPatientConsents(db: Db, patientId: string): Promise<ConsentRecordView[]> {
  return (await selectPatientConsents(db, patientId)).map(toRecordView);
}

async function findConsent(db: Db, patientId: string, consentId: string) {
  const [row] = await selectPatientConsents(db, patientId, consentId);
  if (!row) throw notFound('The consent');
  return toRecordView(row);
}

/**
 * The consent gate: for every kind whose current (highest) version is required, the patient
 * must hold a live consent to exactly that version. A consent to an older version, or a
 * withdrawn one, does not count; publishing a new required version re-opens the gate.
 */
export async function consentGate(
  db: Db,
  patientId: string,
  organizationId: string,
): Promise<ConsentGateView> {
  const missing = await selectMissingConsents(db, patientId, organizationId);
  return {
    satisfied: missing.length === 0,
    missing: missing.map((row) => ({
      documentId: row.id,
      kind: row.kind,
      version: row.version,
      title: row.title,
    })),
  };
}

/** 409 CONSENT_REQUIRED, listing each missing document, unless the gate is satisfied. */
export async function requireConsent(
  db: Db,
  patientId: string,
  organizationId: string,
): Promise<void> {
  const gate = await consentGate(db, patientId, organizationId);
  if (gate.satisfied) return;
  throw new HavenError(
    'CONSENT_REQUIRED',
    'The patient has not consented to every required document.',
    {
      errors: gate.missing.map((doc) => ({
        field: `consents.${doc.kind}`,
        message: `Consent to "${doc.title}" version ${doc.version} (document ${doc.documentId}) is required.`,
      })),
    },
  );
}

/**
 * Records a consent of a patient of `organizationId` to one of that organization's documents.
 * Another organization's patient or document → 404; `currentVersionOnly` (the portal) refuses a
 * superseded version with 409; a live consent to that version already → 409.
 */
export async function recordConsent(
  db: Db,
  input: {
    patientId: string;
    organizationId: string;
    documentId: string;
    channel: ConsentChannel;
    recordedBy: string;
    currentVersionOnly: boolean;
  },
): Promise<ConsentRecordView> {
  if (!(await isOrganizationPatient(db, input.organizationId, input.patientId))) {
    throw notFound('The patient');
  }
  const document = await selectDocument(db, input.organizationId, input.documentId);
  if (!document) throw notFound('The consent document');
  if (input.currentVersionOnly && !document.current) {
    throw new HavenError('CONFLICT', 'A newer version of this document has been published.');
  }
  if (await hasLiveConsent(db, input.patientId, input.documentId)) throw liveConsentConflict();
  let consentId: string;
  try {
    consentId = await insertConsent(db, input);
  } catch (error) {
    // A concurrent request recorded the same consent first (patient_consents_live_idx).
    if (isUniqueViolation(error)) throw liveConsentConflict();
    throw error;
  }
  return findConsent(db, input.patientId, consentId);
}

/**
 * The PHI audit event of a consent recorded or withdrawn, by staff or (`channel` 'portal') by
 * the patient: it names the consent and its document, never what was agreed to.
 */
export function auditConsentChange(
  trx: Db,
  request: FastifyRequest,
  action: 'patient.consent_recorded' | 'patient.consent_withdrawn',
  patientId: string,
  consent: ConsentRecordView,
  channel?: 'portal',
): Promise<void> {
  const details = { consentId: consent.id, documentId: consent.documentId };
  return auditPhi(trx, request, {
    action,
    patientId,
    details: channel === undefined ? details : { ...details, channel },
  });
}

/** Withdraws one of the patient's consents: not theirs → 404; already withdrawn → 409. */
export async function withdrawConsent(
  db: Db,
  input: { patientId: string; consentId: string; withdrawnBy: string },
): Promise<ConsentRecordView> {
  const existing = await lockConsent(db, input.patientId, input.consentId);
  if (!existing) throw notFound('The consent');
  if (existing.withdrawn_at !== null) throw alreadyWithdrawn();
  // Lost a race with a concurrent withdrawal that committed between the lock and the update.
  if (!(await markWithdrawn(db, input.patientId, input.consentId, input.withdrawnBy))) {
    throw alreadyWithdrawn();
  }
  return findConsent(db, input.patientId, input.consentId);
}

// ---------------------------------------------------------------------------------------------
// Staff use cases

/** Publishes the next version of a document kind (org_admin only), retrying a lost race. */
export async function publishConsentDocument(
  db: Db,
  caller: StaffCaller,
  input: PublishInput,
): Promise<ConsentDocumentView> {
  requireOrganizationAdmin(caller.scope);
  const errors = new FieldErrors();
  const title = cleanText(errors, 'body.title', input.title, { required: true, maxLength: 200 });
  const body = cleanProse(errors, 'body.body', input.body, 20_000);
  errors.throwIfAny();
  if (title === undefined || body === undefined) throw new HavenError('VALIDATION_FAILED');
  for (let attempt = 1; ; attempt++) {
    try {
      return await publishOnce(db, caller, { ...input, title, body });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (attempt >= PUBLISH_ATTEMPTS) {
        throw new HavenError(
          'CONFLICT',
          'Another version of this document was published at the same time; try again.',
        );
      }
    }
  }
}

async function publishOnce(
  db: Db,
  caller: StaffCaller,
  input: PublishInput,
): Promise<ConsentDocumentView> {
  const { organizationId, userId } = caller.scope;
  return db.transaction().execute(async (trx) => {
    // Publications in one organization queue on its row, so "previous + 1" is read after the
    // previous one committed; the unique (organization, kind, version) backs it up.
    await lockOrganization(trx, organizationId);
    const version = (await latestDocumentVersion(trx, organizationId, input.kind)) + 1;
    const documentId = await insertDocument(trx, {
      ...input,
      organizationId,
      version,
      publishedBy: userId,
    });
    await recordUserEvent(trx, userId, requestContext(caller.request), {
      action: 'consent.document_published',
      target: { type: 'consent_document', id: documentId },
      details: { organizationId, kind: input.kind, version, required: input.required },
    });
    const documents = await listConsentDocuments(trx, organizationId);
    const document = documents.find((doc) => doc.id === documentId);
    if (!document) throw new Error('published consent document not found');
    return document;
  });
}

/** The patient's consent records and gate; one PHI audit event. */
export async function readPatientConsents(db: Db, caller: StaffCaller, patientId: string) {
  return onPatient(db, caller, patientId, 'read', async (trx, patient) => {
    const consents = await listPatientConsents(trx, patient.id);
    const gate = await consentGate(trx, patient.id, caller.scope.organizationId);
    await auditPhi(trx, caller.request, { action: 'patient.consents_read', patientId: patient.id });
    return { consents, gate };
  });
}

/** Records a consent given in person, on paper or by phone, to any version of a document. */
export async function recordStaffConsent(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  input: StaffConsentInput,
): Promise<ConsentRecordView> {
  const { organizationId, userId } = caller.scope;
  return onPatient(db, caller, patientId, 'write', async (trx, patient) => {
    const recorded = await recordConsent(trx, {
      patientId: patient.id,
      organizationId,
      documentId: input.documentId,
      channel: input.channel,
      recordedBy: userId,
      currentVersionOnly: false,
    });
    await auditConsentChange(trx, caller.request, 'patient.consent_recorded', patient.id, recorded);
    return recorded;
  });
}

export async function withdrawStaffConsent(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  consentId: string,
): Promise<ConsentRecordView> {
  const { userId } = caller.scope;
  // Withdrawal stays possible on an archived record: it only ever narrows what is allowed.
  return onPatient(db, caller, patientId, 'lock', async (trx, patient) => {
    const withdrawn = await withdrawConsent(trx, {
      patientId: patient.id,
      consentId,
      withdrawnBy: userId,
    });
    await auditConsentChange(
      trx,
      caller.request,
      'patient.consent_withdrawn',
      patient.id,
      withdrawn,
    );
    return withdrawn;
  });
}
