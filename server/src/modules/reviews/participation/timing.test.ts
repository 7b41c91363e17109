// Timing assessment: durations from the server's stamps, flags for everything implausible.
import { describe, expect, it } from 'vitest';
import { assessTiming } from './timing.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0) + seconds * 1000);
const none = { caseOpenedAt: null, formOpenedAt: null, submittedAt: null };

describe('assessTiming', () => {
  it('derives reading, answering and total time from the server stamps', () => {
    const server = { caseOpenedAt: at(0), formOpenedAt: at(40), submittedAt: at(100) };
    expect(assessTiming(server, server)).toEqual({
      readingMs: 40_000,
      answeringMs: 60_000,
      totalMs: 100_000,
      flags: [],
    });
  });

  it('flags a review under 2 seconds and one over 4 hours, and keeps their durations', () => {
    const fast = assessTiming(
      { caseOpenedAt: at(0), formOpenedAt: at(0.5), submittedAt: at(1.5) },
      none,
    );
    expect(fast).toMatchObject({ totalMs: 1_500, flags: ['too_fast'] });
    const slow = assessTiming(
      { caseOpenedAt: at(0), formOpenedAt: at(60), submittedAt: at(4 * 3600 + 1) },
      none,
    );
    expect(slow).toMatchObject({ totalMs: (4 * 3600 + 1) * 1000, flags: ['too_slow'] });
  });

  it('flags a client clock that goes backwards or is more than 5 minutes off', () => {
    const server = { caseOpenedAt: at(0), formOpenedAt: at(30), submittedAt: at(60) };
    const backwards = assessTiming(server, {
      caseOpenedAt: at(0),
      formOpenedAt: at(-10),
      submittedAt: at(60),
    });
    expect(backwards.flags).toEqual(['client_clock_backwards']);
    const skewed = assessTiming(server, { ...none, submittedAt: at(60 + 301) });
    expect(skewed.flags).toEqual(['client_skew']);
    expect(assessTiming(server, { ...none, submittedAt: at(60 + 299) }).flags).toEqual([]);
  });

  it('flags missing server stamps and leaves the durations it cannot derive empty', () => {
    expect(assessTiming({ ...none, submittedAt: at(10) }, none)).toEqual({
      readingMs: null,
      answeringMs: null,
      totalMs: null,
      flags: ['missing_case_opened', 'missing_form_opened'],
    });
  });
});
