// Request and response schemas of the questionnaire routes: versions of one study's
// questionnaire, a draft that can be edited and a published version that never changes.
import { Type, type Static } from 'typebox';
import {
  AttentionCheck,
  Iso,
  MAX_QUESTIONS,
  Question,
  Uuid,
  line,
  Empty,
} from '../shared/schemas.js';

export { Empty };

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });
export const VersionParams = Type.Object(
  { studyId: Uuid, versionId: Uuid },
  { additionalProperties: false },
);

/** The body of a new draft and of a draft's replacement. */
export const QuestionnaireBody = Type.Object(
  {
    title: line(200, 1),
    questions: Type.Array(Question, { minItems: 1, maxItems: MAX_QUESTIONS }),
    /** Absent or null: no attention check in this version. */
    attentionCheck: Type.Optional(Type.Union([AttentionCheck, Type.Null()])),
  },
  { additionalProperties: false },
);
export type QuestionnaireInput = Static<typeof QuestionnaireBody>;

const Status = Type.Union([Type.Literal('draft'), Type.Literal('published')]);

export const QuestionnaireVersionSchema = Type.Object(
  {
    id: Uuid,
    version: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: 200 }),
    status: Status,
    questions: Type.Array(Question, { maxItems: MAX_QUESTIONS }),
    attentionCheck: Type.Union([AttentionCheck, Type.Null()]),
    createdAt: Iso,
    publishedAt: Type.Union([Iso, Type.Null()]),
  },
  { additionalProperties: false },
);
export type QuestionnaireVersionView = Static<typeof QuestionnaireVersionSchema>;

export const VersionAnswer = Type.Object(
  { version: QuestionnaireVersionSchema },
  { additionalProperties: false },
);

export const VersionSummarySchema = Type.Object(
  {
    id: Uuid,
    version: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: 200 }),
    status: Status,
    questionCount: Type.Integer({ minimum: 0 }),
    hasAttentionCheck: Type.Boolean(),
    createdAt: Iso,
    publishedAt: Type.Union([Iso, Type.Null()]),
  },
  { additionalProperties: false },
);
export type VersionSummaryView = Static<typeof VersionSummarySchema>;

export const VersionList = Type.Object(
  { versions: Type.Array(VersionSummarySchema) },
  { additionalProperties: false },
);
