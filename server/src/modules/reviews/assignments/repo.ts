// Assignments, randomizations and what they refer to, in the database. Every query is keyed by
// the study the caller was allowed into: a participant, case, arm or experiment id of another
// study finds nothing here, and is refused like an unknown one.
import { sql, type Kysely } from 'kysely';
import type { AssignmentSource, DatabaseSchema } from '../../../platform/db/schema.js';
import type { CaseNode, DisplayConfigView } from '../shared/schemas.js';
import type { AssignmentListFilter } from './schemas.js';
import { PARTICIPANT_ROWS, shownEmailKey, shownName } from '../shared/team-rows.js';

export type Db = Kysely<DatabaseSchema>;

/** Ids per IN list: far below PostgreSQL's 65,535 parameters per statement. */
const LOOKUP_CHUNK = 5000;
/** Assignment rows per INSERT (10 values each). */
const INSERT_CHUNK = 1000;
/** Case trees per query: a tree may be up to 2,000 nodes. */
const TREE_CHUNK = 200;

async function inChunks<T, R>(
  items: readonly T[],
  size: number,
  query: (chunk: T[]) => Promise<R[]>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await query(items.slice(start, start + size))));
  }
  return results;
}

/**
 * Team members who take part: participants whose account is not disabled, and those invited
 * (whatever their account: an invitation reads as an invited unknown email would, and work is
 * assigned to it alike; it is reached only once accepted). Not removed.
 */
