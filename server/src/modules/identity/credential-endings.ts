// What else ends when a person's credentials do (A7): an account disabled, a password reset or
// changed ends the person's sessions, and other modules holding credentials of theirs (OAuth
// grants: an app acting for the person is a session in all but name) end theirs in the same
// transaction. Identity cannot import those modules (they depend on it), so they add a listener
// through identity's front door instead.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';

/** Ends what a module holds for the person, inside the transaction that ends their sessions. */
export type CredentialEndingListener = (
  trx: Kysely<DatabaseSchema>,
  userId: string,
) => Promise<void>;

export interface CredentialEndings {
  add(listener: CredentialEndingListener): void;
  /** Runs every listener in order; a failure fails the caller's transaction. */
  run(trx: Kysely<DatabaseSchema>, userId: string): Promise<void>;
}

export function createCredentialEndings(): CredentialEndings {
  const listeners: CredentialEndingListener[] = [];
  return {
    add(listener) {
      listeners.push(listener);
    },
    async run(trx, userId) {
      for (const listener of listeners) await listener(trx, userId);
    },
  };
}
