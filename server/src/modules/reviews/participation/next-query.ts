// The participant's next case: one query for the next unanswered assignment, its case, the
// progress counts and the questionnaire version, on the path a participant waits on between
// cases (issue 10 bench: `next case` p99). Keyed, like every query of the flow, by the
// participant and the study that requireAccess returned.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { AttentionCheckView, DisplayConfigView, QuestionView } from '../shared/schemas.js';
import { answeredFlag, type AssignmentRow, type CaseRow, type QuestionnaireRow } from './repo.js';

type Db = Kysely<DatabaseSchema>;

export interface NextWithProgress {
  /**
   * The first unanswered assignment in position order, with its case and whether its opening
   * was already stamped; undefined when done.
   */
  next: (AssignmentRow & { case: CaseRow | undefined; opened: boolean }) | undefined;
  progress: { total: number; answered: number; rank: number };
  /** The study's newest published questionnaire version (what the next case is answered in). */
  version: QuestionnaireRow | undefined;
}

/**
 * The participant's first unanswered assignment in position order, its case, and how far the
 * participant is (assignments in all, answered, and the rank of that assignment's position), and
 * the questionnaire version to answer it in (as newestPublishedVersion), in one round trip: the participant's assignments come from review_assignments_order_idx
 * (participant_id, study_id, position) and each answered check is a probe of the unique
 * review_answers (assignment_id) index.
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
    q_id: string | null;
    q_version: number | null;
    q_title: string | null;
    q_questions: QuestionView[] | null;
    q_attention_check: AttentionCheckView | null;
    tree: CaseRow['tree'];
    ai_score: CaseRow['ai_score'];
    ai_explanation: CaseRow['ai_explanation'];
  }>`
    with mine as (
      select a.id, a.study_id, a.case_id, a.position, a.display, ${answeredFlag} as answered
      from review_assignments a
      where a.participant_id = ${participantId} and a.study_id = ${studyId}
    ),
    next as (
      select * from mine where not answered order by position limit 1
    )
    select
      (select count(*) from mine) as total,
      (select count(*) from mine where answered) as answered,
      (select count(*) from mine where position <= coalesce((select position from next), 0)) as rank,
      n.id, n.study_id, n.case_id, n.position, n.display,
      c.id is not null as case_found, c.tree, c.ai_score, c.ai_explanation,
      exists (
        select 1 from review_timings t where t.assignment_id = n.id and t.case_opened_at is not null
      ) as opened,
      q.id as q_id, q.version as q_version, q.title as q_title, q.questions as q_questions,
      q.attention_check as q_attention_check
    from (select 1) as one
    left join next n on true
    left join review_cases c on c.id = n.case_id and c.study_id = ${studyId}
    left join lateral (
      select v.id, v.version, v.title, v.questions, v.attention_check
      from questionnaire_versions v
      where v.study_id = ${studyId} and v.status = 'published'
      order by v.version desc
      limit 1
    ) q on true
  `.execute(db);
  const row = result.rows[0]!;
  const progress = {
    total: Number(row.total),
    answered: Number(row.answered),
    rank: Number(row.rank),
  };
  const version: QuestionnaireRow | undefined =
    row.q_id === null
      ? undefined
      : {
          id: row.q_id,
          version: row.q_version!,
          title: row.q_title!,
          questions: row.q_questions!,
          attention_check: row.q_attention_check,
        };
  if (row.id === null) return { next: undefined, progress, version };
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
