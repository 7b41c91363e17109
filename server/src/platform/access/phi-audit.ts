// PHI audit (L3): every read and write of patient data is one audit event, appended in the
// same transaction as the read or change. It names who, which patient record, what kind of
// access and which fields changed — never a field's value.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { recordAudit } from '../audit/audit.js';

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

/** Appends the audit event of one access to one patient record, inside `trx`. */
export async function auditPhi(trx: Db, request: FastifyRequest, access: PhiAccess): Promise<void> {
  const principal = request.principal;
  await recordAudit(trx, {
    actor: principal ? { type: principal.kind, id: principal.subject } : { type: 'anonymous' },
    action: access.action,
    target: { type: 'patient', id: access.patientId },
    outcome: 'success',
    requestId: request.id,
    clientAddress: request.ip,
    details: {
      ...access.details,
      ...(access.fields ? { fields: [...access.fields].sort().join(',').slice(0, 200) } : {}),
      ...(access.grantId ? { grantId: access.grantId } : {}),
    },
  });
}
