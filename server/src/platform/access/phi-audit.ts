// PHI audit (L3): every read and write of patient data is one audit event, appended in the
// same transaction as the read or change. It names who, which patient record, what kind of
// access and which fields changed — never a field's value. A request that lists or exports many
// records may instead write one batched event that names them (auditPhiBatch).
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { recordAudit, type AuditEvent } from '../audit/audit.js';

type Db = Kysely<DatabaseSchema>;

/** Audit actions of patient data; the patient's access list shows exactly these. */
export const PHI_ACTIONS = [
  'patient.created',
  'patient.read',
  'patient.listed',
  'patient.updated',
  'patient.archived',
  'patient.restored',
  'patient.portal_invited',
  'patient.consents_read',
  'patient.consent_recorded',
  'patient.consent_withdrawn',
  'patient.notes_read',
  'patient.note_read',
  'patient.note_created',
  'patient.note_corrected',
  'patient.exported',
  'breakglass.granted',
  'breakglass.revoked',
] as const;
export type PhiAction = (typeof PHI_ACTIONS)[number];

export interface PhiAccess {
  readonly action: PhiAction;
  readonly patientId: string;
  /** Names of the fields written (camelCase), never their values. */
  readonly fields?: readonly string[];
  /** The break-glass grant the read happened under. */
  readonly grantId?: string;
  /** Other non-identifying ids: a note, a consent, a document version. */
  readonly details?: Record<string, string | number | boolean | null>;
}

function actorOf(request: FastifyRequest): AuditEvent['actor'] {
  const principal = request.principal;
  return principal ? { type: principal.kind, id: principal.subject } : { type: 'anonymous' };
}

/** Appends the audit event of one access to one patient record, inside `trx`. */
export async function auditPhi(trx: Db, request: FastifyRequest, access: PhiAccess): Promise<void> {
  await recordAudit(trx, {
    actor: actorOf(request),
    action: access.action,
    target: { type: 'patient', id: access.patientId },
    outcome: 'success',
    requestId: request.id,
    clientAddress: request.ip,
    details: {
      ...access.details,
      ...(access.fields ? { fields: [...access.fields].sort().join(',').slice(0, 200) } : {}),
      ...(access.grantId ? { grantId: access.grantId } : {}),
      // The app that read on the person's behalf (A12): the record's access log names it.
      ...(request.principal?.delegation
        ? { oauthClient: request.principal.delegation.clientId }
        : {}),
    },
  });
}

/** The most record ids one batched event names; a longer listing writes one event per part. */
export const PHI_BATCH_ID_CAP = 50;
/** Five UUIDs and their commas (184 characters) fit the audit log's 200-character detail value. */
const IDS_PER_DETAIL = 5;

export interface PhiBatchAccess {
  /** Usually patient.listed or patient.exported. */
  readonly action: PhiAction;
  readonly patientIds: readonly string[];
  /** The organization every listed record belongs to: the event's target. */
  readonly organizationId?: string;
  /** Non-identifying context; at most 7 keys (ids, count and part take the other 13 of 20). */
  readonly details?: Record<string, string | number | boolean | null>;
}

/**
 * Audit events for a request that lists or exports many patient records, instead of one per
 * row: one event per PHI_BATCH_ID_CAP records, naming their ids in `patientIds1`, `patientIds2`,
 * … (five each), with the request's `count` and the event's `part` of `parts`. Every record
 * listed is named in some event — a patient's access list must show every listing that showed
 * them — while each event stays within the audit log's bounds. Nothing is written when no record
 * was accessed.
 *
 * The events' target is the organization, not a patient: the portal's access list finds them by
 * the ids they name.
 */
export async function auditPhiBatch(
  trx: Db,
  request: FastifyRequest,
  access: PhiBatchAccess,
): Promise<void> {
  const unique = [...new Set(access.patientIds)];
  const parts = Math.ceil(unique.length / PHI_BATCH_ID_CAP);
  for (let part = 1; part <= parts; part++) {
    const named = unique.slice((part - 1) * PHI_BATCH_ID_CAP, part * PHI_BATCH_ID_CAP);
    const idDetails: Record<string, string> = {};
    for (let start = 0; start < named.length; start += IDS_PER_DETAIL) {
      const key = `patientIds${start / IDS_PER_DETAIL + 1}`;
      idDetails[key] = named.slice(start, start + IDS_PER_DETAIL).join(',');
    }
    await recordAudit(trx, {
      actor: actorOf(request),
      action: access.action,
      ...(access.organizationId
        ? { target: { type: 'organization', id: access.organizationId } }
        : {}),
      outcome: 'success',
      requestId: request.id,
      clientAddress: request.ip,
      details: { ...access.details, count: unique.length, part, parts, ...idDetails },
    });
  }
}
