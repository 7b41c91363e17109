// `haven keys rotate [--signing] [--data] [--csrf [--retire]]` (S2). --signing (the default)
// adds a new access-token signing key; --data re-seals every sealed value under the current
// master key's data key (platform/key-rotation.ts) and re-encrypts the embedded store's files
// (platform/storage/filesystem-rekey.ts), the step that lets HAVEN_MASTER_KEY_PREVIOUS be
// removed after a master-key change; --csrf adds a generation of the secret behind CSRF tokens
// and refresh-cookie tags (platform/cookie-secrets.ts), --retire refuses the earlier ones. All
// are safe while the servers run on PostgreSQL; each is audited.
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import type { HavenConfig } from '../config.js';
import { rotateSigningKeys } from '../modules/identity/index.js';
import { recordAudit } from '../platform/audit/audit.js';
import {
  COOKIE_SECRET_ACTIVATION_MS,
  addCookieSecretGeneration,
  retireCookieSecretGenerations,
} from '../platform/cookie-secrets.js';
import { keyRingOf } from '../platform/crypto.js';
import { embeddedFilesDir } from '../platform/storage/configured.js';
import type { Database } from '../platform/db/database.js';
import type { DatabaseSchema } from '../platform/db/schema.js';
import { rotateDataKeys, type DataRotationOptions } from '../platform/key-rotation.js';
import {
  reencryptStoredFiles,
  type StoredFileRotation,
  type StoredFileRotationOptions,
} from '../platform/storage/filesystem-rekey.js';
import { configOrExit, openConfiguredDatabase } from './embedded-folder.js';

export interface KeysRotateOptions {
  readonly signing?: boolean;
  readonly data?: boolean;
  readonly csrf?: boolean;
  /** With csrf: retire the generations before the current one now. */
  readonly retire?: boolean;
  readonly batchSize?: number;
}

