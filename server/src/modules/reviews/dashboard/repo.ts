// The dashboard's aggregates. Each is computed by the database and returns one row per
// participant, arm or (case, category): never one row per answer, so memory stays bounded by the
// study's design, not by how many answers it collected.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { QuestionView } from '../shared/schemas.js';
import { PARTICIPANT_ROWS, shownName } from '../shared/team-rows.js';

type Db = Kysely<DatabaseSchema>;

export interface DurationRow {
  count: number | string;
  median: number | string | null;
  q1: number | string | null;
  q3: number | string | null;
}

/** Count, median and quartiles of a bigint column (linear interpolation, like R's type 7). */
const quartiles = (column: RawBuilder<unknown>) => [
  sql<number>`count(${column})`.as('count'),
  sql<number | null>`percentile_cont(0.5) within group (order by ${column})`.as('median'),
  sql<number | null>`percentile_cont(0.25) within group (order by ${column})`.as('q1'),
  sql<number | null>`percentile_cont(0.75) within group (order by ${column})`.as('q3'),
];

export async function participantProgress(db: Db, studyId: string) {
  return db
    .selectFrom('study_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select((eb) => [
      'm.user_id',
      shownName.as('display_name'),
      'm.removed_at',
      eb
        .selectFrom('review_assignments as a')
        .select(eb.fn.countAll<number>().as('n'))
        .where('a.study_id', '=', studyId)
        .whereRef('a.participant_id', '=', 'm.user_id')
        .as('assigned'),
      eb
        .selectFrom('review_answers as r')
        .select(eb.fn.countAll<number>().as('n'))
        .where('r.study_id', '=', studyId)
        .whereRef('r.participant_id', '=', 'm.user_id')
        .as('answered'),
      eb
        .selectFrom('attention_results as t')
        .select(sql<number>`count(*) filter (where t.passed)`.as('n'))
        .where('t.study_id', '=', studyId)
        .whereRef('t.participant_id', '=', 'm.user_id')
        .as('attention_passed'),
      eb
        .selectFrom('attention_results as t')
        .select(sql<number>`count(*) filter (where not t.passed)`.as('n'))
        .where('t.study_id', '=', studyId)
        .whereRef('t.participant_id', '=', 'm.user_id')
        .as('attention_failed'),
    ])
    .where('m.study_id', '=', studyId)
    .where('m.role', 'in', PARTICIPANT_ROWS)
    .orderBy(shownName)
    .orderBy('m.user_id')
    .execute();
}

export async function armProgress(db: Db, studyId: string) {
  return db
    .selectFrom('review_assignments as a')
    .leftJoin('experiment_arms as e', 'e.id', 'a.arm_id')
    .leftJoin('review_answers as r', 'r.assignment_id', 'a.id')
    .leftJoin('review_timings as t', (join) =>
      join.onRef('t.assignment_id', '=', 'a.id').on('t.submitted_at', 'is not', null),
    )
    .select((eb) => [
      'a.arm_id',
      eb.fn.max('e.name').as('arm_name'),
      eb.fn.countAll<number>().as('assigned'),
      eb.fn.count<number>('r.id').as('answered'),
      ...quartiles(sql.ref('t.total_ms')),
    ])
    .where('a.study_id', '=', studyId)
    .groupBy('a.arm_id')
    .orderBy(sql`max(e.name)`)
    .execute();
}

export async function attentionTotals(db: Db, studyId: string) {
  return db
    .selectFrom('attention_results')
    .select([
      sql<number>`count(*) filter (where passed)`.as('passed'),
      sql<number>`count(*) filter (where not passed)`.as('failed'),
    ])
    .where('study_id', '=', studyId)
    .executeTakeFirstOrThrow();
}

export async function durationTotals(
  db: Db,
  studyId: string,
  column: 'total_ms' | 'reading_ms' | 'answering_ms',
) {
  return db
    .selectFrom('review_timings as t')
    .select(quartiles(sql.ref(`t.${column}`)))
    .where('t.study_id', '=', studyId)
    .where('t.submitted_at', 'is not', null)
    .executeTakeFirstOrThrow() as Promise<DurationRow>;
}

export async function newestPublishedQuestions(db: Db, studyId: string): Promise<QuestionView[]> {
  const row = await db
    .selectFrom('questionnaire_versions')
    .select('questions')
    .where('study_id', '=', studyId)
    .where('status', '=', 'published')
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return (row?.questions as QuestionView[] | undefined) ?? [];
}

/** Per case and arm, how many participants chose each option of one single-choice question. */
export async function categoryCounts(db: Db, studyId: string, questionId: string) {
  const value = sql<string>`r.answers ->> ${questionId}`;
  return (
    db
      .selectFrom('review_answers as r')
      .innerJoin('review_assignments as a', 'a.id', 'r.assignment_id')
      .select(['a.case_id', 'a.arm_id', value.as('value')])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('r.study_id', '=', studyId)
      .where(sql<boolean>`jsonb_typeof(r.answers -> ${questionId}) = 'string'`)
      // By position: the value expression carries a bound parameter, and PostgreSQL does not
      // match `answers ->> $1` in the select list with `answers ->> $3` in GROUP BY.
      .groupBy([sql`1`, sql`2`, sql`3`])
      .execute()
  );
}

/**
 * Cohen's contingency table of one question over the cases rated exactly twice (in one arm, or
 * in all): the first rater of a case is the participant with the lower id, so when the same two
 * people rated every case this is exactly their two-rater table.
 */
export async function ratingPairs(
  db: Db,
  studyId: string,
  questionId: string,
  armId: string | undefined,
) {
  const value = sql<string>`r.answers ->> ${questionId}`;
  const perCase = db
    .selectFrom('review_answers as r')
    .innerJoin('review_assignments as a', 'a.id', 'r.assignment_id')
    .select([
      sql<string>`(array_agg(${value} order by r.participant_id))[1]`.as('first'),
      sql<string>`(array_agg(${value} order by r.participant_id))[2]`.as('second'),
    ])
    .where('r.study_id', '=', studyId)
    .where(sql<boolean>`jsonb_typeof(r.answers -> ${questionId}) = 'string'`)
    .$if(armId !== undefined, (qb) => qb.where('a.arm_id', '=', armId!))
    .groupBy('a.case_id')
    .having(sql<boolean>`count(*) = 2`);
  return db
    .selectFrom(perCase.as('p'))
    .select(['p.first', 'p.second'])
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .groupBy(['p.first', 'p.second'])
    .execute();
}
