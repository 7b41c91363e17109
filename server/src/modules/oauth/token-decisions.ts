// What a node remembers of the database's answers about OAuth clients and their tokens (A12).
//
// Every request with a client's or an app's token asks the database whether the client is still
// enabled, the token not revoked, the grant alive and the person active (introspection.ts), and
// every token request asks for the client (adapter.ts). The SPEC holds revocation checks to
// under 0.1 ms a request and sessions to "refused by every node within a second" (A7); one
// indexed query is 0.4–0.8 ms on PGlite, as much as the read it guards. So an answer that lets
// a token or a client through is reused on this node for at most DECISION_TTL_MS, the interval
// of the sessions' revocation poll (identity/sessions/revocation.ts), and never longer:
//
// - A refusal is never remembered: it is asked again, so nothing refused can come back.
// - A change made through this node (disable, rescope or new secret of a client, a revoked token,
//   a disconnected app, a grant ended by a reused refresh token or code) empties this node's
//   memory when it commits: on that node the change holds from the next request. Every other node
//   sees it within DECISION_TTL_MS, as a signed-out session is.
// - An answer read before such a change committed is not stored after it (the generation check),
//   so a slow read cannot put back what the change just removed.
//
// Why not a revocation feed like sessions': a token's answer depends on five tables (clients,
// grants, revoked tokens, users and their roles) written by three modules; a bounded age covers
// every writer, a bare UPDATE by an operator included, with no trigger per table. Ages come from
// this node's monotonic clock only, so no two nodes' clocks are ever compared.

import { LRUCache } from 'lru-cache';

/** How long an allowing answer may be reused: the sessions' poll interval (A7). */
export const DECISION_TTL_MS = 500;

/** Answers kept at most; enough for every live token of a busy node within half a second. */
const MAX_DECISIONS = 10_000;

export interface TokenDecisions {
  /**
   * The answer for `key`: a fresh remembered one, or what `ask` reads (remembered when it is
   * not undefined, the refusal). Keys name what they decide in words without spaces inside:
   * `metadata <client>`, `client <client> <jti>`, `app <client> <grant> <account> <jti>`; their
   * word counts differ, so no two kinds of answer can meet under one key.
   */
  decide<T extends NonNullable<unknown>>(
    key: string,
    ask: () => Promise<T | undefined>,
  ): Promise<T | undefined>;
  /** Forgets every answer: call after a change that can refuse a client or token commits. */
  forgetAll(): void;
}

export function createTokenDecisions(
  now: () => number = () => performance.now(),
  ttlMs: number = DECISION_TTL_MS,
): TokenDecisions {
  // lru-cache keeps the age and the bound; ttlResolution 0 reads the clock on every get, so an
  // answer is never served a moment past its age.
  const answers = new LRUCache<string, NonNullable<unknown>>({
    max: MAX_DECISIONS,
    ttl: ttlMs,
    ttlResolution: 0,
    perf: { now },
  });
  let generation = 0;
  // Reads on their way, one per key: when an answer ages out, the requests that find it gone
  // together (ten connections of one client) wait for one read instead of each making its own.
  // forgetAll drops the reads on their way with the answers, so a read begun before a change
  // committed never answers a request that arrived after it.
  const reading = new Map<string, Promise<unknown>>();

  return {
    async decide<T extends NonNullable<unknown>>(
      key: string,
      ask: () => Promise<T | undefined>,
    ): Promise<T | undefined> {
      const known = answers.get(key);
      if (known !== undefined) return known as T;
      const running = reading.get(key);
      if (running !== undefined) return running as Promise<T | undefined>;
      const askedIn = generation;
      const read = ask().then((value) => {
        if (value !== undefined && askedIn === generation) answers.set(key, value);
        return value;
      });
      reading.set(key, read);
      try {
        return await read;
      } finally {
        if (reading.get(key) === read) reading.delete(key);
      }
    },
    forgetAll() {
      generation++;
      answers.clear();
      reading.clear();
    },
  };
}
