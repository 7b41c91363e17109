// The participant's flow (issue 10): their studies, the next case in a stable order, one case as
// its display configuration shows it, opening stamps, and exactly one answer per assignment.
// The caller reaches a study only as its participant and an assignment only as its own
// (requireAccess), inside the transaction that does the work.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { requireAccess, requireUser } from '../../../platform/access/index.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { styleCaseTree } from '../shared/display.js';
import {
  attentionProblem,
  checkAnswers,
  isAttentionPosition,
  submissionKey,
} from './answer-check.js';
import { nextWithProgress } from './next-query.js';
import * as repo from './repo.js';
import type { AssignmentRow, QuestionnaireRow } from './repo.js';
import type {
  AnswerBodyView,
  EventBodyView,
  NextView,
  ReviewViewShape,
  SubmittedAnswerView,
} from './schemas.js';
import { assessTiming, type TimingFlag } from './timing.js';

type Db = Kysely<DatabaseSchema>;
type Context = ModuleContext<Record<string, never>>;

const NOT_OPEN = 'This study is not open for reviews.';
const NO_QUESTIONNAIRE =
  'This study has no published questionnaire yet; the research team has to publish one first.';

export async function listMyStudies(ctx: Context, request: FastifyRequest) {
  const { userId } = requireUser(request);
  const rows = await repo.listParticipantStudies(ctx.db, userId);
  return rows.map((row) => ({
    id: row.id,
    title: row.title,
    description: row.description,
    status: row.status as 'active' | 'closed',
    total: Number(row.total ?? 0),
    answered: Number(row.answered ?? 0),
  }));
}

function buildReviewView(
  assignment: AssignmentRow,
  caseRow: repo.CaseRow,
  version: QuestionnaireRow,
): ReviewViewShape {
  const display = assignment.display;
  const view: ReviewViewShape = {
    id: assignment.id,
    position: assignment.position,
    answered: assignment.answered,
    case: { tree: styleCaseTree(caseRow.tree, display) },
    questionnaire: {
      versionId: version.id,
      version: version.version,
      title: version.title,
      questions: version.questions,
    },
    attentionCheck:
      version.attention_check && isAttentionPosition(version.attention_check, assignment.position)
        ? { question: version.attention_check.question }
        : null,
  };
  if (display.showAiScore && caseRow.ai_score !== null) {
    view.case.aiScore = { score: caseRow.ai_score, explanation: caseRow.ai_explanation };
  }
  return view;
}

async function loadView(
  trx: Db,
  studyId: string,
  assignment: AssignmentRow,
  versionId: string | undefined,
): Promise<ReviewViewShape> {
  const version = versionId
    ? await repo.versionById(trx, studyId, versionId)
    : await repo.newestPublishedVersion(trx, studyId);
  if (!version) throw new HavenError('CONFLICT', NO_QUESTIONNAIRE);
  const caseRow = await repo.findCase(trx, studyId, assignment.case_id);
  if (!caseRow) throw new HavenError('NOT_FOUND', 'No such assignment.');
  return buildReviewView(assignment, caseRow, version);
}

/**
 * The first unanswered assignment, stamped as opened (first delivery wins). No transaction: at
 * READ COMMITTED each statement sees what was committed when it began, with or without one, and
 * the only write (the first opening stamp) is one idempotent statement. BEGIN and COMMIT would
 * add two round trips to the two (access; next with its version) a participant waits on.
 */
