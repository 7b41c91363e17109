// `haven backup` and `haven restore` as an operator runs them, in real processes on a real data
// folder (issue 13, item 6; threats: a restore that silently loses today's data, a backup taken
// while the server writes, an archive that restores a broken audit chain). The round trip keeps
// the audit chain verifiable with the same last hash; a restore over existing data needs --force
// and moves that data aside; a damaged archive changes nothing; a held folder is refused.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, expect } from 'vitest';
import { sealEverything } from '../audit-chain.js';
import { haven } from '../cli-process.js';
import { itEmbedded } from '../databases.js';
import { auditAnchorsPath, fileAndLogAnchorSink } from '../../src/platform/audit/anchors.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import { deriveAuditChainKey } from '../../src/platform/audit/chain-key.js';
import { openDatabase } from '../../src/platform/db/database.js';
import { lockDataDir } from '../../src/platform/db/data-lock.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}

const LAST_HASH = /audit log OK: (\d+) events, last hash ([0-9a-f]{64})/;

async function userEmails(dataDir: string): Promise<string[]> {
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  try {
    const rows = await database.db.selectFrom('users').select('email').orderBy('email').execute();
    return rows.map((row) => row.email);
  } finally {
    await database.close();
  }
}

async function addUser(dataDir: string, email: string): Promise<void> {
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  try {
    await database.db
      .insertInto('users')
      .values({
        email,
        email_normalized: email,
        display_name: 'Added later',
        roles: ['clinician'],
        status: 'active',
        password_hash: null,
      })
      .execute();
  } finally {
    await database.close();
  }
}

/**
 * A data folder as a server leaves it: events sealed into the keyed audit chain under a
 * production-style master key (HAVEN_MASTER_KEY), the newest anchored in the anchors file.
 */
async function sealedDataFolder(): Promise<{ dataDir: string; env: Record<string, string> }> {
  const dataDir = folder('haven-backup-data-');
  const masterKey = randomBytes(32);
  const key = deriveAuditChainKey(masterKey);
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  try {
    await migrateToLatest(database.db);
    for (let n = 0; n < 5; n += 1) {
      await recordAudit(database.db, {
        actor: { type: 'system' },
        action: 'test.event',
        outcome: 'success',
        details: { n },
      });
    }
    await sealEverything(database.db, { key });
    const tail = await database.db
      .selectFrom('audit_seals')
      .select(['chain_position', 'seq', 'hash', 'key_id'])
      .orderBy('chain_position', 'desc')
      .executeTakeFirstOrThrow();
    await fileAndLogAnchorSink({
      file: auditAnchorsPath(dataDir),
      log: pino({ level: 'silent' }),
    }).publish({
      position: String(tail.chain_position),
      seq: String(tail.seq),
      hash: tail.hash,
      keyId: tail.key_id,
      at: new Date().toISOString(),
    });
  } finally {
    await database.close();
  }
  return {
    dataDir,
    env: { HAVEN_DATA_DIR: dataDir, HAVEN_MASTER_KEY: masterKey.toString('base64') },
  };
}

