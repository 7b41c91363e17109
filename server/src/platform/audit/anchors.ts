// Audit anchors (L3, issue 16): the chain's newest position and hash, published outside the
// database. The keyed chain (chain-key.ts) stops a forger from rewriting events, but deleting
// the newest events together with their seals leaves a shorter chain that is valid in itself.
// An anchor says "position P had hash H at time T"; verification against the anchors (verify.ts)
// reports a chain that no longer reaches P, or reaches it with another hash.
//
// The sealer job publishes one at most once a minute, when it has sealed something since the
// last one: one JSON line appended to `<dataDir>/audit-anchors.jsonl` (0600, fsynced), and the
// same fields in an info log line `audit anchor`, so shipped logs hold a copy the database's
// owner cannot reach either. Events sealed after the newest anchor (up to a minute's worth)
// are not covered: cutting them is still undetectable.
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { AUDIT_CHAIN_KEY_ID } from './chain-key.js';
import type { SealedTail } from './seal.js';

/** One published anchor: a sealed chain position, its hash and key, and when it was published. */
export interface AuditAnchor extends SealedTail {
  /** ISO time of publication. */
  at: string;
}

/** Where anchors go. A sink may throw; the sealer logs the failure and keeps sealing. */
export interface AuditAnchorSink {
  publish(anchor: AuditAnchor): Promise<void>;
}

export const AUDIT_ANCHORS_FILE = 'audit-anchors.jsonl';
/** The shortest time between two anchors of one process. */
export const ANCHOR_EVERY_MS = 60_000;
/** Message of the log line that carries an anchor. */
export const ANCHOR_LOG_MESSAGE = 'audit anchor';

export function auditAnchorsPath(dataDir: string): string {
  return path.join(dataDir, AUDIT_ANCHORS_FILE);
}

/**
 * The hash as the log line carries it, in groups of 16 hex digits: log masking (L1) takes any
 * long run of letters and digits for a token and would redact the whole hash.
 */
function hashForLog(hash: string): string {
  return (hash.match(/.{1,16}/g) ?? []).join(':');
}

/** Appends one line and makes it durable before returning: the anchor must survive a crash. */
async function appendDurably(file: string, line: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const created = await stat(file).then(
    () => false,
    () => true,
  );
  // O_NOFOLLOW: a symlink planted in the data folder does not redirect the append.
  const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
  const handle = await open(file, flags, 0o600);
  try {
    // The creation mode is masked by the umask and says nothing of an existing file: set it.
    await handle.chmod(0o600);
    // One write of a short line with O_APPEND: lines of concurrent writers do not interleave.
    await handle.write(line);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) {
    // A new file's directory entry is durable only once the directory itself is synced.
    const directory = await open(dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }
}

/** The production sink: a log line first (it works even when the disk does not), then the file. */
export function fileAndLogAnchorSink(options: { file: string; log: Logger }): AuditAnchorSink {
  return {
    async publish(anchor) {
      options.log.info(
        { anchor: { ...anchor, hash: hashForLog(anchor.hash) } },
        ANCHOR_LOG_MESSAGE,
      );
      await appendDurably(options.file, `${JSON.stringify(anchor)}\n`);
    },
  };
}

const POSITION = /^[1-9][0-9]{0,18}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An anchor from one line of the anchors file, or from a log line `audit anchor` (so anchors
 * collected from shipped logs can be checked too); undefined when the line is not one.
 */
export function parseAnchorLine(line: string): AuditAnchor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (isRecord(value) && value.msg === ANCHOR_LOG_MESSAGE) value = value.anchor;
  if (!isRecord(value)) return undefined;
  const { position, seq, hash, keyId, at } = value;
  if (typeof position !== 'string' || !POSITION.test(position)) return undefined;
  if (typeof seq !== 'string' || !POSITION.test(seq)) return undefined;
  if (typeof hash !== 'string') return undefined;
  const plainHash = hash.replaceAll(':', '');
  if (!/^[0-9a-f]{64}$/.test(plainHash)) return undefined;
  if (keyId !== null && (typeof keyId !== 'string' || !AUDIT_CHAIN_KEY_ID.test(keyId))) {
    return undefined;
  }
  if (typeof at !== 'string' || !Number.isFinite(Date.parse(at))) return undefined;
  return { position, seq, hash: plainHash, keyId, at };
}

export interface AnchorFile {
  anchors: AuditAnchor[];
  /** 1-based numbers of non-empty lines that are not anchors (a torn last line after a crash). */
  malformedLines: number[];
}

/** Reads an anchors file (or collected log lines). Throws when the file cannot be read. */
export async function readAuditAnchors(file: string): Promise<AnchorFile> {
  const text = await readFile(file, 'utf8');
  const anchors: AuditAnchor[] = [];
  const malformedLines: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const anchor = parseAnchorLine(line);
    if (anchor === undefined) malformedLines.push(index + 1);
    else anchors.push(anchor);
  });
  return { anchors, malformedLines };
}

export interface AnchorPublisher {
  /** Remembers the newest seal this process wrote (undefined: it sealed nothing). */
  note(last: SealedTail | undefined): void;
  /**
   * Publishes the newest noted seal if it is past the last anchor and the last anchor is at
   * least `everyMs` old; returns the anchor published, if any.
   */
  publishIfDue(): Promise<AuditAnchor | undefined>;
}

/**
 * Spaces anchors out: at most one per `everyMs` (per process), and none while nothing new was
 * sealed. It anchors only seals this process computed itself, never a tail read back from the
 * database, so an anchor cannot vouch for rows someone else slipped in.
 */
export function createAnchorPublisher(
  sink: AuditAnchorSink,
  options: { everyMs?: number; now?: () => number } = {},
): AnchorPublisher {
  const everyMs = options.everyMs ?? ANCHOR_EVERY_MS;
  const now = options.now ?? Date.now;
  let pending: SealedTail | undefined;
  let publishedPosition = 0n;
  let publishedAt = Number.NEGATIVE_INFINITY;
  return {
    note(last) {
      if (last !== undefined) pending = last;
    },
    async publishIfDue() {
      const time = now();
      if (pending === undefined || BigInt(pending.position) <= publishedPosition) return undefined;
      if (time - publishedAt < everyMs) return undefined;
      const anchor: AuditAnchor = { ...pending, at: new Date(time).toISOString() };
      // Timed before publishing: a failing sink is retried a minute later, not every second.
      publishedAt = time;
      const before = publishedPosition;
      publishedPosition = BigInt(pending.position);
      try {
        await sink.publish(anchor);
      } catch (error) {
        publishedPosition = before;
        throw error;
      }
      return anchor;
    },
  };
}
