// The users table as identity's sub-domains read one account: by id, or by normalized email.
// Each sub-domain's repo then picks the columns it needs, and a row lock when it must.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole } from '../../platform/db/schema.js';

export type Db = Kysely<DatabaseSchema>;

/** The account with this id; no columns chosen yet. */
export const userById = (db: Db, userId: string) => db.selectFrom('users').where('id', '=', userId);

/** The account holding this normalized email; no columns chosen yet. */
export const userByEmail = (db: Db, emailNormalized: string) =>
  db.selectFrom('users').where('email_normalized', '=', emailNormalized);

/**
 * A column of a query on users: the user's roles in their organizations, each once. Read here
 * (the organizations module builds on identity, not the reverse) because an org admin's account
 * role is only 'clinician': the users list and the invitation mail must name them by this one.
 * text[], which both database drivers parse.
 */
export const organizationRoles = sql<OrganizationRole[]>`array(
  select distinct m.role from organization_members m where m.user_id = users.id order by m.role
)`.as('organization_roles');