itEmbedded(
  'backup and restore round-trip the database, files and anchors; the audit chain verifies with the same last hash',
  { timeout: 300_000 },
  async () => {
    const { dataDir, env } = await sealedDataFolder();
    const out = folder('haven-backup-out-');
    await addUser(dataDir, 'before@example.org');
    const storedFile = path.join(dataDir, 'files', 'objects', 'one.bin');
    await mkdir(path.dirname(storedFile), { recursive: true });
    await writeFile(storedFile, 'encrypted bytes as the driver wrote them');

    const verifiedBefore = await haven(['audit-log', 'verify'], env);
    expect(verifiedBefore.code, verifiedBefore.stderr).toBe(0);
    const [, countBefore, hashBefore] = LAST_HASH.exec(verifiedBefore.stdout) ?? [];
    expect(hashBefore).toBeTruthy();

    const archive = path.join(out, 'nightly.tar.gz');
    const written = await haven(['backup', '--out', archive], env);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(`Backup written to ${archive}`);
    expect(written.stdout).toMatch(/SHA-256 [0-9a-f]{64}/);
    expect(written.stdout).toContain(`last hash ${hashBefore}`);
    expect(written.stdout).toContain('The master key (HAVEN_MASTER_KEY) is not in it');
    expect(readdirSync(out)).toEqual(['nightly.tar.gz']);

    // Writing over an existing archive is refused; nothing is replaced.
    const again = await haven(['backup', '--out', archive], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');

    // Work after the backup, then a restore over it: refused without --force.
    await addUser(dataDir, 'after@example.org');
    const refused = await haven(['restore', archive], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already holds a database');
    expect(await userEmails(dataDir)).toContain('after@example.org');

    const restored = await haven(['restore', archive, '--force'], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(
      `audit log OK: ${countBefore} events, last hash ${hashBefore}`,
    );
    const aside = /kept in (\S+)\.\n/.exec(restored.stdout)?.[1];
    expect(aside).toBeTruthy();

    // The backup's state is back; today's work is not lost but kept aside.
    expect(await userEmails(dataDir)).toEqual(['before@example.org']);
    expect(await readFile(storedFile, 'utf8')).toBe('encrypted bytes as the driver wrote them');
    const database = await openDatabase({ url: undefined, embeddedDir: path.join(aside!, 'db') });
    try {
      const later = await database.db.selectFrom('users').select('email').execute();
      expect(later.map((row) => row.email)).toContain('after@example.org');
    } finally {
      await database.close();
    }
    const verifiedAfter = await haven(['audit-log', 'verify'], env);
    expect(verifiedAfter.code, verifiedAfter.stderr).toBe(0);
    expect(verifiedAfter.stdout).toContain(`last hash ${hashBefore}`);
  },
);

itEmbedded(
  'a restore into an empty folder needs no --force and brings the development key with it',
  { timeout: 300_000 },
  async () => {
    const dataDir = folder('haven-backup-src-');
    const target = folder('haven-backup-dst-');
    expect((await haven(['setup-link'], { HAVEN_DATA_DIR: dataDir })).code).toBe(0);
    const archive = path.join(folder('haven-backup-out-'), 'copy.tar.gz');
    expect((await haven(['backup', '--out', archive], { HAVEN_DATA_DIR: dataDir })).code).toBe(0);

    const restored = await haven(['restore', archive], { HAVEN_DATA_DIR: target });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).not.toContain('kept in');
    expect(await readFile(path.join(target, 'dev-master.key'), 'utf8')).toBe(
      await readFile(path.join(dataDir, 'dev-master.key'), 'utf8'),
    );
    expect((await haven(['audit-log', 'verify'], { HAVEN_DATA_DIR: target })).code).toBe(0);
  },
);

itEmbedded(
  'a damaged or foreign archive is refused and the data folder is left exactly as it was',
  { timeout: 300_000 },
  async () => {
    const dataDir = folder('haven-backup-keep-');
    const env = { HAVEN_DATA_DIR: dataDir };
    expect((await haven(['setup-link'], env)).code).toBe(0);
    await addUser(dataDir, 'kept@example.org');
    const out = folder('haven-backup-bad-');
    const archive = path.join(out, 'good.tar.gz');
    expect((await haven(['backup', '--out', archive], env)).code).toBe(0);

    const truncated = path.join(out, 'truncated.tar.gz');
    const bytes = await readFile(archive);
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const foreign = path.join(out, 'foreign.tar.gz');
    await writeFile(foreign, 'this is not an archive');

    for (const bad of [truncated, foreign]) {
      const result = await haven(['restore', bad, '--force'], env);
      expect(result.code, bad).toBe(1);
      expect(result.stderr).toContain('nothing was changed');
    }
    expect(await userEmails(dataDir)).toEqual(['kept@example.org']);
    expect(readdirSync(dataDir).filter((name) => name.startsWith('before-restore'))).toEqual([]);
    expect(readdirSync(dataDir).filter((name) => name.startsWith('.restore-'))).toEqual([]);
  },
);

itEmbedded(
  'backup refuses a folder another process holds, and PostgreSQL deployments are sent to pg_dump',
  { timeout: 300_000 },
  async () => {
    const dataDir = folder('haven-backup-held-');
    const env = { HAVEN_DATA_DIR: dataDir };
    expect((await haven(['setup-link'], env)).code).toBe(0);
    const lock = await lockDataDir(path.join(dataDir, 'db'));
    try {
      const archive = path.join(folder('haven-backup-out-'), 'held.tar.gz');
      const held = await haven(['backup', '--out', archive], env);
      expect(held.code).toBe(75);
      expect(held.stderr).toContain('is in use by another Haven process');
      expect(existsSync(archive)).toBe(false);
      const restore = await haven(['restore', archive], env);
      expect(restore.code).toBe(75);
    } finally {
      await lock.release();
    }

    const postgres = await haven(['backup'], {
      HAVEN_DATA_DIR: dataDir,
      DATABASE_URL: 'postgres://haven@127.0.0.1:1/haven',
    });
    expect(postgres.code).toBe(2);
    expect(postgres.stderr).toContain('pg_dump');
  },
);