function participantMembers(db: Db, studyId: string) {
  return db
    .selectFrom('study_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .where('m.study_id', '=', studyId)
    .where('m.role', 'in', PARTICIPANT_ROWS)
    .where('m.removed_at', 'is', null)
    .where((eb) => eb.or([eb('m.role', '=', 'invited'), eb('u.status', '!=', 'disabled')]));
}

/**
 * The given users that are participants of the study, their membership rows locked until
 * commit: a removal waits for this upload, and two uploads for one participant take their
 * positions one after the other.
 */
export function lockParticipants(db: Db, studyId: string, userIds: readonly string[]) {
  const sorted = [...userIds].sort();
  return inChunks(sorted, LOOKUP_CHUNK, (chunk) =>
    participantMembers(db, studyId)
      .select('m.user_id')
      .where('m.user_id', 'in', chunk)
      .orderBy('m.user_id')
      .forUpdate('m')
      .execute(),
  );
}

/** Participants of the study by normalized email (identity's lower-cased, trimmed form). */
export function participantsByEmail(db: Db, studyId: string, emails: readonly string[]) {
  return inChunks(emails, LOOKUP_CHUNK, (chunk) =>
    participantMembers(db, studyId)
      // While invited, the address the researcher typed, not the account's (A11).
      .select(['m.user_id', shownEmailKey.as('email_normalized')])
      .where(shownEmailKey, 'in', chunk)
      .execute(),
  );
}

/** Every participant of the study, in the order they joined it. */
export function allParticipants(db: Db, studyId: string) {
  return participantMembers(db, studyId)
    .select('m.user_id')
    .orderBy('m.created_at')
    .orderBy('m.user_id')
    .execute();
}

export function casesByIds(db: Db, studyId: string, caseIds: readonly string[]) {
  return inChunks(caseIds, LOOKUP_CHUNK, (chunk) =>
    db
      .selectFrom('review_cases')
      .select(['id', 'external_id'])
      .where('study_id', '=', studyId)
      .where('id', 'in', chunk)
      .execute(),
  );
}

export function casesByExternalIds(db: Db, studyId: string, externalIds: readonly string[]) {
  return inChunks(externalIds, LOOKUP_CHUNK, (chunk) =>
    db
      .selectFrom('review_cases')
      .select(['id', 'external_id'])
      .where('study_id', '=', studyId)
      .where('external_id', 'in', chunk)
      .execute(),
  );
}

/** Every case of the study, by external id (an order that is the same in a copy of the study). */
export function allCases(db: Db, studyId: string) {
  return db
    .selectFrom('review_cases')
    .select(['id', 'external_id'])
    .where('study_id', '=', studyId)
    .orderBy('external_id')
    .execute();
}

/** Calls `visit` with each case's tree, a chunk at a time, so trees never pile up in memory. */
export async function visitCaseTrees(
  db: Db,
  studyId: string,
  caseIds: readonly string[],
  visit: (caseId: string, tree: CaseNode[]) => void,
): Promise<void> {
  for (let start = 0; start < caseIds.length; start += TREE_CHUNK) {
    const rows = await db
      .selectFrom('review_cases')
      .select(['id', 'tree'])
      .where('study_id', '=', studyId)
      .where('id', 'in', caseIds.slice(start, start + TREE_CHUNK))
      .execute();
    for (const row of rows) visit(row.id, row.tree as CaseNode[]);
  }
}

/** Arms of the study: all of them, or those with the given ids. */
export function studyArms(db: Db, studyId: string, armIds?: readonly string[]) {
  const query = db
    .selectFrom('experiment_arms')
    .select(['id', 'experiment_id', 'name', 'display'])
    .where('study_id', '=', studyId)
    .orderBy('created_at')
    .orderBy(sql`lower(name)`)
    .orderBy('id');
  if (armIds === undefined) return query.execute();
  return inChunks(armIds, LOOKUP_CHUNK, (chunk) => query.where('id', 'in', chunk).execute());
}
export type ArmRow = Awaited<ReturnType<typeof studyArms>>[number];

export function findExperiment(db: Db, studyId: string, experimentId: string) {
  return db
    .selectFrom('experiments')
    .select('id')
    .where('study_id', '=', studyId)
    .where('id', '=', experimentId)
    .executeTakeFirst();
}

/** The assignments these participants already have in the study. */
export function existingAssignments(db: Db, studyId: string, participantIds: readonly string[]) {
  return inChunks(participantIds, LOOKUP_CHUNK, (chunk) =>
    db
      .selectFrom('review_assignments')
      .select(['participant_id', 'case_id', 'position'])
      .where('study_id', '=', studyId)
      .where('participant_id', 'in', chunk)
      .execute(),
  );
}

export interface NewAssignment {
  readonly participantId: string;
  readonly caseId: string;
  readonly armId: string | null;
  readonly display: DisplayConfigView;
  readonly position: number;
}

/** Inserts the batch a chunk per statement, inside the caller's transaction. */
export async function insertAssignments(
  db: Db,
  batch: {
    studyId: string;
    createdBy: string;
    source: AssignmentSource;
    randomizationId: string | null;
    assignments: readonly NewAssignment[];
  },
): Promise<void> {
  for (let start = 0; start < batch.assignments.length; start += INSERT_CHUNK) {
    await db
      .insertInto('review_assignments')
      .values(
        batch.assignments.slice(start, start + INSERT_CHUNK).map((assignment) => ({
          study_id: batch.studyId,
          participant_id: assignment.participantId,
          case_id: assignment.caseId,
          arm_id: assignment.armId,
          randomization_id: batch.randomizationId,
          display: JSON.stringify(assignment.display),
          position: assignment.position,
          source: batch.source,
          created_by: batch.createdBy,
        })),
      )
      .execute();
  }
}

/**
 * One page of the study's assignments in creation order. The cursor is the last assignment of
 * the previous page; its position in the order is read in SQL (microsecond timestamps).
 */
export function listAssignments(
  db: Db,
  studyId: string,
  filter: AssignmentListFilter & { limit: number },
) {
  // The participant's team row gives the name researchers see (the typed one while invited).
  return db
    .selectFrom('review_assignments as a')
    .innerJoin('users as u', 'u.id', 'a.participant_id')
    .leftJoin('study_members as m', (join) =>
      join.onRef('m.study_id', '=', 'a.study_id').onRef('m.user_id', '=', 'a.participant_id'),
    )
    .innerJoin('review_cases as c', 'c.id', 'a.case_id')
    .leftJoin('experiment_arms as arm', 'arm.id', 'a.arm_id')
    .select((eb) => [
      'a.id',
      'a.participant_id',
      shownName.as('display_name'),
      'a.case_id',
      'c.external_id',
      'a.arm_id',
      'arm.name as arm_name',
      'a.position',
      'a.source',
      'a.created_at',
      eb
        .exists(
          eb
            .selectFrom('review_answers as answer')
            .select('answer.id')
            .whereRef('answer.assignment_id', '=', 'a.id'),
        )
        .as('answered'),
    ])
    .where('a.study_id', '=', studyId)
    .$if(filter.participantId !== undefined, (query) =>
      query.where('a.participant_id', '=', filter.participantId!),
    )
    .$if(filter.after !== undefined, (query) =>
      query.where(
        sql<boolean>`(a.created_at, a.id) > (
          SELECT cursor.created_at, cursor.id FROM review_assignments AS cursor
          WHERE cursor.id = ${filter.after} AND cursor.study_id = ${studyId})`,
      ),
    )
    .orderBy('a.created_at')
    .orderBy('a.id')
    .limit(filter.limit + 1)
    .execute();
}
export type AssignmentRow = Awaited<ReturnType<typeof listAssignments>>[number];

export async function isStudyAssignment(db: Db, studyId: string, assignmentId: string) {
  const row = await db
    .selectFrom('review_assignments')
    .select('id')
    .where('study_id', '=', studyId)
    .where('id', '=', assignmentId)
    .executeTakeFirst();
  return row !== undefined;
}

const RANDOMIZATION_COLUMNS = [
  'id',
  'experiment_id',
  'seed',
  'cases_per_participant',
  'assignment_count',
  'created_at',
] as const;

export function insertRandomization(
  db: Db,
  run: {
    studyId: string;
    experimentId: string;
    seed: string;
    casesPerParticipant: number;
    inputs: { participantIds: string[]; caseIds: string[]; armIds: string[] };
    assignmentCount: number;
    createdBy: string;
  },
) {
  return db
    .insertInto('randomizations')
    .values({
      study_id: run.studyId,
      experiment_id: run.experimentId,
      seed: run.seed,
      cases_per_participant: run.casesPerParticipant,
      inputs: JSON.stringify(run.inputs),
      assignment_count: run.assignmentCount,
      created_by: run.createdBy,
    })
    .returning(RANDOMIZATION_COLUMNS)
    .executeTakeFirstOrThrow();
}
export type RandomizationRow = Awaited<ReturnType<typeof insertRandomization>>;

/** The study's randomizer runs, newest first. */
export function listRandomizations(db: Db, studyId: string, limit: number) {
  return db
    .selectFrom('randomizations')
    .select(RANDOMIZATION_COLUMNS)
    .where('study_id', '=', studyId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
