// Most of identity's audit events are about one account: either its owner acting on it (profile,
// email, password, MFA, accepting an invitation; actor and target are the same user) or an
// anonymous caller trying something that names it (sign-in, sign-up, password reset; the target
// is the account when one was found). Each kind is written one way here.
import type { Kysely } from 'kysely';
import { recordAudit, type AuditEvent } from '../../platform/audit/audit.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import type { RequestContext } from '../../platform/http/request-context.js';
import { recordUserEvent, type UserEvent } from '../../platform/user-event.js';

type Db = Kysely<DatabaseSchema>;

/** What an account event says besides who and which account. */
export type AccountEvent = Omit<UserEvent, 'target'>;

/** The user `userId` acted on their own account. */
export async function auditOwnAccount(
  db: Db,
  userId: string,
  request: RequestContext,
  event: AccountEvent,
): Promise<void> {
  await recordUserEvent(db, userId, request, { ...event, target: { type: 'user', id: userId } });
}

/** An anonymous caller's attempt, about the account `userId` when one was found. */
export async function auditAnonymousAttempt(
  db: Db,
  userId: string | undefined,
  request: RequestContext,
  event: AccountEvent & { readonly outcome: AuditEvent['outcome'] },
): Promise<void> {
  await recordAudit(db, {
    actor: { type: 'anonymous' },
    action: event.action,
    ...(userId === undefined ? {} : { target: { type: 'user', id: userId } }),
    outcome: event.outcome,
    ...(event.details ? { details: event.details } : {}),
    requestId: request.requestId,
    clientAddress: request.clientAddress,
  });
}
