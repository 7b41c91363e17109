// The assignments and participants exports: the study's design and its people (source-kit.ts).
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import {
  ANSWERED,
  INSTANT_ID,
  UUID,
  badCursor,
  isInstantIdCursor,
  microInstant,
  pageEndOf,
  type ExportSource,
  type Window,
} from './source-kit.js';
import { PARTICIPANT_ROWS, shownEmail, shownName, shownStatus } from '../shared/team-rows.js';

type Db = Kysely<DatabaseSchema>;

function assignmentsQuery(db: Db, studyId: string, window: Window) {
  const parse = (cursor: string) => INSTANT_ID.exec(cursor) ?? badCursor();
  return db
    .selectFrom('review_assignments as a')
    .where('a.study_id', '=', studyId)
    .$if(window.since !== null, (qb) => qb.where('a.created_at', '>=', window.since!))
    .$if(window.after !== null, (qb) => {
      const [, instant, id] = parse(window.after!);
      return qb.where(sql<boolean>`(a.created_at, a.id) > (${instant}::timestamptz, ${id}::uuid)`);
    })
    .$if(window.upTo !== null, (qb) => {
      const [, instant, id] = parse(window.upTo!);
      return qb.where(sql<boolean>`(a.created_at, a.id) <= (${instant}::timestamptz, ${id}::uuid)`);
    })
    .orderBy('a.created_at')
    .orderBy('a.id');
}

const ASSIGNMENT_COLUMNS = [
  'assignment_id',
  'participant_id',
  'case_id',
  'case_external_id',
  'arm_id',
  'arm_name',
  'randomization_id',
  'position',
  'source',
  'show_ai_score',
  'display',
  'answered',
  'created_at',
] as const;

export const assignments: ExportSource = {
  async columns() {
    return [...ASSIGNMENT_COLUMNS];
  },
  checkCursor(cursor) {
    if (!isInstantIdCursor(cursor)) badCursor();
  },
  async pageEnd(db, studyId, window, limit) {
    const keys = assignmentsQuery(db, studyId, window)
      .select(['a.id'])
      .select(microInstant('a.created_at').as('created_key'));
    return pageEndOf(db, keys, limit, (row) => `${row.created_key}~${row.id}`);
  },
  async page(db, studyId, window, size) {
    const rows = await assignmentsQuery(db, studyId, window)
      .innerJoin('review_cases as c', 'c.id', 'a.case_id')
      .leftJoin('experiment_arms as e', 'e.id', 'a.arm_id')
      .select([
        'a.id',
        'a.participant_id',
        'a.case_id',
        'c.external_id',
        'a.arm_id',
        'e.name as arm_name',
        'a.randomization_id',
        'a.position',
        'a.source',
        'a.display',
        'a.created_at',
      ])
      .select(microInstant('a.created_at').as('created_key'))
      .select(ANSWERED.as('answered'))
      .limit(size)
      .execute();
    return rows.map((row) => {
      const display = row.display as { showAiScore?: boolean };
      return {
        cursor: `${row.created_key}~${row.id}`,
        cells: {
          assignment_id: row.id,
          participant_id: row.participant_id,
          case_id: row.case_id,
          case_external_id: row.external_id,
          arm_id: row.arm_id,
          arm_name: row.arm_name,
          randomization_id: row.randomization_id,
          position: row.position,
          source: row.source,
          show_ai_score: display.showAiScore === true,
          display: row.display,
          answered: row.answered,
          created_at: row.created_at,
        },
      };
    });
  },
};

function participantsQuery(db: Db, studyId: string, window: Window) {
  return db
    .selectFrom('study_members as m')
    .where('m.study_id', '=', studyId)
    .where('m.role', 'in', PARTICIPANT_ROWS)
    .$if(window.since !== null, (qb) =>
      qb.where((eb) =>
        eb.or([eb('m.created_at', '>=', window.since!), eb('m.removed_at', '>=', window.since!)]),
      ),
    )
    .$if(window.after !== null, (qb) => qb.where('m.user_id', '>', window.after!))
    .$if(window.upTo !== null, (qb) => qb.where('m.user_id', '<=', window.upTo!))
    .orderBy('m.user_id');
}

const PARTICIPANT_COLUMNS = [
  'user_id',
  'display_name',
  'email',
  'status',
  'added_at',
  'removed_at',
  'assigned',
  'answered',
  'attention_passed',
  'attention_failed',
] as const;

export const participants: ExportSource = {
  async columns() {
    return [...PARTICIPANT_COLUMNS];
  },
  checkCursor(cursor) {
    if (!UUID.test(cursor)) badCursor();
  },
  async pageEnd(db, studyId, window, limit) {
    const keys = participantsQuery(db, studyId, window).select('m.user_id');
    return pageEndOf(db, keys, limit, (row) => row.user_id);
  },
  async page(db, studyId, window, size) {
    const rows = await participantsQuery(db, studyId, window)
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select([
        'm.user_id',
        shownName.as('display_name'),
        shownEmail.as('email'),
        shownStatus.as('status'),
        'm.created_at',
        'm.removed_at',
      ])
      .select([
        sql<number>`(select count(*) from review_assignments a where a.study_id = m.study_id and a.participant_id = m.user_id)`.as(
          'assigned',
        ),
        sql<number>`(select count(*) from review_answers r where r.study_id = m.study_id and r.participant_id = m.user_id)`.as(
          'answered',
        ),
        sql<number>`(select count(*) from attention_results t where t.study_id = m.study_id and t.participant_id = m.user_id and t.passed)`.as(
          'attention_passed',
        ),
        sql<number>`(select count(*) from attention_results t where t.study_id = m.study_id and t.participant_id = m.user_id and not t.passed)`.as(
          'attention_failed',
        ),
      ])
      .limit(size)
      .execute();
    return rows.map((row) => ({
      cursor: row.user_id,
      cells: {
        user_id: row.user_id,
        display_name: row.display_name,
        email: row.email,
        status: row.status,
        added_at: row.created_at,
        removed_at: row.removed_at,
        assigned: Number(row.assigned),
        answered: Number(row.answered),
        attention_passed: Number(row.attention_passed),
        attention_failed: Number(row.attention_failed),
      },
    }));
  },
};
