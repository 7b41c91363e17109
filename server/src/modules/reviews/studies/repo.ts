// Studies and their teams in the database (Z4). Every query about one study takes the study id
// that requireAccess returned and names it in its WHERE clause; the listing names the caller.
import { sql, type Kysely } from 'kysely';
import type {
  DatabaseSchema,
  StudyMemberRole,
  StudyRole,
  StudyStatus,
} from '../../../platform/db/schema.js';
import {
  PARTICIPANT_ROWS,
  shownEmail,
  shownName,
  shownRole,
  shownStatus,
} from '../shared/team-rows.js';
import {
  MEMBER_LIST_LIMIT,
  STUDY_LIST_LIMIT,
  type StudyMemberView,
  type StudySummary,
  type StudyView,
} from './schemas.js';

export type Db = Kysely<DatabaseSchema>;

/** A study with the counts and questionnaire its answer shows, from the caller's team row. */
function studyQuery(db: Db) {
  return db
    .selectFrom('studies as s')
    .innerJoin('organizations as o', 'o.id', 's.organization_id')
    .innerJoin('study_members as me', 'me.study_id', 's.id')
    .select([
      's.id',
      's.organization_id',
      'o.name as organization_name',
      's.title',
      's.description',
      's.status',
      // Never 'invited': studyQuery reads only the team rows of people on the team.
      sql<StudyRole>`me.role`.as('role'),
      's.created_at',
      's.updated_at',
      sql<number>`(select count(*)::int from review_cases c where c.study_id = s.id)`.as(
        'case_count',
      ),
      sql<number>`(select count(*)::int from study_members p
        where p.study_id = s.id and p.role in (${sql.join(PARTICIPANT_ROWS.map((r) => sql.lit(r)))})
          and p.removed_at is null)`.as('participant_count'),
      sql<number>`(select count(*)::int from review_assignments a where a.study_id = s.id)`.as(
        'assignment_count',
      ),
      sql<number>`(select count(*)::int from review_answers r where r.study_id = s.id)`.as(
        'answer_count',
      ),
      sql<string | null>`(select q.id from questionnaire_versions q
        where q.study_id = s.id and q.status = 'published' order by q.version desc limit 1)`.as(
        'questionnaire_id',
      ),
      sql<number | null>`(select q.version from questionnaire_versions q
        where q.study_id = s.id and q.status = 'published' order by q.version desc limit 1)`.as(
        'questionnaire_version',
      ),
    ])
    .where('me.role', '!=', 'invited');
}
type StudyRow = NonNullable<Awaited<ReturnType<ReturnType<typeof studyQuery>['executeTakeFirst']>>>;

function toSummary(row: StudyRow): StudySummary {
  return {
    id: row.id,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    title: row.title,
    status: row.status,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    counts: {
      cases: Number(row.case_count),
      participants: Number(row.participant_count),
      assignments: Number(row.assignment_count),
      answers: Number(row.answer_count),
    },
    questionnaire:
      row.questionnaire_id === null || row.questionnaire_version === null
        ? null
        : { versionId: row.questionnaire_id, version: Number(row.questionnaire_version) },
  };
}

/** The study as its team member `userId` sees it; the caller passed requireAccess for it. */
export async function findStudy(
  db: Db,
  studyId: string,
  userId: string,
): Promise<StudyView | undefined> {
  const row = await studyQuery(db)
    .where('s.id', '=', studyId)
    .where('me.user_id', '=', userId)
    .executeTakeFirst();
  return row && { ...toSummary(row), description: row.description };
}

/**
 * The studies the user runs: owner or researcher, not removed, and still a member of the
 * study's organization (the same rule study-access.ts applies to each study).
 */
export async function listStudiesOf(db: Db, userId: string): Promise<StudySummary[]> {
  const rows = await studyQuery(db)
    .where('me.user_id', '=', userId)
    .where('me.removed_at', 'is', null)
    .where('me.role', 'in', ['owner', 'researcher'])
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('organization_members as om')
          .select('om.user_id')
          .whereRef('om.organization_id', '=', 's.organization_id')
          .where('om.user_id', '=', userId),
      ),
    )
    .orderBy('s.updated_at', 'desc')
    .orderBy('s.id')
    .limit(STUDY_LIST_LIMIT)
    .execute();
  return rows.map(toSummary);
}

/** Organizations where the user is a researcher, so may start a study. */
export function researchOrganizationsOf(
  db: Db,
  userId: string,
): Promise<Array<{ id: string; name: string }>> {
  return db
    .selectFrom('organization_members as m')
    .innerJoin('organizations as o', 'o.id', 'm.organization_id')
    .select(['o.id', 'o.name'])
    .where('m.user_id', '=', userId)
    .where('m.role', '=', 'researcher')
    .orderBy(sql`lower(o.name)`)
    .orderBy('o.id')
    .limit(1000)
    .execute();
}