/** What tests change about a run (a crash before a file is replaced, no activation delay). */
export type KeysRotateTestHooks = Omit<DataRotationOptions, 'batchSize'> &
  StoredFileRotationOptions & { readonly csrfActivationMs?: number };

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
  fileOptions: StoredFileRotationOptions,
  out: string[],
  err: string[],
): Promise<boolean> {
  const ring = keyRingOf(config);
  const result = await rotateDataKeys(db, ring, options);
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
  // The embedded store's files carry their own sealed data keys; object storage
  // (HAVEN_STORAGE_URL) encrypts with its own keys and holds nothing of Haven's.
  let files: StoredFileRotation | undefined;
  if (config.files.storageUrl === undefined) {
    files = await reencryptStoredFiles(
      embeddedFilesDir(config),
      ring,
      await defaultStoreObjectKeys(db),
      fileOptions,
    );
    // Its own event: the counts of both would pass the 20 keys an event's details may hold.
    const fileDetails: Record<string, string | number | boolean> = {
      kind: 'files',
      keyId: result.keyId,
      complete: files.complete,
    };
    out.push(`Stored files in ${embeddedFilesDir(config)} re-encrypted:\n`);
    for (const k of files.kinds) {
      const kind = `file_${k.kind.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
      fileDetails[countKey(kind, 'Reencrypted')] = k.reencrypted;
      fileDetails[countKey(kind, 'AlreadyCurrent')] = k.alreadyCurrent;
      fileDetails[countKey(kind, 'Unreadable')] = k.unreadable;
      out.push(
        `  ${kind}: ${k.reencrypted} re-encrypted, ${k.alreadyCurrent} already current, ${k.unreadable} unreadable\n`,
      );
    }
    await recordAudit(db, {
      actor: { type: 'system' },
      action: 'keys.rotated',
      outcome: files.complete ? 'success' : 'failure',
      details: fileDetails,
    });
  }
  const complete = result.complete && (files?.complete ?? true);
  if (complete) {
    out.push(
      files
        ? 'Every sealed value and stored file is under the current key.\n'
        : 'Every sealed value in the database is under the current key.\n',
    );
    if (config.previousMasterKey !== undefined) {
      // Audit seals are append-only and never re-made (L3): only the old key proves them.
      out.push(
        'Audit seals made before the master-key change verify only with the replaced key: ' +
          'keep it offline for `haven audit-log verify` (docs/operations.md, "Rotating keys").\n',
      );
    }
  } else {
    err.push(
      'Some values or stored files open under no configured master key and were left as they ' +
        'are: set HAVEN_MASTER_KEY_PREVIOUS to the key that sealed them and run this again (a ' +
        'stored file no upload or file record names cannot be opened at all). Keep the previous ' +
        'key until this command reports nothing unreadable.\n',
    );
  }
  return complete;
}

async function rotateCsrf(
  db: Kysely<DatabaseSchema>,
  config: HavenConfig,
  activationMs: number,
  out: string[],
): Promise<void> {
  const { generation, activeFrom } = await addCookieSecretGeneration(db, keyRingOf(config), {
    activationMs,
    // Until then a page or refresh cookie of a session made before the rotation may still come.
    retireAfterMs: config.identity.sessionAbsoluteMs,
  });
  await recordAudit(db, {
    actor: { type: 'system' },
    action: 'keys.rotated',
    target: { type: 'browser_key_generation', id: String(generation) },
    outcome: 'success',
    details: { kind: 'csrf', generation, activeFrom: activeFrom.toISOString() },
  });
  out.push(
    `CSRF and refresh-cookie generation ${generation} is accepted now and made from ` +
      `${activeFrom.toISOString()}; earlier generations are accepted until sessions made ` +
      'before it have ended, or until `keys rotate --csrf --retire`.\n',
  );
}

async function retireCsrf(db: Kysely<DatabaseSchema>, out: string[]): Promise<void> {
  const retired = await retireCookieSecretGenerations(db);
  await recordAudit(db, {
    actor: { type: 'system' },
    action: 'keys.rotated',
    outcome: 'success',
    details: { kind: 'csrf', retiredGenerations: retired },
  });
  out.push(
    `${retired} earlier CSRF and refresh-cookie generation(s) retired: their tokens are ` +
      'refused within seconds on every node.\n',
  );
}

/** Every object key the default store may hold: files and uploads not in an owned bucket. */
async function defaultStoreObjectKeys(db: Kysely<DatabaseSchema>): Promise<string[]> {
  const rows = await db
    .selectFrom('files')
    .select('object_key')
    .where('bucket_id', 'is', null)
    .union(db.selectFrom('upload_sessions').select('object_key').where('bucket_id', 'is', null))
    .execute();
  return rows.map((row) => row.object_key);
}

/** The command's work, on an open database (tests call it directly). */
export async function runKeysRotate(
  config: HavenConfig,
  options: KeysRotateOptions,
  db: Kysely<DatabaseSchema>,
  hooks: KeysRotateTestHooks = {},
): Promise<KeysRotateOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const signing =
    options.signing === true ||
    (options.data !== true && options.csrf !== true && options.retire !== true);
  let complete = true;
  if (signing) await rotateSigning(db, config, out);
  if (options.csrf === true && options.retire !== true) {
    await rotateCsrf(db, config, hooks.csrfActivationMs ?? COOKIE_SECRET_ACTIVATION_MS, out);
  }
  if (options.retire === true) await retireCsrf(db, out);
  if (options.data === true) {
    const batchSize = options.batchSize;
    const { beforeReplace, afterRow } = hooks;
    complete = await rotateData(
      db,
      config,
      { ...(afterRow && { afterRow }), ...(batchSize === undefined ? {} : { batchSize }) },
      beforeReplace === undefined ? {} : { beforeReplace },
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
        'tokens expire; --data re-seals every sealed value and stored file under the current ' +
        'master key; --csrf adds a CSRF and refresh-cookie key generation',
    )
    .option('--signing', 'add a new access-token signing key')
    .option(
      '--data',
      're-seal every sealed value and re-encrypt every stored file under the current master key ' +
        '(resumable)',
    )
    .option(
      '--csrf',
      'add a CSRF and refresh-cookie key generation; the previous one is accepted until ' +
        'sessions made before it have ended',
    )
    .option('--retire', 'with --csrf: refuse the generations before the current one from now on')
    .option('--batch-size <n>', 'rows listed per query with --data (default 100)', positiveInteger)
    .action(keysRotate);
}
