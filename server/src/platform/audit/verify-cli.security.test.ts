// `haven audit-log verify` against the keyed chain and its anchors (L3, issue 16), run as the
// operator runs it: a child process on a real data folder, the key from HAVEN_MASTER_KEY.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { haven } from '../../../test/cli-process.js';
import { sealEverything } from '../../../test/audit-chain.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { auditAnchorsPath, fileAndLogAnchorSink } from './anchors.js';
import { recordAudit } from './audit.js';
import { deriveAuditChainKey } from './chain-key.js';

/** Each test starts the CLI once or twice, a few seconds each, far more on a busy machine. */
const CLI_TEST_TIMEOUT_MS = 300_000;
const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-anchors-cli-'));
  folders.push(dir);
  return dir;
}

/**
 * A data folder whose embedded database holds `count` events sealed under the key of a fresh
 * master key, with an anchor for the newest one written to `anchorsFile`.
 */
async function keyedDataFolder(count: number, anchorsFile?: (dataDir: string) => string) {
  const dataDir = folder();
  const masterKey = randomBytes(32);
  const key = deriveAuditChainKey(masterKey);
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  try {
    await migrateToLatest(database.db);
    for (let i = 0; i < count; i += 1) {
      await recordAudit(database.db, {
        actor: { type: 'system' },
        action: 'test.event',
        outcome: 'success',
        details: { n: i },
      });
    }
    await sealEverything(database.db, { key });
    const tail = await database.db
      .selectFrom('audit_seals')
      .select(['chain_position', 'seq', 'hash', 'key_id'])
      .orderBy('chain_position', 'desc')
      .executeTakeFirstOrThrow();
    const file = anchorsFile?.(dataDir) ?? auditAnchorsPath(dataDir);
    await fileAndLogAnchorSink({ file, log: pino({ level: 'silent' }) }).publish({
      position: String(tail.chain_position),
      seq: String(tail.seq),
      hash: tail.hash,
      keyId: tail.key_id,
      at: new Date().toISOString(),
    });
    return {
      dataDir,
      file,
      key,
      env: { HAVEN_DATA_DIR: dataDir, HAVEN_MASTER_KEY: masterKey.toString('base64') },
    };
  } finally {
    await database.close();
  }
}

/** Deletes the newest events from `position` on, with their seals, the triggers switched off. */
async function cutTail(dataDir: string, position: number): Promise<void> {
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  try {
    await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(database.db);
    await sql`ALTER TABLE audit_seals DISABLE TRIGGER USER`.execute(database.db);
    await sql`DELETE FROM audit_events WHERE seq IN
                (SELECT seq FROM audit_seals WHERE chain_position >= ${position})`.execute(
      database.db,
    );
    await sql`DELETE FROM audit_seals WHERE chain_position >= ${position}`.execute(database.db);
    await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(database.db);
    await sql`ALTER TABLE audit_seals ENABLE TRIGGER USER`.execute(database.db);
  } finally {
    await database.close();
  }
}

describe('haven audit-log verify with the chain key and anchors', () => {
  it(
    'L3/anchors: verify authenticates every seal and checks the data folder’s anchors, exiting 0 when intact',
    async () => {
      const { env, file, key } = await keyedDataFolder(4);
      const result = await haven(['audit-log', 'verify'], env);
      expect(result.stdout).toMatch(/^audit log OK: 4 events, last hash [0-9a-f]{64}$/m);
      expect(result.stdout).toContain(
        `chain key ${key.id}: 4 of 4 sealed events authenticated (HMAC-SHA256)`,
      );
      expect(result.stdout).toMatch(
        new RegExp(`^anchors: all 1 anchor in ${file} match; the newest covers position 4 `, 'm'),
      );
      expect(result.code).toBe(0);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'L3/anchors: verify --anchors <file> exits 1 on a cut tail, naming the anchor it no longer reaches',
    async () => {
      const outside = folder();
      const { dataDir, env, file } = await keyedDataFolder(4, () =>
        path.join(outside, 'kept.jsonl'),
      );
      await cutTail(dataDir, 3);
      // Without the anchors the shorter chain is valid in itself (and the default file is absent).
      const unanchored = await haven(['audit-log', 'verify'], env);
      expect(unanchored.stdout).toMatch(/^audit log OK: 2 events/m);
      expect(unanchored.stdout).toMatch(
        /^anchors: none at .*audit-anchors\.jsonl; without anchors a cut tail/m,
      );
      const result = await haven(['audit-log', 'verify', '--anchors', file], env);
      expect(result.stdout).toMatch(
        /^audit log FAILED at seq 4 \(deleted\): the tail was cut below the anchor for position 4 \(seq 4, published [^)]+\): the chain ends at position 2, and anchors reach position 4, so at least positions 3\.\.4 were deleted; 2 events verified before it$/m,
      );
      expect(result.code).toBe(1);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'L3/anchors: verify refuses an anchors file it cannot read (exit 2) rather than verify without it',
    async () => {
      const { env, dataDir } = await keyedDataFolder(1);
      const result = await haven(
        ['audit-log', 'verify', '--anchors', path.join(dataDir, 'missing.jsonl')],
        env,
      );
      expect(result.stderr).toMatch(/cannot read the anchors file: .*missing\.jsonl/);
      expect(result.stdout).toBe('');
      expect(result.code).toBe(2);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
