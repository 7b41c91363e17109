// Queries about organizations, memberships and the active organization (Z4); the members of
// one organization have theirs in members/repo.ts. Each takes the organization, user or session
// it is about as an argument and names it in its WHERE clause, so no query reaches past the
// caller's scope. Services pass their transaction as `db` for work that must commit together.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole } from '../../platform/db/schema.js';
import { escapeLike } from '../../platform/db/sql-text.js';
import { MAX_LISTED, type OrganizationView } from './schemas.js';

/** A database handle or an open transaction. */
export type Db = Kysely<DatabaseSchema>;

// ---------------------------------------------------------------------------------------------
// Memberships and the active organization

export function listMemberships(
  db: Db,
  userId: string,
): Promise<Array<{ id: string; name: string; country: string; role: OrganizationRole }>> {
  return db
    .selectFrom('organization_members as m')
    .innerJoin('organizations as o', 'o.id', 'm.organization_id')
    .select(['o.id', 'o.name', 'o.country', 'm.role'])
    .where('m.user_id', '=', userId)
    .orderBy(sql`lower(o.name)`)
    .orderBy('o.id')
    .limit(MAX_LISTED)
    .execute();
}

/** Points the user's own session at the organization; false when no such session is theirs. */
export async function setActiveOrganization(
  db: Db,
  session: { userId: string; sessionId: string; organizationId: string },
): Promise<boolean> {
  const updated = await db
    .updateTable('sessions')
    .set({ active_organization_id: session.organizationId })
    .where('id', '=', session.sessionId)
    .where('user_id', '=', session.userId)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

// ---------------------------------------------------------------------------------------------
// Organizations

const organizationColumns = [
  'o.id',
  'o.name',
  'o.country',
  'o.created_at',
  sql<number>`(select count(*)::int from organization_members c where c.organization_id = o.id)`.as(
    'member_count',
  ),
] as const;

function toOrganizationView(row: {
  id: string;
  name: string;
  country: string;
  created_at: Date;
  member_count: number | string;
}): OrganizationView {
  return {
    id: row.id,
    name: row.name,
    country: row.country,
    createdAt: row.created_at.toISOString(),
    memberCount: Number(row.member_count),
  };
}

/** True when an organization has the name, compared case-insensitively. */
export async function organizationNameTaken(db: Db, name: string): Promise<boolean> {
  const taken = await db
    .selectFrom('organizations')
    .select('id')
    .where(sql<boolean>`lower(name) = lower(${name})`)
    .executeTakeFirst();
  return taken !== undefined;
}

/** Inserts the organization; a concurrent one of the same name fails on organizations_name_idx. */
export async function insertOrganization(
  db: Db,
  organization: { name: string; country: string; createdBy: string },
): Promise<OrganizationView> {
  const row = await db
    .insertInto('organizations')
    .values({
      name: organization.name,
      country: organization.country,
      created_by: organization.createdBy,
    })
    .returning(['id', 'name', 'country', 'created_at'])
    .executeTakeFirstOrThrow();
  return toOrganizationView({ ...row, member_count: 0 });
}

/** Ordered by (lower(name), id); `cursor` is the id of the last organization of the page before. */
export async function searchOrganizations(
  db: Db,
  search: { term: string; cursor: string | undefined; limit: number },
): Promise<{ organizations: OrganizationView[]; nextCursor: string | null }> {
  let query = db
    .selectFrom('organizations as o')
    .select(organizationColumns)
    .orderBy(sql`lower(o.name)`)
    .orderBy('o.id')
    .limit(search.limit + 1);
  if (search.term !== '') {
    // lower() on both sides in SQL: JavaScript and PostgreSQL case-fold some letters differently.
    query = query.where(sql<boolean>`lower(o.name) like lower(${`%${escapeLike(search.term)}%`})`);
  }
  if (search.cursor !== undefined) {
    // An unknown cursor compares with NULL and so yields an empty page.
    query = query.where(
      sql<boolean>`(lower(o.name), o.id) > (select lower(c.name), c.id from organizations c where c.id = ${search.cursor})`,
    );
  }
  const rows = await query.execute();
  const page = rows.slice(0, search.limit).map(toOrganizationView);
  return {
    organizations: page,
    nextCursor: rows.length > search.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** Sets the organization's country; the organization as it now reads, or undefined if none. */
export async function setOrganizationCountry(
  db: Db,
  organizationId: string,
  country: string,
): Promise<{ before: string; organization: OrganizationView } | undefined> {
  const before = await db
    .selectFrom('organizations')
    .select('country')
    .where('id', '=', organizationId)
    .forUpdate()
    .executeTakeFirst();
  if (before === undefined) return undefined;
  await db.updateTable('organizations').set({ country }).where('id', '=', organizationId).execute();
  const row = await db
    .selectFrom('organizations as o')
    .select(organizationColumns)
    .where('o.id', '=', organizationId)
    .executeTakeFirstOrThrow();
  return { before: before.country, organization: toOrganizationView(row) };
}

export async function organizationExists(db: Db, organizationId: string): Promise<boolean> {
  const row = await db
    .selectFrom('organizations')
    .select('id')
    .where('id', '=', organizationId)
    .executeTakeFirst();
  return row !== undefined;
}
