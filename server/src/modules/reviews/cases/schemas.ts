// Request and answer shapes of the cases room (docs/api/reviews.md, "Cases"). The tree's depth,
// fan-out and string bounds are in the shared CaseTree schema; the node count, sibling keys,
// duplicate ids and the de-identification guard are checked by the service.
import { Type, type Static } from 'typebox';
import { CASE_LIMITS, CaseTree, Id, Iso, Uuid, line, text } from '../shared/schemas.js';

/** The most cases one upload holds (JSON or CSV). */
export const MAX_CASES_PER_UPLOAD = 1000;
/**
 * Body limit of the JSON upload: 1,000 cases of a few hundred nodes each, with room to spare.
 * Bigger uploads are split by the client; each is all or nothing.
 */
export const CASE_UPLOAD_BODY_LIMIT = 16 * 1024 * 1024;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });
export const CaseParams = Type.Object(
  { studyId: Uuid, caseId: Uuid },
  { additionalProperties: false },
);

export const CaseInput = Type.Object(
  {
    externalId: line(CASE_LIMITS.externalIdLength, 1),
    tree: CaseTree,
    // From 0 to 1: checked with the content rules (checks.ts), so an upload's answer names every
    // problem at once instead of this one first and the identifiers after it is fixed.
    aiScore: Type.Optional(Type.Number({ description: 'from 0 to 1' })),
    aiExplanation: Type.Optional(text(CASE_LIMITS.aiExplanationLength)),
  },
  { additionalProperties: false },
);

export const CaseUpload = Type.Object(
  { cases: Type.Array(CaseInput, { minItems: 1, maxItems: MAX_CASES_PER_UPLOAD }) },
  { additionalProperties: false },
);
export type CaseUploadBody = Static<typeof CaseUpload>;

export const ImportAnswer = Type.Object(
  {
    imported: Type.Integer({ minimum: 0 }),
    cases: Type.Array(
      Type.Object(
        { id: Id, externalId: Type.String({ maxLength: 100 }) },
        { additionalProperties: false },
      ),
      { maxItems: MAX_CASES_PER_UPLOAD },
    ),
  },
  { additionalProperties: false },
);
export type ImportAnswerView = Static<typeof ImportAnswer>;

export const CaseListQuery = Type.Object(
  {
    after: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
  },
  { additionalProperties: false },
);

export const CaseSummarySchema = Type.Object(
  {
    id: Id,
    externalId: Type.String({ maxLength: 100 }),
    nodeCount: Type.Integer({ minimum: 0 }),
    aiScore: Type.Union([Type.Number(), Type.Null()]),
    createdAt: Iso,
    assignments: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type CaseSummary = Static<typeof CaseSummarySchema>;

export const CaseList = Type.Object(
  {
    cases: Type.Array(CaseSummarySchema, { maxItems: MAX_PAGE }),
    next: Type.Union([Id, Type.Null()]),
  },
  { additionalProperties: false },
);

export const CaseSchema = Type.Object(
  {
    id: Id,
    externalId: Type.String({ maxLength: 100 }),
    tree: CaseTree,
    aiScore: Type.Union([Type.Number(), Type.Null()]),
    aiExplanation: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
    nodeCount: Type.Integer({ minimum: 0 }),
    createdAt: Iso,
  },
  { additionalProperties: false },
);
export type CaseView = Static<typeof CaseSchema>;
export const CaseAnswer = Type.Object({ case: CaseSchema }, { additionalProperties: false });
