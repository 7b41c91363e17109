// The randomizer's plan (pure: no database): which cases each participant reviews, in which
// order, under which arm. Every choice is drawn from one seeded stream, so the same seed with the
// same inputs (participants, cases and arms in the same order, the same cases already assigned)
// gives the same plan on any machine and any later version that keeps this file's algorithm.
//
// Why no library: the plan must be reproducible from the recorded seed for as long as the study's
// data is kept, so the stream's definition is part of the research record. A small deterministic
// random bit generator built from the platform's HMAC-SHA256 (node:crypto) is fully specified by
// the lines below, needs no new dependency, and cannot change under us in a package update (the
// seedable PRNG packages differ in algorithm and in how they turn bits into integers).
import { createHmac } from 'node:crypto';

const STREAM_LABEL = 'haven:reviews:randomizer:v1';
const TWO_TO_32 = 0x1_0000_0000;

/**
 * Block i of the stream is HMAC-SHA256(key = seed, label ‖ i as 64-bit big-endian); its 32 bytes
 * are read as eight unsigned 32-bit big-endian words, in order.
 */
export class SeededStream {
  private counter = 0n;
  private block = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly seed: string) {}

  private nextWord(): number {
    if (this.offset + 4 > this.block.length) {
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(this.counter);
      this.counter += 1n;
      this.block = createHmac('sha256', this.seed).update(STREAM_LABEL).update(counter).digest();
      this.offset = 0;
    }
    const word = this.block.readUInt32BE(this.offset);
    this.offset += 4;
    return word;
  }

  /**
   * A uniform integer in [0, n), n ≤ 2³². Words at or above the largest multiple of n are drawn
   * again (rejection sampling): `word % n` alone would favour the small results.
   */
  integerBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_TO_32) throw new RangeError('bad bound');
    const limit = TWO_TO_32 - (TWO_TO_32 % n);
    for (;;) {
      const word = this.nextWord();
      if (word < limit) return word % n;
    }
  }

  /** Fisher–Yates, from the last position down; shuffles `items` in place and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i -= 1) {
      const j = this.integerBelow(i + 1);
      const held = items[i]!;
      items[i] = items[j]!;
      items[j] = held;
    }
    return items;
  }

  /** `count` distinct items chosen uniformly (a partial Fisher–Yates); reorders `items`. */
  choose<T>(items: T[], count: number): T[] {
    for (let i = 0; i < count; i += 1) {
      const j = i + this.integerBelow(items.length - i);
      const held = items[i]!;
      items[i] = items[j]!;
      items[j] = held;
    }
    return items.slice(0, count);
  }
}

export interface PlanInput {
  readonly seed: string;
  readonly participants: number;
  readonly cases: number;
  readonly arms: number;
  readonly casesPerParticipant: number;
  /** Cases (by index) participant `p` already has: never chosen for them again. */
  readonly alreadyAssigned: (participant: number) => ReadonlySet<number>;
}

/** One planned assignment, by index into the inputs; a participant's entries are in order. */
export interface PlannedAssignment {
  readonly participant: number;
  readonly case: number;
  readonly arm: number;
}

export type Plan =
  | { readonly ok: true; readonly assignments: PlannedAssignment[] }
  | { readonly ok: false; readonly shortOf: Array<{ participant: number; available: number }> };

/**
 * Participants in input order each get `casesPerParticipant` cases:
 * - cases: those reviewed least so far in this run first, ties broken at random, so review counts
 *   of the cases differ by at most one (when no participant already had some of them);
 * - order: the chosen cases are shuffled into the order the participant sees them;
 * - arms: balanced blocks — each run of `arms` consecutive cases holds every arm once, in a
 *   shuffled order (a last, shorter block takes the first arms of its shuffle), so a
 *   participant's count per arm differs by at most one.
 */
export function planRandomization(input: PlanInput): Plan {
  const stream = new SeededStream(input.seed);
  const reviews = new Array<number>(input.cases).fill(0);
  const assignments: PlannedAssignment[] = [];
  const shortOf: Array<{ participant: number; available: number }> = [];
  for (let participant = 0; participant < input.participants; participant += 1) {
    const excluded = input.alreadyAssigned(participant);
    // Eligible cases grouped by how often this run assigned them, in input order within a group.
    const byCount = new Map<number, number[]>();
    let available = 0;
    for (let index = 0; index < input.cases; index += 1) {
      if (excluded.has(index)) continue;
      const count = reviews[index]!;
      const group = byCount.get(count);
      if (group) group.push(index);
      else byCount.set(count, [index]);
      available += 1;
    }
    if (available < input.casesPerParticipant) {
      shortOf.push({ participant, available });
      continue;
    }
    const chosen: number[] = [];
    for (const count of [...byCount.keys()].sort((a, b) => a - b)) {
      const group = byCount.get(count)!;
      const needed = input.casesPerParticipant - chosen.length;
      if (needed <= 0) break;
      chosen.push(...(group.length <= needed ? group : stream.choose(group, needed)));
    }
    stream.shuffle(chosen);
    for (let start = 0; start < chosen.length; start += input.arms) {
      const block = stream.shuffle(Array.from({ length: input.arms }, (_, arm) => arm));
      for (let offset = 0; offset < input.arms && start + offset < chosen.length; offset += 1) {
        const caseIndex = chosen[start + offset]!;
        reviews[caseIndex]! += 1;
        assignments.push({ participant, case: caseIndex, arm: block[offset]! });
      }
    }
  }
  return shortOf.length > 0 ? { ok: false, shortOf } : { ok: true, assignments };
}