export async function insertStudy(
  db: Db,
  study: { organizationId: string; title: string; description: string; createdBy: string },
): Promise<string> {
  const row = await db
    .insertInto('studies')
    .values({
      organization_id: study.organizationId,
      title: study.title,
      description: study.description,
      created_by: study.createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateStudy(
  db: Db,
  studyId: string,
  changes: { title?: string; description?: string; status?: StudyStatus },
): Promise<void> {
  await db
    .updateTable('studies')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', studyId)
    .execute();
}

/** The study row, locked until the transaction ends (status changes queue behind each other). */
export function lockStudy(
  db: Db,
  studyId: string,
): Promise<{ status: StudyStatus; organization_id: string } | undefined> {
  return db
    .selectFrom('studies')
    .select(['status', 'organization_id'])
    .where('id', '=', studyId)
    .forUpdate()
    .executeTakeFirst();
}

/** What activating a study needs: how many cases it has, and whether a questionnaire is published. */
export async function readiness(
  db: Db,
  studyId: string,
): Promise<{ cases: number; published: boolean }> {
  const cases = await db
    .selectFrom('review_cases')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('study_id', '=', studyId)
    .executeTakeFirstOrThrow();
  const published = await db
    .selectFrom('questionnaire_versions')
    .select('id')
    .where('study_id', '=', studyId)
    .where('status', '=', 'published')
    .limit(1)
    .executeTakeFirst();
  return { cases: Number(cases.count), published: published !== undefined };
}

// ---------------------------------------------------------------------------------------------
// The team

function teamOf(db: Db, studyId: string) {
  return db
    .selectFrom('study_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select([
      'm.user_id',
      shownName.as('display_name'),
      shownEmail.as('email'),
      shownRole.as('role'),
      shownStatus.as('status'),
      'm.created_at',
    ])
    .where('m.study_id', '=', studyId)
    .where('m.removed_at', 'is', null);
}
type TeamRow = NonNullable<Awaited<ReturnType<ReturnType<typeof teamOf>['executeTakeFirst']>>>;

function toMemberView(row: TeamRow): StudyMemberView {
  return {
    userId: row.user_id,
    displayName: row.display_name,
    email: row.email,
    role: row.role,
    status: row.status,
    addedAt: row.created_at.toISOString(),
  };
}

/** The team that has not left: owner first, then researchers, then participants, by name. */
export async function listTeam(db: Db, studyId: string): Promise<StudyMemberView[]> {
  const rows = await teamOf(db, studyId)
    .orderBy(sql`case m.role when 'owner' then 0 when 'researcher' then 1 else 2 end`)
    .orderBy(sql`lower(${shownName})`)
    .orderBy('m.user_id')
    .limit(MEMBER_LIST_LIMIT)
    .execute();
  return rows.map(toMemberView);
}

export async function findTeamMember(
  db: Db,
  studyId: string,
  userId: string,
): Promise<StudyMemberView | undefined> {
  const row = await teamOf(db, studyId).where('m.user_id', '=', userId).executeTakeFirst();
  return row && toMemberView(row);
}

/** The user's team row in the study, removed or not, locked until the transaction ends. */
export function lockMembership(
  db: Db,
  studyId: string,
  userId: string,
): Promise<{ role: StudyMemberRole; removed_at: Date | null } | undefined> {
  return db
    .selectFrom('study_members')
    .select(['role', 'removed_at'])
    .where('study_id', '=', studyId)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
}

/** What an invitation of an existing account records on its team row (role 'invited'). */
export interface InvitationFields {
  /** The name the researcher typed, or the address's local part, as an unknown email's. */
  readonly shownName: string;
  /** The address as typed (trimmed), as an unknown email's account would store it. */
  readonly shownEmail: string;
  readonly lifetimeMs: number;
  readonly accountHeldByOwner: boolean;
}

/** How someone joins the team: in a study role, or invited (they take part once they accept). */
export type Joining = { readonly role: StudyRole } | { readonly invitation: InvitationFields };

function joiningColumns(joining: Joining) {
  if ('role' in joining) {
    return {
      role: joining.role,
      shown_name: null,
      shown_email: null,
      answer_by: null,
      account_held_by_owner: null,
    };
  }
  const invitation = joining.invitation;
  return {
    role: 'invited' as const,
    shown_name: invitation.shownName,
    shown_email: invitation.shownEmail,
    // The database's clock, the one every node shares, as the rest of expiry is judged.
    answer_by: sql<string>`now() + ${`${invitation.lifetimeMs} milliseconds`}::interval`,
    account_held_by_owner: invitation.accountHeldByOwner,
  };
}

interface TeamRowKey {
  readonly studyId: string;
  readonly userId: string;
  /** Who adds them now. */
  readonly addedBy: string;
}

/** Fails with the driver's unique violation when the user has a team row already. */
export async function insertMembership(
  db: Db,
  member: TeamRowKey,
  joining: Joining,
): Promise<void> {
  await db
    .insertInto('study_members')
    .values({
      study_id: member.studyId,
      user_id: member.userId,
      added_by: member.addedBy,
      ...joiningColumns(joining),
    })
    .execute();
}

/**
 * Someone who had left (or declined) comes back on the same row, no longer removed, added now by
 * `addedBy`: in their old role, or invited again (then only by accepting).
 */
export async function restoreMembership(
  db: Db,
  member: TeamRowKey,
  joining: Joining,
): Promise<void> {
  await db
    .updateTable('study_members')
    .set({ removed_at: null, added_by: member.addedBy, ...joiningColumns(joining) })
    .where('study_id', '=', member.studyId)
    .where('user_id', '=', member.userId)
    .execute();
}

export async function markRemoved(db: Db, studyId: string, userId: string): Promise<void> {
  await db
    .updateTable('study_members')
    .set({ removed_at: sql<Date>`now()` })
    .where('study_id', '=', studyId)
    .where('user_id', '=', userId)
    .where('removed_at', 'is', null)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Accounts met while adding someone to the team

/** The user's role in the organization, or undefined when they are not a member of it. */
export async function organizationRoleOf(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('organization_members')
    .select('role')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .forShare()
    .executeTakeFirst();
  return row?.role;
}
