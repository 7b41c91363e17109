// The invitee's side that every invitation of an existing account shares (A11): to join an
// organization, to see a record a clinic keeps, to take part in a study. Whoever invited learns
// nothing of the account; whether it may accept is decided only when its owner looks or answers,
// and told only to them. Each module keeps its own rule (why its kind cannot be accepted); these
// are the pieces the three would otherwise each write again.
import type { Kysely } from 'kysely';
import type { DatabaseSchema, Role } from './db/schema.js';
import { HavenError } from './errors.js';

/** What an invitation's rule reads of the invitee's account. */
export interface InviteeAccount {
  readonly roles: readonly Role[];
  readonly status: string;
}

/** The invitee's own account, read once for the whole list of their invitations. */
export function inviteeAccount(
  db: Kysely<DatabaseSchema>,
  userId: string,
): Promise<InviteeAccount> {
  return db
    .selectFrom('users')
    .select(['roles', 'status'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
}

/** How a listed invitation says whether it can be accepted: `reason` (why not) only when not. */
export function answerability(reason: string | null): { canAccept: boolean; reason?: string } {
  return reason === null ? { canAccept: true } : { canAccept: false, reason };
}

/** Not the caller's, withdrawn, expired or answered: all one 404 to the caller. */
export const noSuchInvitation = (): HavenError =>
  new HavenError('NOT_FOUND', 'This invitation is no longer open: it was withdrawn or expired.');
