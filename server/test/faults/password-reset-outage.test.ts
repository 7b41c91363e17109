// A password reset acknowledged with 202 must be carried out (A10 and issue 9's "nothing
// acknowledged is lost"). The answer comes before the account lookup, so that a known email is
// not answered measurably slower; the lookup used to live only in the answering process's memory,
// and a database outage, a crash or a restart dropped it after the person was told "sent". Real
// processes on a private PostgreSQL: two `haven serve` nodes and a `haven worker` sharing one
// data folder (the development mailbox). While PostgreSQL is stopped a request is refused with
// 503 + Retry-After; requests acknowledged around a node killed with SIGKILL and a crash-restart
// of PostgreSQL all end in a mail.
// Runs in the PostgreSQL pass of the suite (DATABASE_URL set), like database-faults.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { listDevMailbox } from '../../src/platform/mail.js';
import { createUser, GENEROUS_RATE_LIMITS } from '../actors.js';
import {
  freePort,
  privatePostgresUnavailable,
  spawnHaven,
  startPrivatePostgres,
  type HavenProcess,
  type PrivatePostgres,
} from './private-servers.js';

const skipReason = !process.env.DATABASE_URL
  ? 'fault tests run in the PostgreSQL pass (set DATABASE_URL)'
  : privatePostgresUnavailable();

const ORIGIN = 'http://haven.test';

interface Asked {
  email: string;
  status: number | 'cut';
  retryAfter: string | null;
  code?: string;
}

async function askReset(port: number, email: string): Promise<Asked> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/auth/password-reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ email }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json().catch(() => ({}))) as { code?: string };
    return {
      email,
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      ...(body.code !== undefined && { code: body.code }),
    };
  } catch {
    return { email, status: 'cut', retryAfter: null };
  }
}

describe.skipIf(skipReason !== undefined)(
  'password reset through faults, on real processes',
  () => {
    let postgres: PrivatePostgres;
    const processes: HavenProcess[] = [];
    const folders: string[] = [];

    beforeAll(async () => {
      postgres = await startPrivatePostgres();
      const database = await openDatabase({ url: postgres.url, embeddedDir: undefined });
      await migrateToLatest(database.db);
      await database.close();
    }, 120_000);

    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await postgres?.destroy();
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    }, 60_000);

    it('A10/outage: a reset asked while PostgreSQL is down answers 503 + Retry-After, never a 202 that is then lost; every reset acknowledged around a killed node and a crashed database is mailed', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-reset-'));
      folders.push(dataDir);
      const env = {
        HAVEN_ENV: 'test',
        HAVEN_LOG_LEVEL: 'warn',
        HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
        HAVEN_WEB_DIR: path.join(tmpdir(), 'haven-no-web'),
        // One data folder: the development mailbox every process writes to.
        HAVEN_DATA_DIR: dataDir,
        DATABASE_URL: postgres.url,
        HAVEN_PUBLIC_URL: ORIGIN,
        HAVEN_JOB_POLL_MS: '200',
        ...GENEROUS_RATE_LIMITS,
      };
      const ports = [await freePort(), await freePort()] as const;
      const nodes = ports.map((port) => spawnHaven(['serve'], { ...env, PORT: String(port) }));
      const worker = spawnHaven(['worker'], { ...env, HAVEN_LOG_LEVEL: 'info' });
      processes.push(...nodes, worker);
      await Promise.all(nodes.map((node) => node.waitFor('Haven is listening')));
      await worker.waitFor('worker started');

      const database = await openDatabase({ url: postgres.url, embeddedDir: undefined });
      const emails: string[] = [];
      for (let i = 0; i < 8; i++) {
        emails.push((await createUser(database.db, { roles: ['patient'] })).email);
      }
      await database.close();

      // PostgreSQL away: nothing can record the request, so nothing is promised.
      await postgres.stop();
      const duringOutage = [
        await askReset(ports[0], emails[0]!),
        await askReset(ports[1], emails[1]!),
      ];
      await postgres.start();
      for (const asked of duringOutage) {
        expect(asked).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
        expect(asked.retryAfter).toMatch(/^\d+$/);
      }

      // Acknowledged, then node A killed at once: what it had not finished, a worker finishes.
      const beforeKill = await Promise.all(
        emails.slice(2, 5).map((email) => askReset(ports[0], email)),
      );
      nodes[0]!.child.kill('SIGKILL');
      // Acknowledged by node B, then PostgreSQL crashes (immediate stop) and comes back.
      const beforeCrash = await Promise.all(
        emails.slice(5, 8).map((email) => askReset(ports[1], email)),
      );
      await postgres.kill();
      await sleep(500);
      await postgres.start();

      const acknowledged = [...beforeKill, ...beforeCrash].filter((asked) => asked.status === 202);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const asked of [...beforeKill, ...beforeCrash]) {
        expect([202, 503]).toContain(asked.status);
      }
      // A run claimed by the killed node is taken over once its lock expires (a minute).
      const mailedBy = Date.now() + 100_000;
      let mailed = new Set<string>();
      while (Date.now() < mailedBy) {
        mailed = new Set((await listDevMailbox(dataDir)).map((mail) => mail.to));
        if (acknowledged.every((asked) => mailed.has(asked.email))) break;
        await sleep(500);
      }
      expect(acknowledged.filter((asked) => !mailed.has(asked.email))).toEqual([]);
      expect(mailed.has(emails[0]!) || mailed.has(emails[1]!)).toBe(false);
      expect(nodes[1]!.exited(), nodes[1]!.output()).toBe(false);
      expect(worker.exited(), worker.output()).toBe(false);
    }, 240_000);
  },
);
