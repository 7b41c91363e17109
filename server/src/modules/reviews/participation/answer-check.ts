// A participant's answers checked against the questionnaire version they answer, and the key
// that recognises the same submission when it is sent again. Pure: no database, no clock.
import { createHash } from 'node:crypto';
import type { FieldError } from '../../../platform/errors.js';
import {
  MAX_QUESTIONS,
  NODE_KEY_PATTERN,
  type AttentionCheckView,
  type QuestionView,
} from '../shared/schemas.js';

export const TEXT_ANSWER_LIMIT = 1_000;
export const PARAGRAPH_ANSWER_LIMIT = 10_000;

export type AnswerValue = string | string[] | number;
export type AnswerMap = Record<string, AnswerValue>;

const QUESTION_ID = new RegExp(NODE_KEY_PATTERN);

/** Length as the database's length() counts it: code points, not UTF-16 units. */
const codePoints = (value: string): number => Array.from(value).length;

function isAnswerMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBlank(value: unknown): boolean {
  return (
    value === undefined ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

function optionValues(question: QuestionView): Set<string> {
  return new Set((question.options ?? []).map((option) => option.value));
}

/** Why `value` is not an acceptable answer to `question`, or undefined when it is. */
function answerProblem(question: QuestionView, value: unknown): string | undefined {
  switch (question.type) {
    case 'text':
    case 'paragraph': {
      if (typeof value !== 'string') return 'Give this answer as text.';
      const limit = question.type === 'text' ? TEXT_ANSWER_LIMIT : PARAGRAPH_ANSWER_LIMIT;
      if (codePoints(value) > limit) return `At most ${limit.toLocaleString('en')} characters.`;
      return undefined;
    }
    case 'single': {
      if (typeof value !== 'string' || !optionValues(question).has(value)) {
        return 'Choose one of the offered options.';
      }
      return undefined;
    }
    case 'multiple': {
      if (!Array.isArray(value)) return 'Give the chosen options as a list.';
      const offered = optionValues(question);
      const seen = new Set<string>();
      for (const choice of value) {
        if (typeof choice !== 'string' || !offered.has(choice)) {
          return 'Choose only offered options.';
        }
        if (seen.has(choice)) return 'Choose each option at most once.';
        seen.add(choice);
      }
      return undefined;
    }
    case 'scale': {
      const scale = question.scale;
      if (typeof value !== 'number' || !Number.isFinite(value) || scale === undefined) {
        return 'Give a number on the scale.';
      }
      const step = scale.step ?? 1;
      if (value < scale.min || value > scale.max || (value - scale.min) % step !== 0) {
        return `Choose a value from ${scale.min} to ${scale.max} in steps of ${step}.`;
      }
      return undefined;
    }
  }
}

/**
 * The answers as stored, or the field errors that refuse them: every question id must be in the
 * version, every required question answered, every value of the question's type and options.
 */
export function checkAnswers(
  questions: readonly QuestionView[],
  answers: unknown,
): { answers: AnswerMap; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const accepted: AnswerMap = {};
  if (!isAnswerMap(answers)) {
    return {
      answers: accepted,
      errors: [{ field: 'answers', message: 'Give the answers by question id.' }],
    };
  }
  const byId = new Map(questions.map((question) => [question.id, question]));
  const ids = Object.keys(answers);
  if (ids.length > MAX_QUESTIONS) {
    return {
      answers: accepted,
      errors: [{ field: 'answers', message: `At most ${MAX_QUESTIONS} answers.` }],
    };
  }
  for (const id of ids) {
    const field = QUESTION_ID.test(id) && id.length <= 64 ? `answers.${id}` : 'answers';
    const question = byId.get(id);
    if (!question) {
      errors.push({ field, message: 'This question is not in the questionnaire version.' });
      continue;
    }
    const value = answers[id];
    if (isBlank(value)) continue;
    const problem = answerProblem(question, value);
    if (problem) errors.push({ field, message: problem });
    else accepted[id] = value as AnswerValue;
  }
  for (const question of questions) {
    if (question.required && isBlank(answers[question.id])) {
      errors.push({ field: `answers.${question.id}`, message: 'This question needs an answer.' });
    }
  }
  return { answers: accepted, errors };
}

/** Whether the assignment at `position` carries the version's attention check. */
export function isAttentionPosition(check: AttentionCheckView | null, position: number): boolean {
  return check !== null && position % check.every === 0;
}

/** The attention answer's problem (missing, not an option, or not expected here), if any. */
export function attentionProblem(
  check: AttentionCheckView | null,
  position: number,
  attention: { answer: string } | undefined,
): FieldError | undefined {
  if (!isAttentionPosition(check, position)) {
    return attention === undefined
      ? undefined
      : { field: 'attention', message: 'This case has no attention check.' };
  }
  if (attention === undefined) {
    return { field: 'attention.answer', message: 'Answer the attention check.' };
  }
  if (!optionValues(check!.question).has(attention.answer)) {
    return { field: 'attention.answer', message: 'Choose one of the offered options.' };
  }
  return undefined;
}

/** JSON with object keys sorted at every level: equal submissions give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * SHA-256 of what the participant decided (version, answers, attention answer); the timing is
 * left out, since a retry of the same submission reports it again with other client stamps.
 */
export function submissionKey(submission: {
  questionnaireVersionId: string;
  answers: unknown;
  attention: { answer: string } | undefined;
}): string {
  const canonical = canonicalJson({
    questionnaireVersionId: submission.questionnaireVersionId,
    answers: submission.answers,
    attention: submission.attention?.answer ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
