// The patient portal's use cases (Z4, L3): a patient-role user sees and acts on the one record
// linked to their account and nothing else. Each starts from requireAccess on OWN_RECORD (404
// when no record is linked) and passes only that patient id on; every read and change of the
// record is a PHI audit event in the same transaction.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import {
  OWN_RECORD,
  auditPhi,
  requireAccess,
  type PatientAccess,
} from '../../platform/access/index.js';
import { HavenError } from '../../platform/errors.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { recordUserEvent } from '../../platform/user-event.js';
import {
  auditConsentChange,
  consentGate,
  listConsentDocuments,
  listPatientConsents,
  recordConsent,
  withdrawConsent,
  type ConsentRecordView,
} from '../patients/index.js';
import * as repo from './repo.js';
import { listSharedNotes, loadPatientRecordView } from './repo.js';
import {
  ACCESS_LOG_DEFAULT_LIMIT,
  ACCESS_LOG_MAX_LIMIT,
  type AccessEntry,
  type AccessLogOptions,
  type AccessLogPageView,
} from './schemas.js';

type Db = Kysely<DatabaseSchema>;

/**
 * Runs `work` in one transaction on the caller's own record, the only one a portal use case
 * touches: requireAccess first (404 when no record is linked), then only that patient id.
 */
function onOwnRecord<T>(
  ctx: ModuleContext,
  request: FastifyRequest,
  permission: 'patient:read' | 'patient:write',
  work: (trx: Db, self: PatientAccess) => Promise<T>,
): Promise<T> {
  return ctx.db.transaction().execute(async (trx) => {
    const self = await requireAccess(trx, request, permission, OWN_RECORD);
    return work(trx, self);
  });
}

/** The record as the patient sees it. */
export function readOwnRecord(ctx: ModuleContext, request: FastifyRequest) {
  return onOwnRecord(ctx, request, 'patient:read', async (trx, self) => {
    const record = await loadPatientRecordView(trx, self.patientId);
    if (!record) throw new HavenError('NOT_FOUND');
    await auditPhi(trx, request, { action: 'patient.read', patientId: self.patientId });
    return { record };
  });
}

/** The organization's current documents, the patient's consents and the consent gate. */
export function readOwnConsents(ctx: ModuleContext, request: FastifyRequest) {
  return onOwnRecord(ctx, request, 'patient:read', async (trx, self) => {
    const documents = await listConsentDocuments(trx, self.organizationId, { currentOnly: true });
    const consents = await listPatientConsents(trx, self.patientId);
    const gate = await consentGate(trx, self.patientId, self.organizationId);
    await auditPhi(trx, request, { action: 'patient.consents_read', patientId: self.patientId });
    return { documents, consents, gate };
  });
}

/** The patient consents to the current version of one of their organization's documents. */
export function giveConsent(
  ctx: ModuleContext,
  request: FastifyRequest,
  documentId: string,
): Promise<ConsentRecordView> {
  return onOwnRecord(ctx, request, 'patient:write', (trx, self) => {
    const { patientId } = self;
    const change = { action: 'patient.consent_recorded', patientId, channel: 'portal' } as const;
    // Scoped to the patient's own organization: another organization's document is a 404.
    return auditConsentChange(trx, request, change, () =>
      recordConsent(trx, {
        patientId: self.patientId,
        organizationId: self.organizationId,
        documentId,
        channel: 'portal',
        recordedBy: self.userId,
        currentVersionOnly: true,
      }),
    );
  });
}

/** The patient withdraws one of their own consents. */
export function withdrawOwnConsent(
  ctx: ModuleContext,
  request: FastifyRequest,
  consentId: string,
): Promise<ConsentRecordView> {
  return onOwnRecord(ctx, request, 'patient:write', (trx, self) => {
    const { patientId } = self;
    const change = { action: 'patient.consent_withdrawn', patientId, channel: 'portal' } as const;
    // withdrawConsent looks the consent up by id AND this patient: anyone else's is a 404.
    return auditConsentChange(trx, request, change, () =>
      withdrawConsent(trx, { patientId: self.patientId, consentId, withdrawnBy: self.userId }),
    );
  });
}

