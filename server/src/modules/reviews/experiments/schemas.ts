// Request and response schemas of the experiment routes: an experiment and its arms, each arm a
// display-configuration template.
import { Type, type Static } from 'typebox';
import { DisplayConfig, Iso, Uuid, line, text } from '../shared/schemas.js';

export const MIN_ARMS = 2;
export const MAX_ARMS = 10;

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });
export const ExperimentParams = Type.Object(
  { studyId: Uuid, experimentId: Uuid },
  { additionalProperties: false },
);

export const ArmBody = Type.Object(
  { name: line(120, 1), display: DisplayConfig },
  { additionalProperties: false },
);
export type ArmInput = Static<typeof ArmBody>;

export const ExperimentBody = Type.Object(
  {
    name: line(120, 1),
    description: Type.Optional(text(2000)),
    arms: Type.Array(ArmBody, { minItems: MIN_ARMS, maxItems: MAX_ARMS }),
  },
  { additionalProperties: false },
);
export type ExperimentInput = Static<typeof ExperimentBody>;

export const ArmSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 120 }),
    display: DisplayConfig,
    /** Assignments made with this arm. */
    assignments: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ArmView = Static<typeof ArmSchema>;

export const ExperimentSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String({ maxLength: 120 }),
    description: Type.String({ maxLength: 2000 }),
    createdAt: Iso,
    arms: Type.Array(ArmSchema),
  },
  { additionalProperties: false },
);
export type ExperimentView = Static<typeof ExperimentSchema>;

export const ExperimentAnswer = Type.Object(
  { experiment: ExperimentSchema },
  { additionalProperties: false },
);
export const ExperimentList = Type.Object(
  { experiments: Type.Array(ExperimentSchema) },
  { additionalProperties: false },
);
export const ArmAnswer = Type.Object({ arm: ArmSchema }, { additionalProperties: false });
