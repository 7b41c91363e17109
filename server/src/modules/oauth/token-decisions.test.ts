// The memory behind the client-token checks (A12, token-decisions.ts): an allowing answer lives
// DECISION_TTL_MS of this node's clock and no longer, a refusal not at all, and a change made
// through this node empties it, even for a read that was still on its way.
import { describe, expect, it } from 'vitest';
import { DECISION_TTL_MS, createTokenDecisions } from './token-decisions.js';

function counting<T>(answers: Array<T | undefined>) {
  let asked = 0;
  const ask = () => Promise.resolve(answers[Math.min(asked++, answers.length - 1)]);
  return { ask, asked: () => asked };
}

describe('A12 token decisions', () => {
  it('A12/revocation bound: an allowing answer is reused for DECISION_TTL_MS of the node’s clock, then asked again', async () => {
    let clock = 1_000; // a monotonic clock's reading: never 0
    const decisions = createTokenDecisions(() => clock);
    const database = counting(['live', undefined]);
    expect(await decisions.decide('client c jti', database.ask)).toBe('live');
    clock += DECISION_TTL_MS; // aged exactly the bound: still within it
    expect(await decisions.decide('client c jti', database.ask)).toBe('live');
    expect(database.asked()).toBe(1);
    clock += 1;
    // Revoked meanwhile by another node: the next answer, read again, refuses.
    expect(await decisions.decide('client c jti', database.ask)).toBeUndefined();
    expect(database.asked()).toBe(2);
  });

  it('A12/revoked token: a refusal is never remembered, so nothing refused comes back from memory', async () => {
    const decisions = createTokenDecisions(() => 0);
    const database = counting<string>([undefined, undefined]);
    expect(await decisions.decide('client c jti', database.ask)).toBeUndefined();
    expect(await decisions.decide('client c jti', database.ask)).toBeUndefined();
    expect(database.asked()).toBe(2);
  });

  it('A12/local change: forgetAll makes this node ask again at the next request', async () => {
    const decisions = createTokenDecisions(() => 0);
    const database = counting(['live', undefined]);
    expect(await decisions.decide('client c jti', database.ask)).toBe('live');
    decisions.forgetAll();
    expect(await decisions.decide('client c jti', database.ask)).toBeUndefined();
  });

  it('A12/race: an answer read before a change committed is not stored after it', async () => {
    const decisions = createTokenDecisions(() => 0);
    let release: (answer: string) => void = () => undefined;
    const slowRead = new Promise<string>((resolve) => (release = resolve));
    const pending = decisions.decide('client c jti', () => slowRead);
    decisions.forgetAll(); // the disable commits while the read is on its way
    release('live');
    expect(await pending).toBe('live'); // that request began before the change
    const database = counting<string>([undefined]);
    expect(await decisions.decide('client c jti', database.ask)).toBeUndefined();
    expect(database.asked()).toBe(1);
  });

  it('A12/race: one read for requests that find an answer gone together, and none of a read begun before a change', async () => {
    const decisions = createTokenDecisions(() => 0);
    let release: (answer: string | undefined) => void = () => undefined;
    let asked = 0;
    const slowRead = () => {
      asked++;
      return new Promise<string | undefined>((resolve) => (release = resolve));
    };
    const together = Array.from({ length: 10 }, () => decisions.decide('client c jti', slowRead));
    expect(asked).toBe(1);
    release('live');
    expect(await Promise.all(together)).toEqual(Array.from({ length: 10 }, () => 'live'));

    decisions.forgetAll();
    const before = decisions.decide('client c jti', slowRead); // begun before the disable
    const releaseBefore = release;
    decisions.forgetAll(); // the disable commits while that read is on its way
    const after = decisions.decide('client c jti', slowRead);
    expect(asked).toBe(3); // the request after the change reads for itself
    release(undefined); // it sees the disabled client
    releaseBefore('live');
    expect(await after).toBeUndefined();
    expect(await before).toBe('live');
  });

  it('A12/memory bound: the oldest answers make way, and every kept one is still within its age', async () => {
    let clock = 1_000;
    const decisions = createTokenDecisions(() => clock);
    for (let i = 0; i < 10_050; i++) await decisions.decide(`key ${i}`, () => Promise.resolve(i));
    const newest = counting([-1]);
    expect(await decisions.decide('key 10049', newest.ask)).toBe(10_049);
    const oldest = counting([-1]);
    expect(await decisions.decide('key 0', oldest.ask)).toBe(-1);
    clock += DECISION_TTL_MS + 1;
    expect(await decisions.decide('key 10049', newest.ask)).toBe(-1);
  });
});
