// Faults a database or a disk can throw at a running node without being "down" (probe "crash"):
// a table locked elsewhere for longer than a request may last (a long migration, an operator's
// psql), and a full disk. Requests then get 503 + Retry-After within a bound, never a cut socket
// or a 500, and a node starting meanwhile does not exit once it serves.
// The process tests run in the PostgreSQL pass of the suite (DATABASE_URL set), like
// database-faults.test.ts; the mapping tests run everywhere.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { requestDatabaseTimeouts } from '../../src/app.js';
import { isDatabaseUnavailable, isStorageFull } from '../../src/platform/db/faults.js';
import { toHavenError } from '../../src/platform/http/problem-handler.js';
import { createActor, type Actor } from '../actors.js';
import { freePort, privatePostgresUnavailable } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

const skipReason = !process.env.DATABASE_URL
  ? 'fault tests run in the PostgreSQL pass (set DATABASE_URL)'
  : privatePostgresUnavailable();

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('storage full and lock timeouts are "not now", not bugs', () => {
  it('a full disk (ENOSPC, EDQUOT, PostgreSQL 53100) answers 503 with Retry-After, not 500', () => {
    for (const error of [
      withCode('ENOSPC: no space left on device, write', 'ENOSPC'),
      withCode('EDQUOT: disk quota exceeded, write', 'EDQUOT'),
      withCode('could not extend file "base/5/16617": No space left on device', '53100'),
      Object.assign(new Error('upload failed'), {
        cause: withCode('ENOSPC: no space left', 'ENOSPC'),
      }),
    ]) {
      expect(isStorageFull(error)).toBe(true);
      const { error: safe, internal } = toHavenError(error);
      expect(internal).toBe(false);
      expect(safe.code).toBe('SERVICE_UNAVAILABLE');
      expect(safe.statusCode).toBe(503);
      expect(safe.extra.headers?.['retry-after']).toMatch(/^\d+$/);
    }
    expect(isStorageFull(withCode('permission denied', 'EACCES'))).toBe(false);
  });

  it('a lock or statement timeout (55P03, 57014) answers 503 with Retry-After', () => {
    for (const code of ['55P03', '57014']) {
      const error = withCode('canceling statement due to lock timeout', code);
      expect(isDatabaseUnavailable(error)).toBe(true);
      const { error: safe } = toHavenError(error);
      expect(safe.statusCode).toBe(503);
      expect(safe.extra.headers?.['retry-after']).toMatch(/^\d+$/);
    }
  });

  it('the request pool gives up on a statement before the request timeout cuts the socket', () => {
    for (const requestTimeoutMs of [1_000, 5_000, 30_000, 600_000]) {
      const { statementTimeoutMs, lockTimeoutMs } = requestDatabaseTimeouts(requestTimeoutMs);
      expect(statementTimeoutMs).toBeLessThan(requestTimeoutMs);
      expect(statementTimeoutMs).toBeLessThanOrEqual(30_000);
      expect(lockTimeoutMs).toBeLessThanOrEqual(Math.min(10_000, statementTimeoutMs));
    }
  });
});

describe.skipIf(skipReason !== undefined)('a table locked in PostgreSQL, on real processes', () => {
  const lab = useFaultLab({ postgres: true });

  /** Holds ACCESS EXCLUSIVE on `table` in an open transaction until release() is called. */
  async function lockTable(table: string): Promise<{ release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: lab.postgres.url });
    await client.connect();
    await client.query('begin');
    await client.query(`lock table ${table} in access exclusive mode`);
    return {
      async release() {
        await client.query('commit');
        await client.end();
      },
    };
  }

  it('requests waiting on a locked table get 503 + Retry-After within seconds (not a socket cut at the request timeout), and the node recovers when the lock goes', async () => {
    const port = await freePort();
    const node = lab.spawn(['serve'], lab.env({ PORT: String(port) }));
    await node.waitFor('Haven is listening');
    const minter = await lab.minter(lab.env());
    const clinician: Actor = await createActor(minter, ['clinician']);
    const me = async () => {
      const started = Date.now();
      const response = await fetch(`http://127.0.0.1:${port}/api/auth/me`, {
        headers: { authorization: clinician.authorization },
        signal: AbortSignal.timeout(60_000),
      });
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        code: ((await response.json()) as { code?: string }).code,
        ms: Date.now() - started,
      };
    };
    expect((await me()).status).toBe(200);

    const lock = await lockTable('users');
    let answers;
    try {
      answers = await Promise.all([me(), me(), me()]);
    } finally {
      await lock.release();
    }
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(answer.retryAfter).toMatch(/^\d+$/);
      // The lock timeout (10 s), well before the 30 s request timeout.
      expect(answer.ms).toBeLessThan(20_000);
    }
    expect((await me()).status).toBe(200);
    expect(node.output()).not.toContain('unhandled error');
  }, 120_000);

  it('a node started while `users` is locked keeps serving once the first-start check gives up', async () => {
    const lock = await lockTable('users');
    const port = await freePort();
    const node = lab.spawn(['serve'], lab.env({ PORT: String(port) }));
    try {
      await node.waitFor('Haven is listening');
      await node.waitFor('could not check for a first-start setup link', 30_000);
      await sleep(500);
      expect(node.exited(), node.output()).toBe(false);
    } finally {
      await lock.release();
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
  }, 120_000);
});