/** The notes the care team shared with the patient. */
export function readOwnNotes(ctx: ModuleContext, request: FastifyRequest) {
  return onOwnRecord(ctx, request, 'patient:read', async (trx, self) => {
    const notes = await listSharedNotes(trx, self.patientId);
    await auditPhi(trx, request, {
      action: 'patient.notes_read',
      patientId: self.patientId,
      details: { count: notes.length },
    });
    return { notes };
  });
}

/** One page of who touched the patient's record. */
export function readOwnAccessLog(
  ctx: ModuleContext,
  request: FastifyRequest,
  options: AccessLogOptions,
): Promise<AccessLogPageView> {
  return onOwnRecord(ctx, request, 'patient:read', async (trx, self) => {
    const page = await listAccessLog(trx, self.patientId, { ...options, withoutOwn: true });
    // Reading the audit log is not an access to the record, so it is no PHI event and does
    // not appear in the list itself; it is still a security event worth keeping.
    await recordUserEvent(trx, self.userId, requestContext(request), {
      action: 'portal.access_log_read',
      target: { type: 'user', id: self.userId },
      details: { count: page.entries.length, paged: options.before !== undefined },
    });
    return page;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function grantIdOf(details: Record<string, unknown>): string | null {
  const value = details.grantId;
  return typeof value === 'string' && UUID.test(value) ? value : null;
}

/** Who the patient is shown as having touched their record, by the event's actor. */
function entryOf(
  event: repo.PatientAuditEvent,
  people: { portalUserId: string | null; names: Map<string, string>; reasons: Map<string, string> },
): AccessEntry {
  const grantId = grantIdOf(event.details);
  const base = { at: event.occurred_at.toISOString(), action: event.action, grantId };
  if (event.actor_type !== 'user' || event.actor_id === null) {
    // Machines (system jobs, OAuth clients) are not people the patient could identify.
    return { ...base, actor: { kind: 'system', displayName: 'Haven' }, reason: null };
  }
  const displayName = people.names.get(event.actor_id) ?? 'Staff';
  if (grantId !== null) {
    const reason = people.reasons.get(grantId) ?? null;
    return { ...base, actor: { kind: 'break_glass', displayName }, reason };
  }
  if (people.portalUserId !== null && event.actor_id === people.portalUserId) {
    return { ...base, actor: { kind: 'you', displayName: 'You' }, reason: null };
  }
  return { ...base, actor: { kind: 'staff', displayName }, reason: null };
}

/**
 * Who touched the patient's record, newest first, from the audit log: every event whose target
 * is this patient, and every batched one that names it (a staff search that listed it). `before` is the seq of the last entry of the previous page. Only the
 * display names of the people involved are looked up, and break-glass reasons only from grants
 * on this same patient.
 */
export async function listAccessLog(
  db: Db,
  patientId: string,
  options: AccessLogOptions & { withoutOwn?: boolean } = {},
): Promise<AccessLogPageView> {
  const limit = Math.min(
    Math.max(options.limit ?? ACCESS_LOG_DEFAULT_LIMIT, 1),
    ACCESS_LOG_MAX_LIMIT,
  );
  const owner = await repo.findRecordOwner(db, patientId);
  if (owner === undefined) return { entries: [], nextBefore: null };
  const portalUserId = owner.portal_user_id;
  const patient = { id: patientId, organizationId: owner.organization_id };
  const rows = await repo.listPatientAuditEvents(db, patient, {
    before: options.before,
    limit: limit + 1,
    // Emergency accesses must not drown among routine staff reads: the patient can list them alone.
    breakGlassOnly: options.breakGlassOnly === true,
    // The page shows what others did; the account export keeps the patient's own actions too.
    leaveOut: options.withoutOwn === true ? portalUserId : null,
  });
  const page = rows.slice(0, limit);
  const userIds = new Set<string>();
  for (const row of page) {
    if (row.actor_type === 'user' && row.actor_id !== null && UUID.test(row.actor_id)) {
      userIds.add(row.actor_id);
    }
  }
  const grantIds = new Set(page.map((row) => grantIdOf(row.details)).filter((id) => id !== null));
  const names = await repo.displayNames(db, [...userIds]);
  const reasons = await repo.grantReasons(db, patientId, [...grantIds]);
  const entries = page.map((row) => entryOf(row, { portalUserId, names, reasons }));
  const last = page.at(-1);
  return { entries, nextBefore: rows.length > limit && last ? String(last.seq) : null };
}
