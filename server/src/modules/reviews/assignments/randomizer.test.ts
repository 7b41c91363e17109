// The randomizer's plan on its own (no database): the seeded stream is what it says it is,
// plans are reproducible from their seed, case review counts and arms per participant are
// balanced, and cases a participant already has are never chosen again.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeededStream, planRandomization, type PlanInput } from './randomizer.js';

const none = () => new Set<number>();
const plan = (input: Partial<PlanInput> = {}) =>
  planRandomization({
    seed: 'seed-1',
    participants: 12,
    cases: 17,
    arms: 3,
    casesPerParticipant: 7,
    alreadyAssigned: none,
    ...input,
  });

describe('randomizer', () => {
  it('the stream is HMAC-SHA256(seed, label ‖ counter) read as 32-bit words', () => {
    const counter = Buffer.alloc(8);
    const block = createHmac('sha256', 'abc')
      .update('haven:reviews:randomizer:v1')
      .update(counter)
      .digest();
    const stream = new SeededStream('abc');
    // n = 2³² accepts every word, so the first draw is the first word itself.
    expect(stream.integerBelow(2 ** 32)).toBe(block.readUInt32BE(0));
    expect(stream.integerBelow(2 ** 32)).toBe(block.readUInt32BE(4));
  });

  it('integers are unbiased: rejection keeps every result equally likely', () => {
    const stream = new SeededStream('uniform');
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i += 1) counts[stream.integerBelow(3)]! += 1;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('the same seed and inputs give the same plan; another seed another plan', () => {
    const first = plan();
    expect(plan()).toEqual(first);
    expect(plan({ seed: 'seed-2' })).not.toEqual(first);
  });

  it('case review counts differ by at most one, and each participant gets distinct cases', () => {
    const result = plan();
    if (!result.ok) throw new Error('expected a plan');
    const perCase = new Array<number>(17).fill(0);
    for (const a of result.assignments) perCase[a.case]! += 1;
    expect(Math.max(...perCase) - Math.min(...perCase)).toBeLessThanOrEqual(1);
    for (let p = 0; p < 12; p += 1) {
      const cases = result.assignments.filter((a) => a.participant === p).map((a) => a.case);
      expect(cases).toHaveLength(7);
      expect(new Set(cases).size).toBe(7);
    }
  });

  it('arms come in balanced blocks: every block of k cases holds every arm once', () => {
    const result = plan({ arms: 3, casesPerParticipant: 7 });
    if (!result.ok) throw new Error('expected a plan');
    for (let p = 0; p < 12; p += 1) {
      const arms = result.assignments.filter((a) => a.participant === p).map((a) => a.arm);
      expect(new Set(arms.slice(0, 3)).size).toBe(3);
      expect(new Set(arms.slice(3, 6)).size).toBe(3);
      const perArm = [0, 1, 2].map((arm) => arms.filter((a) => a === arm).length);
      expect(Math.max(...perArm) - Math.min(...perArm)).toBeLessThanOrEqual(1);
    }
  });

  it('skips cases a participant already has, and reports who has too few left', () => {
    const had = new Set([0, 1, 2, 3]);
    const result = plan({
      cases: 10,
      casesPerParticipant: 6,
      alreadyAssigned: (p) => (p === 0 ? had : none()),
    });
    if (!result.ok) throw new Error('expected a plan');
    const first = result.assignments.filter((a) => a.participant === 0).map((a) => a.case);
    expect(first.some((c) => had.has(c))).toBe(false);
    const short = plan({
      cases: 10,
      casesPerParticipant: 7,
      alreadyAssigned: (p) => (p === 2 ? had : none()),
    });
    expect(short).toEqual({ ok: false, shortOf: [{ participant: 2, available: 6 }] });
  });
});
