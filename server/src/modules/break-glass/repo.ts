// Break-glass grants in the database. A grant names one admin and one patient; queries that act
// for the admin carry their id, and a grant's patient is the only patient its use can reach.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { patientNameStartsWith } from '../patients/index.js';

type Db = Kysely<DatabaseSchema>;

/** How the admin named the patient: by id, or by organization and MRN. */
export type PatientLookup =
  | { readonly by: 'id'; readonly patientId: string }
  | { readonly by: 'mrn'; readonly organizationId: string; readonly mrn: string };

function grantQuery(db: Db) {
  return db
    .selectFrom('break_glass_grants as g')
    .innerJoin('users as u', 'u.id', 'g.admin_id')
    .innerJoin('patients as p', 'p.id', 'g.patient_id')
    .innerJoin('organizations as o', 'o.id', 'g.organization_id')
    .select([
      'g.id',
      'g.admin_id',
      'u.display_name as admin_display_name',
      'g.patient_id',
      'p.given_name as patient_given_name',
      'p.family_name as patient_family_name',
      'p.mrn as patient_mrn',
      'g.organization_id',
      'o.name as organization_name',
      'g.reason',
      'g.created_at',
      'g.expires_at',
      'g.revoked_at',
    ]);
}
export type GrantRow = NonNullable<
  Awaited<ReturnType<ReturnType<typeof grantQuery>['executeTakeFirst']>>
>;

/**
 * The patient the admin named, in any organization: reaching a record outside one's own
 * organization is what break-glass is for, and the grant row plus its audit event account for it.
 */
export function findPatient(db: Db, lookup: PatientLookup) {
  const query = db.selectFrom('patients').select(['id', 'organization_id']);
  return (
    lookup.by === 'id'
      ? query.where('id', '=', lookup.patientId)
      : query.where('organization_id', '=', lookup.organizationId).where('mrn', '=', lookup.mrn)
  ).executeTakeFirst();
}

/**
 * Up to `limit` patients, in any organization, whose MRN is the query or whose family or given
 * names start with each of its words ("Quill, Jor" finds Jordan Quill), in name order. Archived
 * records are left out. Only what the picker shows is read: names, birth date, MRN, organization.
 */
export function searchPatients(
  db: Db,
  search: { query: string; words: readonly string[]; limit: number },
) {
  return db
    .selectFrom('patients as p')
    .innerJoin('organizations as o', 'o.id', 'p.organization_id')
    .select([
      'p.id',
      'p.given_name',
      'p.family_name',
      sql<string>`to_char(p.birth_date, 'YYYY-MM-DD')`.as('birth_date'),
      'p.mrn',
      'p.organization_id',
      'o.name as organization_name',
    ])
    .where('p.archived_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('p.mrn', '=', search.query),
        // No words would be an empty AND, which is true: every patient.
        ...(search.words.length > 0
          ? [eb.and(search.words.map((word) => patientNameStartsWith(word)))]
          : []),
      ]),
    )
    .orderBy(sql`lower(p.family_name)`)
    .orderBy(sql`lower(p.given_name)`)
    .orderBy('p.id')
    .limit(search.limit)
    .execute();
}
export type PatientMatchRow = Awaited<ReturnType<typeof searchPatients>>[number];

export async function insertGrant(
  db: Db,
  grant: {
    adminId: string;
    patientId: string;
    organizationId: string;
    reason: string;
    createdAt: Date;
    expiresAt: Date;
  },
): Promise<string> {
  const row = await db
    .insertInto('break_glass_grants')
    .values({
      admin_id: grant.adminId,
      patient_id: grant.patientId,
      organization_id: grant.organizationId,
      reason: grant.reason,
      created_at: grant.createdAt,
      expires_at: grant.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export function findGrant(db: Db, grantId: string): Promise<GrantRow> {
  return grantQuery(db).where('g.id', '=', grantId).executeTakeFirstOrThrow();
}

/**
 * A grant held by `adminId` (anyone else's is as missing as none). FOR SHARE waits for a
 * concurrent revocation, so a revoked grant is never used after it.
 */
export function findHeldGrantForShare(
  db: Db,
  grantId: string,
  adminId: string,
): Promise<GrantRow | undefined> {
  return grantQuery(db)
    .where('g.id', '=', grantId)
    .where('g.admin_id', '=', adminId)
    .forShare('g')
    .executeTakeFirst();
}

/** Any admin's grant, locked for revocation. */
export function lockGrant(db: Db, grantId: string): Promise<GrantRow | undefined> {
  return grantQuery(db).where('g.id', '=', grantId).forUpdate('g').executeTakeFirst();
}

export async function markRevoked(
  db: Db,
  grantId: string,
  revokedBy: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('break_glass_grants')
    .set({ revoked_at: now, revoked_by: revokedBy })
    .where('id', '=', grantId)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Every admin's grants, newest first; `active` keeps the live ones (true) or the ended ones. */
export function listGrants(
  db: Db,
  filter: { active: boolean | undefined; now: Date; limit: number },
): Promise<GrantRow[]> {
  const { active, now } = filter;
  return grantQuery(db)
    .orderBy('g.created_at', 'desc')
    .orderBy('g.id', 'desc')
    .limit(filter.limit)
    .$if(active === true, (query) =>
      query.where('g.revoked_at', 'is', null).where('g.expires_at', '>', now),
    )
    .$if(active === false, (query) =>
      query.where((eb) =>
        eb.or([eb('g.revoked_at', 'is not', null), eb('g.expires_at', '<=', now)]),
      ),
    )
    .execute();
}
