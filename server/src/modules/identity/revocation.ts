// Session revocation reaches every node within a second (A7) without a database query per
// request: each node keeps the set of recently revoked session ids in memory and refreshes
// it from the sessions table every pollMs. A token outlives its session by at most the
// access-token lifetime, so ids older than that (plus a margin) are dropped from the set.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../../platform/db/schema.js';

export interface RevocationCache {
  /** O(1), in memory: true when the session was revoked (as of the last refresh). */
  isRevoked(sessionId: string): boolean;
  /** Marks a session revoked locally at once (the node that revoked it need not wait). */
  markRevoked(sessionId: string): void;
  /** Reads revocations since the last refresh; runs on a timer, callable from tests. */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export interface RevocationCacheOptions {
  readonly db: Kysely<DatabaseSchema>;
  readonly log: Logger;
  readonly pollMs?: number;
  /** How long a revoked id must stay known: access-token lifetime plus clock margin. */
  readonly retainMs?: number;
  readonly now?: () => number;
}

export function createRevocationCache(options: RevocationCacheOptions): RevocationCache {
  const pollMs = options.pollMs ?? 500;
  const retainMs = options.retainMs ?? 6 * 60_000;
  const now = options.now ?? Date.now;
  const revoked = new Map<string, number>(); // session id → when it may be forgotten
  let watermark = new Date(now() - retainMs);
  let timer: NodeJS.Timeout | undefined;

  const cache: RevocationCache = {
    isRevoked: (sessionId) => revoked.has(sessionId),
    markRevoked(sessionId) {
      revoked.set(sessionId, now() + retainMs);
    },
    async refresh() {
      // Overlap the window a little: a row committed just after our last read may carry an
      // earlier revoked_at than the newest row we saw.
      const since = new Date(watermark.getTime() - 2_000);
      const rows = await options.db
        .selectFrom('sessions')
        .select(['id', 'revoked_at'])
        .where('revoked_at', '>', since)
        .execute();
      for (const row of rows) {
        if (row.revoked_at && row.revoked_at > watermark) watermark = row.revoked_at;
        cache.markRevoked(row.id);
      }
      const current = now();
      for (const [id, forgetAt] of revoked) if (forgetAt < current) revoked.delete(id);
    },
    start() {
      const tick = (): void => {
        cache.refresh().then(
          () => undefined,
          (error: unknown) => options.log.error({ err: error }, 'revocation refresh failed'),
        );
        timer = setTimeout(tick, pollMs);
        timer.unref();
      };
      tick();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
  return cache;
}
