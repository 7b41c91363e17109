// The next-case query of the participant's flow (issue 10's `next case` benchmark row): the
// participant's first unanswered assignment with everything the route shows, in one statement.
// Keyed by the participant and the study requireAccess returned, like every query in repo.ts.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { DisplayConfigView } from '../shared/schemas.js';
import {
  answeredFlag,
  newestPublishedSql,
  type AssignmentRow,
  type CaseRow,
  type QuestionnaireRow,
} from './repo.js';

type Db = Kysely<DatabaseSchema>;

export interface NextWithProgress {
  /**
   * The first unanswered assignment in position order, with its case and whether its opening
   * was already stamped; undefined when done.
   */
  next: (AssignmentRow & { case: CaseRow | undefined; opened: boolean }) | undefined;
  progress: { total: number; answered: number; rank: number };
  /** The study's newest published questionnaire version (read only when there is a next). */
  version: QuestionnaireRow | undefined;
}

/**
 * The participant's first unanswered assignment in position order, its case, how far the
 * participant is (assignments in all, answered, and the rank of that assignment's position) and
 * the questionnaire version to show with it, in one round trip: the participant's assignments
 * come from an index on (participant_id, study_id, …) and each answered check is a probe of the
 * unique review_answers (assignment_id) index. The version is read in the same statement because
 * a round trip costs the server more than the query (issue 10 bench: every statement is a socket
 * write, a read and a parse on the one event loop that serves all participants), and the three
 * counts are one aggregate over `mine` rather than three subqueries because planning, not
 * running, is most of this statement's time in PostgreSQL.
 */
export async function nextWithProgress(
  db: Db,
  studyId: string,
  participantId: string,
): Promise<NextWithProgress> {
  const result = await sql<{
    total: string | number;
    answered: string | number;
    rank: string | number;
    id: string | null;
    study_id: string;
    case_id: string;
    position: number;
    display: DisplayConfigView;
    case_found: boolean | null;
    opened: boolean | null;
    tree: CaseRow['tree'];
    ai_score: CaseRow['ai_score'];
    ai_explanation: CaseRow['ai_explanation'];
    version_id: string | null;
    version: number;
    title: string;
    questions: QuestionnaireRow['questions'];
    attention_check: QuestionnaireRow['attention_check'];
  }>`
    with mine as (
      select a.id, a.study_id, a.case_id, a.position, a.display, ${answeredFlag} as answered
      from review_assignments a
      where a.participant_id = ${participantId} and a.study_id = ${studyId}
    ),
    next as (
      select * from mine where not answered order by position limit 1
    )
    select p.total, p.answered, p.rank,
      n.id, n.study_id, n.case_id, n.position, n.display,
      c.id is not null as case_found, c.tree, c.ai_score, c.ai_explanation,
      exists (
        select 1 from review_timings t where t.assignment_id = n.id and t.case_opened_at is not null
      ) as opened,
      v.id as version_id, v.version, v.title, v.questions, v.attention_check
    from (
      select count(*) as total, count(*) filter (where answered) as answered,
             count(*) filter (where position <= coalesce((select position from next), 0)) as rank
      from mine
    ) as p
    left join next n on true
    left join review_cases c on c.id = n.case_id and c.study_id = ${studyId}
    left join lateral (${newestPublishedSql(studyId)}) as v on n.id is not null
  `.execute(db);
  const row = result.rows[0]!;
  const progress = {
    total: Number(row.total),
    answered: Number(row.answered),
    rank: Number(row.rank),
  };
  if (row.id === null) return { next: undefined, progress, version: undefined };
  const version: QuestionnaireRow | undefined =
    row.version_id === null
      ? undefined
      : {
          id: row.version_id,
          version: row.version,
          title: row.title,
          questions: row.questions,
          attention_check: row.attention_check,
        };
  return {
    next: {
      id: row.id,
      study_id: row.study_id,
      case_id: row.case_id,
      position: row.position,
      display: row.display,
      answered: false,
      opened: row.opened === true,
      case: row.case_found
        ? { tree: row.tree, ai_score: row.ai_score, ai_explanation: row.ai_explanation }
        : undefined,
    },
    progress,
    version,
  };
}
