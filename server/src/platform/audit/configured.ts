// The audit chain as a running Haven sets it up (L3, issue 16): the chain key from the master
// key, anchors in the data folder and the log. Shared by `haven serve`, `haven worker`,
// `haven audit-log verify` and the admin API, so they cannot disagree on the key or the file.
import { access } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import type { DatabaseSchema } from '../db/schema.js';
import {
  auditAnchorsPath,
  fileAndLogAnchorSink,
  readAuditAnchors,
  type AnchorFile,
  type AuditAnchorSink,
} from './anchors.js';
import { deriveAuditChainKey, type AuditChainKey } from './chain-key.js';
import { formatAuditReport } from './verify-format.js';
import { verifyAuditChain, type AuditVerification } from './verify.js';

/** The part of the configuration the audit chain needs. */
export interface AuditChainConfig {
  readonly masterKey: Buffer;
  /** During a master-key rotation (S2): the replaced key, whose seals it still verifies. */
  readonly previousMasterKey?: Buffer | undefined;
  readonly dataDir: string;
}

/** What the sealer job needs (jobs/registry.ts). */
export interface AuditSealing {
  auditChainKey: AuditChainKey;
  anchorSink: AuditAnchorSink;
}

export function auditSealing(config: AuditChainConfig, log: Logger): AuditSealing {
  return {
    auditChainKey: deriveAuditChainKey(config.masterKey),
    anchorSink: fileAndLogAnchorSink({
      file: auditAnchorsPath(config.dataDir),
      log: log.child({ component: 'audit' }),
    }),
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** The data folder's anchors, or none when the file does not exist (yet). */
async function defaultAnchors(dataDir: string): Promise<AnchorFile & { file: string | undefined }> {
  const file = auditAnchorsPath(dataDir);
  if (!(await exists(file))) return { file: undefined, anchors: [], malformedLines: [] };
  return { file, ...(await readAuditAnchors(file)) };
}

/** The current chain key, and the previous master key's while one is being rotated (S2). */
function verificationKeys(config: AuditChainConfig): {
  key: AuditChainKey;
  previousKey?: AuditChainKey;
} {
  const key = deriveAuditChainKey(config.masterKey);
  return config.previousMasterKey === undefined
    ? { key }
    : { key, previousKey: deriveAuditChainKey(config.previousMasterKey) };
}

/**
 * A verification with the configured key and the data folder's anchors, for the admin API:
 * the module gets this function, never the key.
 */
export function auditChainVerifier(
  config: AuditChainConfig,
): (db: Kysely<DatabaseSchema>) => Promise<AuditVerification> {
  const keys = verificationKeys(config);
  return async (db) => {
    const { anchors } = await defaultAnchors(config.dataDir);
    return verifyAuditChain(db, { ...keys, anchors });
  };
}

export interface AuditLogVerifyOutcome {
  stdout: string;
  stderr: string;
  /** 0 intact, 1 tampering found, 2 the anchors file named could not be read. */
  exitCode: 0 | 1 | 2;
}

/**
 * `haven audit-log verify [--anchors <file>]`: the chain against its key and the anchors of
 * `anchorsFile`, by default `<dataDir>/audit-anchors.jsonl` when it exists. The anchors are
 * read first, so a file that cannot be read stops the command before the database is opened.
 */
export async function runAuditLogVerify(
  config: AuditChainConfig,
  anchorsFile: string | undefined,
  openDatabase: () => Promise<Pick<Database, 'db' | 'close'>>,
): Promise<AuditLogVerifyOutcome> {
  let source: AnchorFile & { file: string | undefined };
  try {
    source =
      anchorsFile === undefined
        ? await defaultAnchors(config.dataDir)
        : { file: anchorsFile, ...(await readAuditAnchors(anchorsFile)) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { stdout: '', stderr: `cannot read the anchors file: ${reason}\n`, exitCode: 2 };
  }
  const keys = verificationKeys(config);
  const key = keys.key;
  const database = await openDatabase();
  let result: AuditVerification;
  try {
    result = await verifyAuditChain(database.db, { ...keys, anchors: source.anchors });
  } finally {
    await database.close();
  }
  const report = formatAuditReport(result, {
    keyId: key.id,
    anchors: {
      file: source.file,
      expected: auditAnchorsPath(config.dataDir),
      count: source.anchors.length,
      malformedLines: source.malformedLines,
    },
  });
  return { stdout: report, stderr: '', exitCode: result.ok ? 0 : 1 };
}
