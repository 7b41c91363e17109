// Patient rows (Z4): every query names the caller's organization in its WHERE clause, so
// another organization's patient is never loaded, counted or changed.
import { sql, type Kysely, type RawBuilder, type Updateable } from 'kysely';
import type {
  ContactMethod,
  DatabaseSchema,
  PatientsTable,
  PostalAddress,
  Sex,
} from '../../../platform/db/schema.js';
import { escapeLike } from '../../../platform/db/sql-text.js';
import type { PatientFilters, PatientInput, PatientPatch, PatientSort } from './schemas.js';
import { nameWords, patientMrnMatches, patientNameContains } from './search-rule.js';

export type Db = Kysely<DatabaseSchema>;

export interface PatientRow {
  id: string;
  organization_id: string;
  mrn: string;
  given_name: string;
  family_name: string;
  birth_date: string;
  sex: Sex;
  address: PostalAddress | null;
  contact_methods: ContactMethod[];
  portal_user_id: string | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

/** Every column a patient view needs; birth_date as text so no Date or time zone touches it. */
export function patientColumns() {
  return [
    'p.id',
    'p.organization_id',
    'p.mrn',
    'p.given_name',
    'p.family_name',
    sql<string>`to_char(p.birth_date, 'YYYY-MM-DD')`.as('birth_date'),
    'p.sex',
    'p.address',
    'p.contact_methods',
    'p.portal_user_id',
    'p.created_at',
    'p.updated_at',
    'p.archived_at',
  ] as const;
}

/**
 * The search's name rule, in one place for every search of patients (staff and break-glass): a
 * case-insensitive prefix of the family or the given name. For a query whose patients table is
 * aliased `p`.
 */
export function patientNameStartsWith(name: string) {
  const prefix = `${escapeLike(name)}%`;
  return sql<boolean>`(lower(p.family_name) like lower(${prefix}) or lower(p.given_name) like lower(${prefix}))`;
}

/** One patient as staff read it whole: the row, and whether an existing account is invited. */
export interface PatientDetailRow extends PatientRow {
  /** An existing account was invited to see the record and has not answered (A11). */
  portal_invited: boolean;
}

/**
 * The patient with this id in the organization; `lock` holds the row until commit. Only this
 * one-record read asks about a portal invitation; searches and lists never pay for it.
 */
export async function selectPatient(
  db: Db,
  organizationId: string,
  patientId: string,
  options: { lock?: boolean } = {},
): Promise<PatientDetailRow | undefined> {
  const query = db
    .selectFrom('patients as p')
    .select(patientColumns())
    .select(
      sql<boolean>`exists (select 1 from portal_invitations pi where pi.patient_id = p.id)`.as(
        'portal_invited',
      ),
    )
    .where('p.id', '=', patientId)
    .where('p.organization_id', '=', organizationId);
  return (options.lock ? query.forUpdate() : query).executeTakeFirst();
}

/** Whether the id is a patient of the organization (a search cursor must be one). */
export async function isOrganizationPatient(
  db: Db,
  organizationId: string,
  patientId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('patients')
    .select('id')
    .where('id', '=', patientId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Each sort order's keys, for the listed row (`p`) and for the cursor's row (`c`), the id last
 * so the order is total and a keyset cursor never skips or repeats a patient. Only these fixed
 * expressions ever reach ORDER BY: the request names a key of this table, never a column.
 */
const SORT_KEYS: Record<PatientSort, { p: RawBuilder<unknown>[]; c: RawBuilder<unknown>[] }> = {
  name: {
    p: [sql`lower(p.family_name)`, sql`lower(p.given_name)`, sql`p.id`],
    c: [sql`lower(c.family_name)`, sql`lower(c.given_name)`, sql`c.id`],
  },
  mrn: { p: [sql`upper(p.mrn)`, sql`p.id`], c: [sql`upper(c.mrn)`, sql`c.id`] },
  updated: { p: [sql`p.updated_at`, sql`p.id`], c: [sql`c.updated_at`, sql`c.id`] },
};

/** The organization's patients matching the filters (not the cursor), table aliased `p`. */
function matchingPatients(db: Db, organizationId: string, filters: PatientFilters) {
  let query = db.selectFrom('patients as p').where('p.organization_id', '=', organizationId);
  const words = filters.name === undefined ? [] : nameWords(filters.name);
  if (words.length > 0) query = query.where(patientNameContains(words));
  if (filters.mrn !== undefined) query = query.where(patientMrnMatches(filters.mrn));
  if (filters.birthDate !== undefined) query = query.where('p.birth_date', '=', filters.birthDate);
  if (!filters.includeArchived) query = query.where('p.archived_at', 'is', null);
  return query;
}

/**
 * Up to `limit + 1` patients of the organization matching the filters, in the requested order
 * (SORT_KEYS, all ascending or all descending), after the cursor patient when there is one. The
 * extra row tells whether a next page exists. The cursor's sort position is read in SQL within
 * the same organization.
 */
export async function searchPatientRows(
  db: Db,
  organizationId: string,
  filters: PatientFilters,
): Promise<PatientRow[]> {
  const keys = SORT_KEYS[filters.sort];
  const descending = filters.direction === 'desc';
  let query = matchingPatients(db, organizationId, filters)
    .select(patientColumns())
    .limit(filters.limit + 1);
  for (const key of keys.p) query = query.orderBy(key, descending ? 'desc' : 'asc');
  if (filters.cursor !== undefined) {
    const after = descending ? sql`<` : sql`>`;
    query = query.where(
      sql<boolean>`(${sql.join(keys.p)}) ${after} (
        select ${sql.join(keys.c)} from patients c
        where c.id = ${filters.cursor} and c.organization_id = ${organizationId})`,
    );
  }
  return query.execute();
}

/** How many patients of the organization match the filters (every page shows the total). */
export async function countPatients(
  db: Db,
  organizationId: string,
  filters: PatientFilters,
): Promise<number> {
  const row = await matchingPatients(db, organizationId, filters)
    .select((eb) => eb.fn.countAll<string>().as('total'))
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/** Whether another patient of the organization (not `exceptId`) holds this MRN. */
export async function isMrnTaken(
  db: Db,
  organizationId: string,
  mrn: string,
  exceptId?: string,
): Promise<boolean> {
  let query = db
    .selectFrom('patients')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('mrn', '=', mrn);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function insertPatient(
  db: Db,
  organizationId: string,
  input: PatientInput,
  createdBy: string,
): Promise<string> {
  const created = await db
    .insertInto('patients')
    .values({
      organization_id: organizationId,
      mrn: input.mrn,
      given_name: input.givenName,
      family_name: input.familyName,
      birth_date: input.birthDate,
      sex: input.sex,
      address: input.address ? JSON.stringify(input.address) : null,
      contact_methods: JSON.stringify(input.contactMethods ?? []),
      created_by: createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return created.id;
}

/** Writes the given fields (only those) of the organization's patient and bumps updated_at. */
export async function updatePatient(
  db: Db,
  organizationId: string,
  patientId: string,
  changes: PatientPatch,
): Promise<void> {
  const update: Updateable<PatientsTable> = {};
  if (changes.mrn !== undefined) update.mrn = changes.mrn;
  if (changes.givenName !== undefined) update.given_name = changes.givenName;
  if (changes.familyName !== undefined) update.family_name = changes.familyName;
  if (changes.birthDate !== undefined) update.birth_date = changes.birthDate;
  if (changes.sex !== undefined) update.sex = changes.sex;
  if (changes.address !== undefined) {
    update.address = changes.address ? JSON.stringify(changes.address) : null;
  }
  if (changes.contactMethods !== undefined) {
    update.contact_methods = JSON.stringify(changes.contactMethods);
  }
  await db
    .updateTable('patients')
    .set({ ...update, updated_at: sql<Date>`now()` })
    .where('id', '=', patientId)
    .where('organization_id', '=', organizationId)
    .execute();
}

/** Archives (archived_at = now) or restores (null) the organization's patient. */
export async function setPatientArchived(
  db: Db,
  organizationId: string,
  patientId: string,
  archived: boolean,
): Promise<void> {
  await db
    .updateTable('patients')
    .set({ archived_at: archived ? sql<Date>`now()` : null, updated_at: sql<Date>`now()` })
    .where('id', '=', patientId)
    .where('organization_id', '=', organizationId)
    .execute();
}
