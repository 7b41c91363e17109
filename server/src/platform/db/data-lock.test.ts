// The embedded data folder's lock (issue 9, defect 5): one holder at a time, released on close,
// shared by two paths to one folder, and a stale lock is taken over. The same lock between real
// processes (`haven serve` against other commands) is in server/test/platform/cli-data-lock.test.ts.
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { DATA_LOCK_STALE_MS, DataDirLockedError, lockDataDir } from './data-lock.js';

const folders: string[] = [];
function tempFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'haven-lock-'));
  folders.push(folder);
  return folder;
}
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

it('data lock/two openers: a second lock on a held folder is refused, naming the folder and what to do', async () => {
  const dir = path.join(tempFolder(), 'db');
  const held = await lockDataDir(dir);
  const refused = await lockDataDir(dir).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(DataDirLockedError);
  const message = (refused as Error).message;
  expect(message).toContain(held.dir);
  expect(message).toMatch(/stop the server first/i);
  expect(message).toContain('DATABASE_URL');
  expect(message).not.toContain('\n');
  await held.release();
  await held.release(); // idempotent
  const again = await lockDataDir(dir);
  await again.release();
});

it('data lock/symlink: another path to the same folder meets the same lock', async () => {
  const root = tempFolder();
  const dir = path.join(root, 'db');
  mkdirSync(dir);
  symlinkSync(dir, path.join(root, 'alias'));
  const held = await lockDataDir(dir);
  try {
    await expect(lockDataDir(path.join(root, 'alias'))).rejects.toBeInstanceOf(DataDirLockedError);
  } finally {
    await held.release();
  }
});

it('data lock/stale: a lock its holder stopped refreshing (killed process) is taken over', async () => {
  const dir = path.join(tempFolder(), 'db');
  mkdirSync(`${dir}.lock`, { recursive: true }); // left behind by a process killed with SIGKILL
  await expect(lockDataDir(dir)).rejects.toBeInstanceOf(DataDirLockedError);
  const old = new Date(Date.now() - DATA_LOCK_STALE_MS - 1_000);
  utimesSync(`${dir}.lock`, old, old);
  const taken = await lockDataDir(dir);
  expect(statSync(`${dir}.lock`).mtimeMs).toBeGreaterThan(old.getTime());
  await taken.release();
});
