// How long a review took, and what about its timing looks wrong. Durations come from the
// server's own stamps (the client's clock is not trusted for them); the client's stamps are kept
// beside them and compared. Nothing implausible is dropped: it is kept and flagged, so the
// research team decides what to exclude.

/** Client and server clocks further apart than this are reported as skewed. */
export const MAX_CLIENT_SKEW_MS = 5 * 60_000;
/** A review (case opened → submitted) quicker than this cannot have read the case. */
export const TOO_FAST_MS = 2_000;
/** A review longer than this was most likely left open and resumed. */
export const TOO_SLOW_MS = 4 * 60 * 60_000;

export const TIMING_FLAGS = [
  'client_clock_backwards',
  'client_skew',
  'too_fast',
  'too_slow',
  'missing_case_opened',
  'missing_form_opened',
] as const;
export type TimingFlag = (typeof TIMING_FLAGS)[number];

export interface Stamps {
  readonly caseOpenedAt: Date | null;
  readonly formOpenedAt: Date | null;
  readonly submittedAt: Date | null;
}

export interface TimingAssessment {
  readonly readingMs: number | null;
  readonly answeringMs: number | null;
  readonly totalMs: number | null;
  readonly flags: TimingFlag[];
}

const between = (from: Date | null, to: Date | null): number | null =>
  from !== null && to !== null ? to.getTime() - from.getTime() : null;

/** Durations from the server's stamps and the flags of both clocks. */
export function assessTiming(server: Stamps, client: Stamps): TimingAssessment {
  const flags = new Set<TimingFlag>();
  if (server.caseOpenedAt === null) flags.add('missing_case_opened');
  if (server.formOpenedAt === null) flags.add('missing_form_opened');

  const clientOrder = [client.caseOpenedAt, client.formOpenedAt, client.submittedAt].filter(
    (stamp): stamp is Date => stamp !== null,
  );
  for (let i = 1; i < clientOrder.length; i++) {
    if (clientOrder[i]!.getTime() < clientOrder[i - 1]!.getTime()) {
      flags.add('client_clock_backwards');
    }
  }
  const pairs: [Date | null, Date | null][] = [
    [server.caseOpenedAt, client.caseOpenedAt],
    [server.formOpenedAt, client.formOpenedAt],
    [server.submittedAt, client.submittedAt],
  ];
  for (const [serverStamp, clientStamp] of pairs) {
    const skew = between(serverStamp, clientStamp);
    if (skew !== null && Math.abs(skew) > MAX_CLIENT_SKEW_MS) flags.add('client_skew');
  }

  const readingMs = between(server.caseOpenedAt, server.formOpenedAt);
  const answeringMs = between(server.formOpenedAt, server.submittedAt);
  const totalMs = between(server.caseOpenedAt, server.submittedAt);
  if (totalMs !== null && totalMs < TOO_FAST_MS) flags.add('too_fast');
  if (totalMs !== null && totalMs > TOO_SLOW_MS) flags.add('too_slow');
  return {
    readingMs,
    answeringMs,
    totalMs,
    flags: TIMING_FLAGS.filter((flag) => flags.has(flag)),
  };
}
