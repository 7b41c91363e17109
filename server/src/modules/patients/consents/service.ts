// Consent rules (Z4, L3, V1). The first half is shared with the patient portal and break-glass
// through the module's front door: callers pass their transaction and scope the patient first;
// auditConsentChange wraps a change with its PHI audit event. The second
// half is the staff use cases: requireAccess, then the rules and their audit events.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { auditPhi, requireAccess } from '../../../platform/access/index.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { isUniqueViolation } from '../../../platform/db/sql-text.js';
import { FieldErrors, cleanProse, cleanText } from '../../../platform/text.js';
import type { ConsentChannel } from '../../../platform/db/schema.js';
import { isOrganizationPatient, type Db } from '../records/repo.js';
import { assertRecordOpen, onPatient } from '../records/service.js';
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
  // The portal reaches here without onPatient's write hold: an archived record takes no consent.
  await assertRecordOpen(db, input.patientId);
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
 * Makes a consent change (recordConsent or withdrawConsent), by staff or (`channel` 'portal')
 * by the patient, and writes its PHI audit event in the same transaction: the event names the
 * consent and its document, never what was agreed to.
 */
export async function auditConsentChange(
  trx: Db,
  request: FastifyRequest,
  change: {
    action: 'patient.consent_recorded' | 'patient.consent_withdrawn';
    patientId: string;
    channel?: 'portal';
  },
  make: () => Promise<ConsentRecordView>,
): Promise<ConsentRecordView> {
  const consent = await make();
  const details = { consentId: consent.id, documentId: consent.documentId };
  await auditPhi(trx, request, {
    action: change.action,
    patientId: change.patientId,
    details: change.channel === undefined ? details : { ...details, channel: change.channel },
  });
  return consent;
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

/** The document's title and text, cleaned; 400 VALIDATION_FAILED naming each bad field. */
function cleanDocument(input: PublishInput): PublishInput {
  const errors = new FieldErrors();
  const title = cleanText(errors, 'body.title', input.title, { required: true, maxLength: 200 });
  const body = cleanProse(errors, 'body.body', input.body, 20_000);
  errors.throwIfAny();
  if (title === undefined || body === undefined) throw new HavenError('VALIDATION_FAILED');
  return { ...input, title, body };
}

/** Publishes the next version of a document kind (org_admin only), retrying a lost race. */
export async function publishConsentDocument(
  db: Db,
  request: FastifyRequest,
  input: PublishInput,
): Promise<ConsentDocumentView> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await publishOnce(db, request, input);
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
  request: FastifyRequest,
  raw: PublishInput,
): Promise<ConsentDocumentView> {
  return db.transaction().execute(async (trx) => {
    // Access first, as before any check of the body: a plain member learns nothing from a 400.
    const { organizationId, userId } = await requireAccess(
      trx,
      request,
      'organization:administer',
      {},
    );
    const input = cleanDocument(raw);
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
    await recordUserEvent(trx, userId, requestContext(request), {
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

/** The consent documents of the caller's active organization, newest first. */
export async function readConsentDocuments(
  db: Db,
  request: FastifyRequest,
): Promise<ConsentDocumentView[]> {
  return db.transaction().execute(async (trx) => {
    const { organizationId } = await requireAccess(trx, request, 'organization:read', {});
    return listConsentDocuments(trx, organizationId);
  });
}

/** The patient's consent records and gate; one PHI audit event. */
export async function readPatientConsents(db: Db, request: FastifyRequest, patientId: string) {
  return onPatient(db, request, patientId, 'read', async (trx, patient) => {
    const consents = await listPatientConsents(trx, patient.id);
    const gate = await consentGate(trx, patient.id, patient.organization_id);
    await auditPhi(trx, request, { action: 'patient.consents_read', patientId: patient.id });
    return { consents, gate };
  });
}

/** Records a consent given in person, on paper or by phone, to any version of a document. */
export async function recordStaffConsent(
  db: Db,
  request: FastifyRequest,
  patientId: string,
  input: StaffConsentInput,
): Promise<ConsentRecordView> {
  return onPatient(db, request, patientId, 'write', (trx, patient, { userId }) => {
    const change = { action: 'patient.consent_recorded', patientId: patient.id } as const;
    return auditConsentChange(trx, request, change, () =>
      recordConsent(trx, {
        patientId: patient.id,
        organizationId: patient.organization_id,
        documentId: input.documentId,
        channel: input.channel,
        recordedBy: userId,
        currentVersionOnly: false,
      }),
    );
  });
}

/** Withdrawal stays possible on an archived record: it only ever narrows what is allowed. */
export async function withdrawStaffConsent(
  db: Db,
  request: FastifyRequest,
  patientId: string,
  consentId: string,
): Promise<ConsentRecordView> {
  return onPatient(db, request, patientId, 'lock', (trx, patient, { userId }) => {
    const change = { action: 'patient.consent_withdrawn', patientId: patient.id } as const;
    return auditConsentChange(trx, request, change, () =>
      withdrawConsent(trx, { patientId: patient.id, consentId, withdrawnBy: userId }),
    );
  });
}
