// The participant's flow: their studies, the next case, one assignment, timing events, answers.
import { Type, type Static, type TSchema } from 'typebox';
import type { StyledNode } from '../shared/display.js';
import {
  CASE_LIMITS,
  MAX_QUESTIONS,
  NodeKey,
  NodeValue,
  Question,
  Uuid,
  line,
  AnswerValues,
} from '../shared/schemas.js';

/**
 * A case node as the participant sees it (shared/display.ts builds it): unrolled level by level
 * like the case tree itself, so the serializer walks a finite shape.
 */
function styledNodeAt(level: number): TSchema {
  const properties: Record<string, TSchema> = {
    key: NodeKey,
    label: line(CASE_LIMITS.labelLength, 1),
    value: Type.Optional(NodeValue),
    unit: Type.Optional(line(CASE_LIMITS.unitLength)),
    collapsed: Type.Boolean(),
    highlighted: Type.Boolean(),
    pinned: Type.Union([Type.Integer(), Type.Null()]),
  };
  if (level < CASE_LIMITS.depth) {
    properties.children = Type.Optional(
      Type.Array(styledNodeAt(level + 1), { maxItems: CASE_LIMITS.children }),
    );
  }
  return Type.Object(properties, { additionalProperties: false });
}

export const StyledTree = Type.Array(styledNodeAt(1), { maxItems: CASE_LIMITS.children });

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });
export const AssignmentParams = Type.Object(
  { assignmentId: Uuid },
  { additionalProperties: false },
);

const Instant = Type.String({ format: 'date-time', maxLength: 40 });

export const ParticipantStudies = Type.Object({
  studies: Type.Array(
    Type.Object({
      id: Type.String(),
      title: Type.String(),
      description: Type.String(),
      status: Type.Union([Type.Literal('active'), Type.Literal('closed')]),
      total: Type.Integer(),
      answered: Type.Integer(),
    }),
  ),
});

export const ReviewView = Type.Object({
  id: Type.String(),
  position: Type.Integer(),
  answered: Type.Boolean(),
  case: Type.Object({
    tree: Type.Unsafe<StyledNode[]>(StyledTree),
    aiScore: Type.Optional(
      Type.Object({ score: Type.Number(), explanation: Type.Union([Type.String(), Type.Null()]) }),
    ),
  }),
  questionnaire: Type.Object({
    versionId: Type.String(),
    version: Type.Integer(),
    title: Type.String(),
    questions: Type.Array(Question),
  }),
  attentionCheck: Type.Union([Type.Object({ question: Question }), Type.Null()]),
});
export type ReviewViewShape = Static<typeof ReviewView>;

export const Progress = Type.Object({
  position: Type.Integer(),
  answered: Type.Integer(),
  total: Type.Integer(),
});
export type ProgressView = Static<typeof Progress>;

export const NextAnswer = Type.Union([
  Type.Object({ done: Type.Literal(false), progress: Progress, assignment: ReviewView }),
  Type.Object({ done: Type.Literal(true), progress: Progress }),
]);
export type NextView = Static<typeof NextAnswer>;

export const AssignmentAnswer = Type.Object({ assignment: ReviewView });

export const EventBody = Type.Object(
  {
    type: Type.Union([Type.Literal('case_opened'), Type.Literal('form_opened')]),
    clientAt: Instant,
  },
  { additionalProperties: false },
);
export type EventBodyView = Static<typeof EventBody>;

export const AnswerBody = Type.Object(
  {
    questionnaireVersionId: Uuid,
    answers: AnswerValues,
    attention: Type.Optional(Type.Object({ answer: NodeKey }, { additionalProperties: false })),
    timing: Type.Optional(
      Type.Object(
        {
          caseOpenedAt: Type.Optional(Instant),
          formOpenedAt: Type.Optional(Instant),
          submittedAt: Type.Optional(Instant),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AnswerBodyView = Static<typeof AnswerBody>;

/** Room for 50 paragraph answers of 10,000 characters, each up to 4 bytes in UTF-8. */
export const ANSWER_BODY_LIMIT = MAX_QUESTIONS * 10_000 * 4 + 64 * 1024;

export const SubmittedAnswer = Type.Object({
  answer: Type.Object({
    id: Type.String(),
    submittedAt: Type.String(),
    flags: Type.Array(
      Type.Union([
        Type.Literal('client_clock_backwards'),
        Type.Literal('client_skew'),
        Type.Literal('too_fast'),
        Type.Literal('too_slow'),
        Type.Literal('missing_case_opened'),
        Type.Literal('missing_form_opened'),
      ]),
      { maxItems: 6 },
    ),
  }),
});
export type SubmittedAnswerView = Static<typeof SubmittedAnswer>['answer'];
