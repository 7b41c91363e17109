// `haven keys rotate [--signing] [--data]` (S2). --signing (the default) adds a new access-token
// signing key; --data re-seals every sealed value under the current master key's data key
// (platform/key-rotation.ts), the step that lets HAVEN_MASTER_KEY_PREVIOUS be removed after a
// master-key change. Both are safe while the servers run on PostgreSQL; each is audited.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { HavenConfig } from '../config.js';
import { rotateSigningKeys } from '../modules/identity/index.js';
import { recordAudit } from '../platform/audit/audit.js';
import { keyRingOf } from '../platform/crypto.js';
import type { Database } from '../platform/db/database.js';
import type { DatabaseSchema } from '../platform/db/schema.js';
import { rotateDataKeys, type DataRotationOptions } from '../platform/key-rotation.js';
import { configOrExit, openConfiguredDatabase } from './embedded-folder.js';

export interface KeysRotateOptions {
  readonly signing?: boolean;
  readonly data?: boolean;
  readonly batchSize?: number;
}

export interface KeysRotateOutcome {
  stdout: string;
  stderr: string;
  /** 0 done; 1 some sealed value opened under no configured key (left untouched). */
  exitCode: 0 | 1;
}

/** The audit detail key of a table's count, e.g. `signingKeysResealed`. */
const countKey = (table: string, what: string): string =>
  table.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()) + what;

async function rotateSigning(
  db: Kysely<DatabaseSchema>,
  config: HavenConfig,
  out: string[],
): Promise<void> {
  const kid = await rotateSigningKeys(db, keyRingOf(config));
  await recordAudit(db, {
    actor: { type: 'system' },
    action: 'keys.rotated',
    target: { type: 'signing_key', id: kid },
    outcome: 'success',
    details: { kind: 'signing' },
  });
  out.push(`New signing key ${kid} is current; older keys verify until their tokens expire.\n`);
}

async function rotateData(
  db: Kysely<DatabaseSchema>,
  config: HavenConfig,
  options: DataRotationOptions,
  out: string[],
  err: string[],
): Promise<boolean> {
  const result = await rotateDataKeys(db, keyRingOf(config), options);
  const details: Record<string, string | number | boolean> = {
    kind: 'data',
    keyId: result.keyId,
    complete: result.complete,
  };
  out.push(`Sealed values re-sealed under data key ${result.keyId}:\n`);
  for (const t of result.tables) {
    details[countKey(t.table, 'Resealed')] = t.resealed;
    details[countKey(t.table, 'AlreadyCurrent')] = t.alreadyCurrent;
    details[countKey(t.table, 'Unreadable')] = t.unreadable;
    out.push(
      `  ${t.table}: ${t.resealed} re-sealed, ${t.alreadyCurrent} already current, ${t.unreadable} unreadable\n`,
    );
  }
  await recordAudit(db, {
    actor: { type: 'system' },
    action: 'keys.rotated',
    outcome: result.complete ? 'success' : 'failure',
    details,
  });
  if (result.complete) {
    out.push('Every sealed value in the database is under the current key.\n');
    if (config.previousMasterKey !== undefined) {
      // Audit seals are append-only and never re-made (L3): only the old key proves them.
      out.push(
        'Audit seals made before the master-key change verify only with the replaced key: ' +
          'keep it offline for `haven audit-log verify` (docs/operations.md, "Rotating keys").\n',
      );
    }
    if (await holdsEmbeddedFiles(config)) {
      // Each embedded file's own data key is sealed in the file's header, which this command
      // does not rewrite: removing the previous key would make those files unreadable.
      err.push(
        `Files stored in ${embeddedFilesDir(config)} keep their data keys sealed under the key ` +
          'they were written with, and this command does not re-seal them: keep ' +
          'HAVEN_MASTER_KEY_PREVIOUS set (docs/operations.md, "Rotating keys").\n',
      );
    }
  } else {
    err.push(
      'Some values open under no configured master key and were left as they are: set ' +
        'HAVEN_MASTER_KEY_PREVIOUS to the key that sealed them and run this again. Keep the ' +
        'previous key until this command reports no unreadable value.\n',
    );
  }
  return result.complete;
}

const embeddedFilesDir = (config: HavenConfig): string => path.join(config.dataDir, 'files');

/** Whether the embedded file store (no HAVEN_STORAGE_URL) holds anything. */
async function holdsEmbeddedFiles(config: HavenConfig): Promise<boolean> {
  if (config.files.storageUrl !== undefined) return false;
  const entries = await readdir(path.join(embeddedFilesDir(config), 'objects')).catch(() => []);
  return entries.length > 0;
}

/** The command's work, on an open database (tests call it directly). */
export async function runKeysRotate(
  config: HavenConfig,
  options: KeysRotateOptions,
  db: Kysely<DatabaseSchema>,
  dataOptions: Omit<DataRotationOptions, 'batchSize'> = {},
): Promise<KeysRotateOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const signing = options.signing === true || options.data !== true;
  let complete = true;
  if (signing) await rotateSigning(db, config, out);
  if (options.data === true) {
    const batchSize = options.batchSize;
    complete = await rotateData(
      db,
      config,
      { ...dataOptions, ...(batchSize === undefined ? {} : { batchSize }) },
      out,
      err,
    );
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode: complete ? 0 : 1 };
}

async function keysRotate(options: KeysRotateOptions): Promise<void> {
  const config = configOrExit();
  const database: Database = await openConfiguredDatabase(config);
  let outcome: KeysRotateOutcome;
  try {
    outcome = await runKeysRotate(config, options, database.db);
  } finally {
    await database.close();
  }
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  // Set after closing: PGlite's WebAssembly runtime resets process.exitCode when it shuts down.
  process.exitCode = outcome.exitCode;
}

function positiveInteger(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error('--batch-size takes a positive integer');
  }
  return value;
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('signing and data-encryption keys (S2)');
  keys
    .command('rotate')
    .description(
      'rotate keys: --signing (the default) adds a new signing key, old ones verify until their ' +
        'tokens expire; --data re-seals every sealed value under the current master key',
    )
    .option('--signing', 'add a new access-token signing key')
    .option('--data', 're-seal every sealed value under the current master key (resumable)')
    .option('--batch-size <n>', 'rows listed per query with --data (default 100)', positiveInteger)
    .action(keysRotate);
}