export async function nextCase(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<NextView> {
  const access = await requireAccess(ctx.db, request, 'study:participate', { studyId });
  if (access.status !== 'active') throw new HavenError('CONFLICT', NOT_OPEN);
  // The next assignment, its case, the progress counts and the version in one query (repo.ts).
  const { next, progress, version } = await nextWithProgress(ctx.db, access.studyId, access.userId);
  if (!next) {
    return {
      done: true as const,
      progress: { position: progress.total, answered: progress.answered, total: progress.total },
    };
  }
  if (!version) throw new HavenError('CONFLICT', NO_QUESTIONNAIRE);
  if (!next.case) throw new HavenError('NOT_FOUND', 'No such assignment.');
  const assignment = buildReviewView(next, next.case, version);
  // First delivery wins, so a stamped opening is left alone without asking the database to:
  // INSERT … ON CONFLICT DO UPDATE locks the row even when its WHERE skips the update, and
  // that lock is a write the commit must flush, on every repeated `next` (issue 10 bench).
  if (!next.opened) {
    await repo.stampOpening(ctx.db, {
      assignmentId: next.id,
      studyId: access.studyId,
      kind: 'case_opened',
      at: ctx.now(),
      clientAt: null,
    });
  }
  return {
    done: false as const,
    progress: { position: progress.rank, answered: progress.answered, total: progress.total },
    assignment,
  };
}

/** One of the caller's own assignments; an answered one shows the version it was answered in. */
export async function readAssignment(
  ctx: Context,
  request: FastifyRequest,
  assignmentId: string,
): Promise<ReviewViewShape> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'assignment:read', { assignmentId });
    const assignment = await repo.findAssignment(trx, access.assignmentId, access.studyId);
    if (!assignment) throw new HavenError('NOT_FOUND', 'No such assignment.');
    const answer = assignment.answered ? await repo.findAnswer(trx, assignment.id) : undefined;
    const view = await loadView(trx, access.studyId, assignment, answer?.questionnaire_version_id);
    if (!assignment.answered && access.status === 'active') {
      await repo.stampOpening(trx, {
        assignmentId: assignment.id,
        studyId: access.studyId,
        kind: 'case_opened',
        at: ctx.now(),
        clientAt: null,
      });
    }
    return view;
  });
}

function parseInstant(value: string | undefined, field: string): Date | null {
  if (value === undefined) return null;
  const instant = new Date(value);
  // A time the database cannot store (year 0, or one JS rolled over) is refused, never stored.
  if (!Number.isFinite(instant.getTime()) || instant.getUTCFullYear() < 1970) {
    throw new HavenError('VALIDATION_FAILED', 'A time is not valid.', {
      errors: [{ field, message: 'Give an ISO 8601 time after 1970.' }],
    });
  }
  return instant;
}

/** Records the case or the answer form being opened; the first of each is kept. */
export async function recordEvent(
  ctx: Context,
  request: FastifyRequest,
  assignmentId: string,
  body: EventBodyView,
): Promise<void> {
  const clientAt = parseInstant(body.clientAt, 'clientAt');
  await ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'assignment:answer', { assignmentId });
    if (access.status !== 'active') throw new HavenError('CONFLICT', NOT_OPEN);
    const stamped = await repo.stampOpening(trx, {
      assignmentId: access.assignmentId,
      studyId: access.studyId,
      kind: body.type,
      at: ctx.now(),
      clientAt,
    });
    if (stamped) {
      await recordUserEvent(trx, access.userId, requestContext(request), {
        action: 'review.timing_recorded',
        target: { type: 'review_assignment', id: access.assignmentId },
        details: { assignmentId: access.assignmentId, studyId: access.studyId, event: body.type },
      });
    }
  });
}

type Submission =
  | { readonly created: true; readonly answer: SubmittedAnswerView }
  | { readonly created: false; readonly answer: SubmittedAnswerView };

async function storedSubmission(
  trx: Db,
  assignmentId: string,
  stored: repo.StoredAnswer,
  key: string,
): Promise<Submission> {
  if (stored.submission_key !== key) {
    throw new HavenError(
      'CONFLICT',
      'This case was already answered differently; a submitted answer cannot be changed.',
    );
  }
  const timing = await repo.findTiming(trx, assignmentId);
  return {
    created: false,
    answer: {
      id: stored.id,
      submittedAt: stored.submitted_at.toISOString(),
      flags: (timing?.flags ?? []) as TimingFlag[],
    },
  };
}

/**
 * The participant's one answer to an assignment. The same submission again answers 200 with the
 * stored answer; a different one 409. Two concurrent submissions meet at the unique assignment
 * id: one row is written, and the other request is judged against it.
 */
