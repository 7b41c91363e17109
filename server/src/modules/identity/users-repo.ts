// The users table as identity's sub-domains read one account: by id, or by normalized email.
// Each sub-domain's repo then picks the columns it needs, and a row lock when it must.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';

export type Db = Kysely<DatabaseSchema>;

/** The account with this id; no columns chosen yet. */
export const userById = (db: Db, userId: string) => db.selectFrom('users').where('id', '=', userId);

/** The account holding this normalized email; no columns chosen yet. */
export const userByEmail = (db: Db, emailNormalized: string) =>
  db.selectFrom('users').where('email_normalized', '=', emailNormalized);
