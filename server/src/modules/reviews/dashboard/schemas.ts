// The study dashboard: progress, attention, durations and inter-rater agreement.
import { Type, type Static, type TSchema } from 'typebox';
import { Uuid } from '../shared/schemas.js';

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Count of stamped reviews and the median and quartiles of their durations (ms). */
export const Durations = Type.Object({
  count: Type.Integer(),
  medianMs: Nullable(Type.Number()),
  q1Ms: Nullable(Type.Number()),
  q3Ms: Nullable(Type.Number()),
  iqrMs: Nullable(Type.Number()),
});
export type DurationsView = Static<typeof Durations>;

export const AgreementResult = Type.Object({
  questionId: Type.String(),
  prompt: Type.String(),
  /** null: every arm together. */
  armId: Nullable(Type.String()),
  armName: Nullable(Type.String()),
  method: Nullable(Type.Union([Type.Literal('cohen'), Type.Literal('fleiss')])),
  kappa: Nullable(Type.Number()),
  /** Cases the kappa was computed on, and how many ratings each had. */
  cases: Type.Integer(),
  ratersPerCase: Nullable(Type.Integer()),
  /** Every case rated by two or more participants (kappa uses those with one rater count). */
  casesRatedBySeveral: Type.Integer(),
  /** Krippendorff's alpha (nominal) over every case rated two or more times. */
  alpha: Nullable(Type.Number()),
  reason: Nullable(Type.String()),
});
export type AgreementView = Static<typeof AgreementResult>;

export const Dashboard = Type.Object({
  participants: Type.Array(
    Type.Object({
      participantId: Type.String(),
      displayName: Type.String(),
      removed: Type.Boolean(),
      assigned: Type.Integer(),
      answered: Type.Integer(),
      attentionPassed: Type.Integer(),
      attentionFailed: Type.Integer(),
    }),
  ),
  arms: Type.Array(
    Type.Object({
      armId: Nullable(Type.String()),
      armName: Nullable(Type.String()),
      assigned: Type.Integer(),
      answered: Type.Integer(),
      durations: Durations,
    }),
  ),
  attention: Type.Object({
    passed: Type.Integer(),
    failed: Type.Integer(),
    passRate: Nullable(Type.Number()),
  }),
  durations: Type.Object({ total: Durations, reading: Durations, answering: Durations }),
  agreement: Type.Array(AgreementResult),
});
export type DashboardView = Static<typeof Dashboard>;