export async function submitAnswer(
  ctx: Context,
  request: FastifyRequest,
  assignmentId: string,
  body: AnswerBodyView,
): Promise<Submission> {
  const client = {
    caseOpenedAt: parseInstant(body.timing?.caseOpenedAt, 'timing.caseOpenedAt'),
    formOpenedAt: parseInstant(body.timing?.formOpenedAt, 'timing.formOpenedAt'),
    submittedAt: parseInstant(body.timing?.submittedAt, 'timing.submittedAt'),
  };
  const key = submissionKey({
    questionnaireVersionId: body.questionnaireVersionId,
    answers: body.answers,
    attention: body.attention,
  });
  return ctx.db.transaction().execute(async (trx): Promise<Submission> => {
    const access = await requireAccess(trx, request, 'assignment:answer', { assignmentId });
    const existing = await repo.findAnswer(trx, access.assignmentId);
    if (existing) return storedSubmission(trx, access.assignmentId, existing, key);
    if (access.status !== 'active') throw new HavenError('CONFLICT', NOT_OPEN);

    const version = await repo.newestPublishedVersion(trx, access.studyId);
    if (!version || version.id !== body.questionnaireVersionId) {
      throw new HavenError('CONFLICT', 'The questionnaire changed; reload the case to see it.');
    }
    const assignment = await repo.findAssignment(trx, access.assignmentId, access.studyId);
    const caseRow = assignment && (await repo.findCase(trx, access.studyId, assignment.case_id));
    if (!assignment || !caseRow) throw new HavenError('NOT_FOUND', 'No such assignment.');

    const checked = checkAnswers(version.questions, body.answers);
    const attentionError = attentionProblem(
      version.attention_check,
      assignment.position,
      body.attention,
    );
    const errors = attentionError ? [...checked.errors, attentionError] : checked.errors;
    if (errors.length > 0) {
      throw new HavenError('VALIDATION_FAILED', 'Some answers cannot be accepted.', { errors });
    }

    const now = ctx.now();
    const inserted = await repo.insertAnswer(trx, {
      assignmentId: access.assignmentId,
      studyId: access.studyId,
      participantId: access.userId,
      questionnaireVersionId: version.id,
      answers: checked.answers,
      display: assignment.display,
      aiScoreShown: assignment.display.showAiScore && caseRow.ai_score !== null,
      submissionKey: key,
      submittedAt: now,
    });
    if (!inserted) {
      // A concurrent submission won the unique assignment id and has committed by now.
      const winner = await repo.findAnswer(trx, access.assignmentId);
      if (!winner) throw new HavenError('CONFLICT', 'This case is being answered; try again.');
      return storedSubmission(trx, access.assignmentId, winner, key);
    }

    const opened = await repo.findTiming(trx, access.assignmentId);
    const assessment = assessTiming(
      {
        caseOpenedAt: opened?.case_opened_at ?? null,
        formOpenedAt: opened?.form_opened_at ?? null,
        submittedAt: inserted.submitted_at,
      },
      {
        caseOpenedAt: client.caseOpenedAt ?? opened?.client_case_opened_at ?? null,
        formOpenedAt: client.formOpenedAt ?? opened?.client_form_opened_at ?? null,
        submittedAt: client.submittedAt,
      },
    );
    await repo.saveSubmittedTiming(trx, {
      assignmentId: access.assignmentId,
      studyId: access.studyId,
      submittedAt: inserted.submitted_at,
      clientCaseOpenedAt: client.caseOpenedAt ?? opened?.client_case_opened_at ?? null,
      clientFormOpenedAt: client.formOpenedAt ?? opened?.client_form_opened_at ?? null,
      clientSubmittedAt: client.submittedAt,
      readingMs: assessment.readingMs,
      answeringMs: assessment.answeringMs,
      totalMs: assessment.totalMs,
      flags: assessment.flags,
    });

    const check = version.attention_check;
    if (check && body.attention && isAttentionPosition(check, assignment.position)) {
      await repo.insertAttentionResult(trx, {
        studyId: access.studyId,
        participantId: access.userId,
        assignmentId: access.assignmentId,
        questionnaireVersionId: version.id,
        expected: check.expected,
        given: body.attention.answer,
        passed: body.attention.answer === check.expected,
      });
    }

    // Ids only: the answers themselves never enter the audit log.
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'review.answer_submitted',
      target: { type: 'review_assignment', id: access.assignmentId },
      details: {
        assignmentId: access.assignmentId,
        studyId: access.studyId,
        answerId: inserted.id,
        questionnaireVersionId: version.id,
      },
    });
    return {
      created: true,
      answer: {
        id: inserted.id,
        submittedAt: inserted.submitted_at.toISOString(),
        flags: assessment.flags,
      },
    };
  });
}
