// The `haven` command line against real data folders: audit-log verify catches tampering
// (L3), routes prints the declared table (Z1, Z2, R1), and bad config refuses to run (S1).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { describeEmbedded } from '../databases.js';
import { openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import { sealEverything } from '../audit-chain.js';

const run = promisify(execFile);
const ENTRY = path.resolve(import.meta.dirname, '../cli-entry.ts');
const folders: string[] = [];

async function haven(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HAVEN_ENV: 'development',
        HAVEN_LOG_LEVEL: 'silent',
        ...env,
      },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** A data folder with an embedded database holding `count` audit events, `sealed` of them in the chain. */
async function dataFolderWithEvents(count: number, sealed = count): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-cli-'));
  folders.push(dataDir);
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  await migrateToLatest(database.db);
  for (let i = 0; i < count; i++) {
    await recordAudit(database.db, {
      actor: { type: 'system' },
      action: 'test.event',
      outcome: 'success',
      details: { n: i },
    });
    // What the server's sealer job would have done by now.
    if (i + 1 === sealed) await sealEverything(database.db);
  }
  await database.close();
  return dataDir;
}

async function tamper(dataDir: string, statements: string[]): Promise<void> {
  const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
  await sql.raw('ALTER TABLE audit_events DISABLE TRIGGER USER').execute(database.db);
  await sql.raw('ALTER TABLE audit_seals DISABLE TRIGGER USER').execute(database.db);
  for (const statement of statements) await sql.raw(statement).execute(database.db);
  await sql.raw('ALTER TABLE audit_events ENABLE TRIGGER USER').execute(database.db);
  await sql.raw('ALTER TABLE audit_seals ENABLE TRIGGER USER').execute(database.db);
  await database.close();
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describeEmbedded('haven audit-log verify', () => {
  it('L3: reports an intact chain and exits 0', async () => {
    const dataDir = await dataFolderWithEvents(4);
    const result = await haven(['audit-log', 'verify'], { HAVEN_DATA_DIR: dataDir });
    expect(result.stdout).toMatch(/audit log OK: 4 events/);
    expect(result.code).toBe(0);
  });

  it('L3: reports events not sealed yet without counting them, and exits 0', async () => {
    const dataDir = await dataFolderWithEvents(4, 3);
    const result = await haven(['audit-log', 'verify'], { HAVEN_DATA_DIR: dataDir });
    expect(result.stdout).toMatch(/audit log OK: 3 events, .*; 1 newer event is not sealed yet/);
    expect(result.code).toBe(0);
  });

  const tamperings: Array<[string, string[], RegExp]> = [
    [
      'edited',
      [`UPDATE audit_events SET action = 'test.forged' WHERE seq = 2`],
      /seq 2.*edited|edited.*seq 2/i,
    ],
    ['deleted', [`DELETE FROM audit_events WHERE seq = 2`], /deleted|missing/i],
    [
      'reordered',
      [
        'UPDATE audit_seals SET chain_position = 1000 WHERE chain_position = 2',
        'UPDATE audit_seals SET chain_position = 2 WHERE chain_position = 3',
        'UPDATE audit_seals SET chain_position = 3 WHERE chain_position = 1000',
      ],
      /reordered/i,
    ],
  ];
  for (const [kind, statement, expected] of tamperings) {
    it(`L3/tamper: a row that was ${kind} is reported and the command exits 1`, async () => {
      const dataDir = await dataFolderWithEvents(4);
      await tamper(dataDir, statement);
      const result = await haven(['audit-log', 'verify'], { HAVEN_DATA_DIR: dataDir });
      expect(result.stdout).toMatch(expected);
      expect(result.code).toBe(1);
    });
  }
});

describeEmbedded('haven routes and configuration', () => {
  it('Z1/Z2/R1: routes prints method, path, access, scopes and rate class', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-cli-'));
    folders.push(dataDir);
    const result = await haven(['routes'], { HAVEN_DATA_DIR: dataDir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^METHOD\s+PATH\s+ACCESS\s+SCOPES\s+STEP-UP\s+ALSO-SERVES\s+RATE/m,
    );
    expect(result.stdout).toMatch(/^GET\s+\/healthz\s+public\s+-\s+-\s+-\s+public$/m);
    // Z2/A12: which routes a machine client or a connected app may reach is in the table too.
    expect(result.stdout).toMatch(
      /^GET\s+\/api\/admin\/audit-events\s+scopes\s+audit:read\s+-\s+machine-client\s+read$/m,
    );
    expect(result.stdout).toMatch(
      /^GET\s+\/api\/portal\/record\s+scopes\s+portal:read\s+-\s+delegated-app\s+read$/m,
    );
    expect(result.stdout).toMatch(
      /^GET\s+\/api\/admin\/users\s+scopes\s+users:read\s+-\s+-\s+read$/m,
    );
  });

  it('S1: production with a default secret refuses to start, naming it', async () => {
    const result = await haven(['migrate'], {
      HAVEN_ENV: 'production',
      HAVEN_MASTER_KEY: Buffer.alloc(32).toString('base64'),
      HAVEN_CORS_ORIGINS: '*',
      DATABASE_URL: 'postgres://haven@127.0.0.1:1/haven',
      REDIS_URL: 'redis://127.0.0.1:1',
      HAVEN_PUBLIC_URL: 'https://haven.example',
      HAVEN_TRUSTED_PROXIES: '10.0.0.1',
    });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('HAVEN_MASTER_KEY: is a default or weak value');
    expect(result.stderr).toContain('HAVEN_CORS_ORIGINS: wildcards are not allowed');
  });

  it('--help lists the commands', async () => {
    const result = await haven(['--help']);
    for (const command of ['serve', 'worker', 'migrate', 'routes', 'audit-log']) {
      expect(result.stdout).toContain(command);
    }
  });
});
