// The embedded data folder between real processes (issue 9, defect 5; threat: two processes
// opening one PGlite folder corrupt it). While `haven serve` holds the folder, every command
// that would open it is refused with one paragraph and a non-zero exit, and works again once the
// server has stopped; a server killed with SIGKILL does not lock the folder for ever. PostgreSQL
// (DATABASE_URL) and the in-memory database of `haven routes` take no lock.
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { haven, startServe, type RunningServer } from '../cli-process.js';
import { createTestDatabase, itEmbedded } from '../databases.js';
import { DATA_LOCK_STALE_MS } from '../../src/platform/db/data-lock.js';

const folders: string[] = [];
const servers: RunningServer[] = [];
function dataFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'haven-lock-cli-'));
  folders.push(folder);
  return folder;
}
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const STACK_LINE = /^\s+at /m;

itEmbedded(
  'data lock/two processes: while haven serve runs, commands on its folder are refused with one paragraph; after it stops they work',
  async () => {
    const dataDir = dataFolder();
    const env = { HAVEN_DATA_DIR: dataDir };
    const server = await startServe(env);
    servers.push(server);
    const folder = realpathSync(path.join(dataDir, 'db'));

    const [verify, migrate, rotate, setupLink, secondServer] = await Promise.all([
      haven(['audit-log', 'verify'], env),
      haven(['migrate'], env),
      haven(['keys', 'rotate'], env),
      haven(['setup-link'], env),
      haven(['serve'], { ...env, PORT: '0' }),
    ]);
    for (const refused of [verify, migrate, rotate, setupLink, secondServer]) {
      expect(refused.code).toBe(75);
      // A second server first waits out the stale time (a crashed holder's lock), logging that.
      if (refused !== secondServer) expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(`data folder ${folder} is in use`);
      expect(refused.stderr).toMatch(/Stop the server first/);
      expect(refused.stderr).toContain('DATABASE_URL');
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).not.toMatch(STACK_LINE);
    }
    // An in-memory database: no lock, works beside the server.
    expect(await haven(['routes'], env)).toMatchObject({ code: 0, stderr: '' });
    expect((await fetch(`${server.origin}/readyz`)).status).toBe(200);

    expect(await server.stop()).toBe(0);
    expect(existsSync(`${folder}.lock`)).toBe(false);
    const after = await haven(['audit-log', 'verify'], env);
    expect(after.stdout).toMatch(/audit log OK/);
    expect(after.code).toBe(0);
  },
  300_000,
);

it.skipIf(!process.env.DATABASE_URL)(
  'data lock/PostgreSQL [needs DATABASE_URL]: with DATABASE_URL a command takes no lock, even on the data folder of a running server',
  async () => {
    const env = { HAVEN_DATA_DIR: dataFolder() };
    // A generous start-up wait: this test only asks what a second command does beside it.
    const server = await startServe(env, 180_000);
    servers.push(server);
    const database = await createTestDatabase('postgres');
    try {
      const onPostgres = await haven(['migrate'], { ...env, DATABASE_URL: database.url! });
      expect(onPostgres).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });
    } finally {
      await database.close();
    }
    // The embedded folder stays the server's: the same command without DATABASE_URL is refused.
    expect((await haven(['migrate'], env)).code).toBe(75);
  },
  300_000,
);

itEmbedded(
  'data lock/stale: the lock of a server killed with SIGKILL expires instead of blocking the folder for ever',
  async () => {
    const dataDir = dataFolder();
    const env = { HAVEN_DATA_DIR: dataDir };
    const server = await startServe(env);
    servers.push(server);
    const lockDir = `${realpathSync(path.join(dataDir, 'db'))}.lock`;
    server.child.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    // Nothing could clean up: the lock is still there, and fresh.
    expect(existsSync(lockDir)).toBe(true);
    const staleAt = statSync(lockDir).mtimeMs + DATA_LOCK_STALE_MS;
    expect(staleAt).toBeGreaterThan(Date.now());
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, staleAt - Date.now()) + 500));

    const after = await haven(['migrate'], env);
    expect(after.stderr).not.toContain('in use');
    expect(after).toMatchObject({ code: 0, stdout: 'Database is up to date.\n' });
  },
  300_000,
);

itEmbedded(
  'data lock/restart: a server restarted right after a SIGKILL (as a supervisor would) waits for the dead lock to expire and serves',
  async () => {
    const dataDir = dataFolder();
    const env = { HAVEN_DATA_DIR: dataDir };
    const first = await startServe(env);
    servers.push(first);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const restarted = await startServe(env, 120_000);
    servers.push(restarted);
    expect((await fetch(`${restarted.origin}/readyz`)).status).toBe(200);
    expect(await restarted.stop()).toBe(0);
  },
  300_000,
);
