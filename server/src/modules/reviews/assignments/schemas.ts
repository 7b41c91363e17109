// Request and response schemas of the assignment routes: the list, an upload by API (JSON) or as
// an AugMed-style CSV sheet, and the randomizer's runs.
import { Type, type Static } from 'typebox';
import { DisplayConfig, Iso, Uuid } from '../shared/schemas.js';

/** The most assignments one JSON upload creates. */
export const MAX_JSON_ASSIGNMENTS = 1000;
/** The most assignments one CSV upload or one randomizer run creates. */
export const MAX_BATCH_ASSIGNMENTS = 100_000;
/** Lines of one CSV sheet (several lines may describe one assignment). */
export const MAX_CSV_ROWS = 300_000;
export const MAX_PAGE = 200;
export const DEFAULT_PAGE = 50;
export const MAX_RANDOMIZER_PARTICIPANTS = 5000;
export const MAX_RANDOMIZER_CASES = 20_000;

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });

export const AssignmentListQuery = Type.Object(
  {
    participantId: Type.Optional(Uuid),
    /** The `next` of the previous page. */
    after: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
  },
  { additionalProperties: false },
);
export type AssignmentListFilter = Static<typeof AssignmentListQuery>;

const Source = Type.Union([Type.Literal('api'), Type.Literal('csv'), Type.Literal('randomizer')]);

export const AssignmentSummarySchema = Type.Object(
  {
    id: Uuid,
    participantId: Uuid,
    participantName: Type.String({ maxLength: 200 }),
    caseId: Uuid,
    caseExternalId: Type.String({ maxLength: 100 }),
    armId: Type.Union([Uuid, Type.Null()]),
    armName: Type.Union([Type.String({ maxLength: 120 }), Type.Null()]),
    position: Type.Integer({ minimum: 1 }),
    source: Source,
    answered: Type.Boolean(),
    createdAt: Iso,
  },
  { additionalProperties: false },
);
export type AssignmentSummaryView = Static<typeof AssignmentSummarySchema>;

export const AssignmentPage = Type.Object(
  {
    assignments: Type.Array(AssignmentSummarySchema),
    next: Type.Union([Uuid, Type.Null()]),
  },
  { additionalProperties: false },
);

export const AssignmentBody = Type.Object(
  {
    assignments: Type.Array(
      Type.Object(
        {
          participantId: Uuid,
          caseId: Uuid,
          armId: Type.Optional(Uuid),
          /** Absent: the arm's template (only the paths the case has), else everything plain. */
          display: Type.Optional(DisplayConfig),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_JSON_ASSIGNMENTS },
    ),
  },
  { additionalProperties: false },
);
export type AssignmentInput = Static<typeof AssignmentBody>;

export const CreatedAnswer = Type.Object(
  { created: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const ImportAnswer = Type.Object(
  {
    created: Type.Integer({ minimum: 0 }),
    participants: Type.Integer({ minimum: 0 }),
    cases: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** A seed is printable ASCII without spaces, so it can be written down and typed back. */
export const SEED_PATTERN = '^[!-~]{1,100}$';

export const RandomizationBody = Type.Object(
  {
    experimentId: Uuid,
    casesPerParticipant: Type.Integer({ minimum: 1, maximum: MAX_RANDOMIZER_CASES }),
    seed: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: SEED_PATTERN })),
    /** Default: every participant of the study (not removed), in the order they joined. */
    participantIds: Type.Optional(
      Type.Array(Uuid, { minItems: 1, maxItems: MAX_RANDOMIZER_PARTICIPANTS }),
    ),
    /** Default: every case of the study, by external id. */
    caseIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: MAX_RANDOMIZER_CASES })),
  },
  { additionalProperties: false },
);
export type RandomizationInput = Static<typeof RandomizationBody>;

export const RandomizationSchema = Type.Object(
  {
    id: Uuid,
    experimentId: Uuid,
    seed: Type.String({ maxLength: 100 }),
    casesPerParticipant: Type.Integer({ minimum: 1 }),
    assignmentCount: Type.Integer({ minimum: 0 }),
    createdAt: Iso,
  },
  { additionalProperties: false },
);
export type RandomizationView = Static<typeof RandomizationSchema>;

export const RandomizationAnswer = Type.Object(
  { randomization: RandomizationSchema },
  { additionalProperties: false },
);
export const RandomizationList = Type.Object(
  { randomizations: Type.Array(RandomizationSchema) },
  { additionalProperties: false },
);
