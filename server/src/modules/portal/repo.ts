// What a patient sees of their own record, in the database. These queries know nothing of
// requests: the caller decides access first (requireAccess, the caller's own user id) and writes
// its own audit event. Every query carries the patient id or the caller's user id in its WHERE
// clause (Z4).
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { currentNoteVersions, demographicsOf, patientColumns } from '../patients/index.js';
import { SHARED_NOTES_LIMIT, type PatientRecordView, type SharedNote } from './schemas.js';

type Db = Kysely<DatabaseSchema>;

/** The record as the patient sees it; undefined when no such patient exists. */
export async function loadPatientRecordView(
  db: Db,
  patientId: string,
): Promise<PatientRecordView | undefined> {
  const row = await db
    .selectFrom('patients as p')
    .innerJoin('organizations as o', 'o.id', 'p.organization_id')
    .select([
      ...patientColumns(),
      'o.name as organization_name',
      'o.country as organization_country',
    ])
    .where('p.id', '=', patientId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    patient: { id: row.id, ...demographicsOf(row) },
    organization: {
      id: row.organization_id,
      name: row.organization_name,
      country: row.organization_country,
    },
  };
}

/**
 * The patient's notes whose current (highest) version is shareable, newest first, each with its
 * current version only: a note made private by a correction disappears, and the text of earlier
 * versions never reaches the patient. The newest SHARED_NOTES_LIMIT for the portal page; every
 * one of them with `complete` (the account export holds all of the patient's data).
 */
export async function listSharedNotes(
  db: Db,
  patientId: string,
  options: { complete?: boolean } = {},
): Promise<SharedNote[]> {
  const rows = await currentNoteVersions(db)
    .select([
      'n.id',
      'n.created_at',
      'v.body',
      'v.created_at as updated_at',
      'u.display_name as author_name',
    ])
    .where('n.patient_id', '=', patientId)
    .where('v.shareable', '=', true)
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc')
    .$if(options.complete !== true, (query) => query.limit(SHARED_NOTES_LIMIT))
    .execute();
  return rows.map((row) => ({
    id: row.id,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    author: { displayName: row.author_name ?? 'Care team' },
  }));
}

/**
 * The account linked to the patient record (null: none) and the record's organization;
 * undefined when no such patient.
 */
export function findRecordOwner(db: Db, patientId: string) {
  return db
    .selectFrom('patients')
    .select(['portal_user_id', 'organization_id'])
    .where('id', '=', patientId)
    .executeTakeFirst();
}

/** The audit actions written once per request for many records (auditPhiBatch). */
const BATCHED_ACTIONS = ['patient.listed', 'patient.exported'] as const;

/**
 * Audit events of this patient, newest first: those whose target is the patient, and the
 * batched ones (a search page, an export) of its organization that name it among their ids.
 * `limit` of them, after the seq `before` when given; only break-glass uses (events with a
 * grant id) with `breakGlassOnly`.
 */
export function listPatientAuditEvents(
  db: Db,
  patient: { id: string; organizationId: string },
  page: {
    before: string | undefined;
    limit: number;
    breakGlassOnly: boolean;
    /** The patient's portal account, whose own actions are left out; null keeps them. */
    leaveOut: string | null;
  },
) {
  let query = db
    .selectFrom('audit_events')
    .select(['seq', 'occurred_at', 'actor_type', 'actor_id', 'action', 'details'])
    .where((eb) =>
      eb.or([
        eb.and([eb('target_type', '=', 'patient'), eb('target_id', '=', patient.id)]),
        eb.and([
          eb('target_type', '=', 'organization'),
          eb('target_id', '=', patient.organizationId),
          eb('action', 'in', BATCHED_ACTIONS),
          sql<boolean>`exists (select 1 from jsonb_each_text(details) as named
            where named.key like 'patientIds%'
            and ${patient.id} = any (string_to_array(named.value, ',')))`,
        ]),
      ]),
    )
    .orderBy('seq', 'desc')
    .limit(page.limit);
  if (page.before !== undefined) query = query.where('seq', '<', page.before);
  if (page.breakGlassOnly) query = query.where(sql<boolean>`details ->> 'grantId' IS NOT NULL`);
  if (page.leaveOut !== null) {
    const own = page.leaveOut;
    query = query.where((eb) =>
      eb.or([
        eb('actor_type', '!=', 'user'),
        eb('actor_id', 'is', null),
        eb('actor_id', '!=', own),
      ]),
    );
  }
  // An event about one note is listed only while the patient can read that note (its current
  // version is shareable, as listSharedNotes decides): a staff-only note leaves no trace here, not
  // even that it was written or read. The id is checked before the cast, so a malformed one in
  // an old event hides that event instead of failing the page.
  query = query.where(
    sql<boolean>`(details ->> 'noteId' IS NULL OR exists (
      select 1 from clinical_notes n join clinical_note_versions v on v.note_id = n.id
      where n.id = case when details ->> 'noteId' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                        then (details ->> 'noteId')::uuid end
        and n.patient_id = ${patient.id}
        and v.shareable
        and v.version = (select max(m.version) from clinical_note_versions m where m.note_id = n.id)))`,
  );
  return query.execute();
}
export type PatientAuditEvent = Awaited<ReturnType<typeof listPatientAuditEvents>>[number];

/** Display names of the given users. */
export async function displayNames(
  db: Db,
  userIds: readonly string[],
): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'display_name'])
    .where('id', 'in', userIds)
    .execute();
  return new Map(rows.map((row) => [row.id, row.display_name]));
}

/** The stated reasons of the given grants, only of grants on this same patient. */
export async function grantReasons(
  db: Db,
  patientId: string,
  grantIds: readonly string[],
): Promise<Map<string, string>> {
  if (grantIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('break_glass_grants')
    .select(['id', 'reason'])
    .where('id', 'in', grantIds)
    .where('patient_id', '=', patientId)
    .execute();
  return new Map(rows.map((row) => [row.id, row.reason]));
}
