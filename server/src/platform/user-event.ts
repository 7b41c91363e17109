// The commonest audit event: a signed-in person did something through a request (changed their
// profile, invited a user, created an organization). The person is the actor, the request gives
// the request id and client address, and the outcome is success unless the caller says otherwise.
// Like recordAudit, it writes inside the caller's transaction.
import type { Kysely } from 'kysely';
import { recordAudit, type AuditEvent } from './audit/audit.js';
import type { DatabaseSchema } from './db/schema.js';
import type { RequestContext } from './http/request-context.js';

export interface UserEvent {
  readonly action: string;
  readonly target?: AuditEvent['target'];
  /** 'success' when not given. */
  readonly outcome?: AuditEvent['outcome'];
  readonly details?: AuditEvent['details'];
}

/** Appends the event `event` caused by the user `actorId` through `request`. */
export async function recordUserEvent(
  db: Kysely<DatabaseSchema>,
  actorId: string,
  request: RequestContext,
  event: UserEvent,
): Promise<void> {
  await recordAudit(db, {
    actor: { type: 'user', id: actorId },
    action: event.action,
    ...(event.target ? { target: event.target } : {}),
    outcome: event.outcome ?? 'success',
    ...(event.details ? { details: event.details } : {}),
    requestId: request.requestId,
    clientAddress: request.clientAddress,
  });
}
