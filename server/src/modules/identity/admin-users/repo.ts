// User administration's reads and writes (Z3, L3). Every query names the user it works on,
// except the search, which is the admin's view of all users.
import { sql } from 'kysely';
import type { OrganizationRole, Role } from '../../../platform/db/schema.js';
import { escapeLike } from '../../../platform/db/sql-text.js';
import { organizationRoles, userById, type Db } from '../users-repo.js';

export type { Db };
export type UserStatus = 'invited' | 'active' | 'disabled';

const USER_COLUMNS = [
  'id',
  'email',
  'display_name',
  'roles',
  'status',
  'totp_enrolled_at',
  'created_at',
] as const;

export const findUser = (db: Db, id: string, lock = false) => {
  const query = userById(db, id).select([...USER_COLUMNS, organizationRoles]);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
};
export type UserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

/**
 * The user's memberships with their organizations' names. Read in its own statement after the
 * user row is locked: a membership added by a transaction the lock waited for is then seen
 * (members/service.ts adds one only with the account row locked too).
 */
export function membershipsOf(
  db: Db,
  userId: string,
): Promise<{ name: string; role: OrganizationRole }[]> {
  return db
    .selectFrom('organization_members as m')
    .innerJoin('organizations as o', 'o.id', 'm.organization_id')
    .select(['o.name', 'm.role'])
    .where('m.user_id', '=', userId)
    .orderBy('o.name')
    .execute();
}

export interface UserSearch {
  /** Lower-cased; empty for no search term. */
  readonly term: string;
  readonly status?: UserStatus | undefined;
  /** The id of the last user of the previous page. */
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/** Newest first; one row more than `limit`, so the caller knows whether a next page exists. */
export function searchUsers(db: Db, search: UserSearch) {
  let query = db
    .selectFrom('users')
    .select([...USER_COLUMNS, organizationRoles])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(search.limit + 1);
  if (search.term !== '') {
    const prefix = `${escapeLike(search.term)}%`;
    // Email prefix, name prefix, or the start of any later word of the name.
    query = query.where((eb) =>
      eb.or([
        eb('email_normalized', 'like', prefix),
        eb(eb.fn('lower', ['display_name']), 'like', prefix),
        eb(eb.fn('lower', ['display_name']), 'like', `% ${prefix}`),
      ]),
    );
  }
  if (search.status) query = query.where('status', '=', search.status);
  if (search.cursor) {
    // Keyset pagination on (created_at, id), compared in SQL against the cursor row itself:
    // timestamptz keeps microseconds that a JS Date (and so a timestamp cursor) would lose.
    query = query.where(
      sql<boolean>`(created_at, id) < (select c.created_at, c.id from users c where c.id = ${search.cursor})`,
    );
  }
  return query.execute();
}

export async function setRoles(db: Db, userId: string, roles: Role[], now: Date): Promise<void> {
  await db.updateTable('users').set({ roles, updated_at: now }).where('id', '=', userId).execute();
}

export async function setStatus(
  db: Db,
  userId: string,
  status: UserStatus,
  now: Date,
): Promise<void> {
  await db.updateTable('users').set({ status, updated_at: now }).where('id', '=', userId).execute();
}

/** Whether the user ever set a password (accepted an invitation). */
export async function hasPassword(db: Db, userId: string): Promise<boolean> {
  const row = await userById(db, userId).select('password_hash').executeTakeFirstOrThrow();
  return row.password_hash !== null;
}
