// The audit log (L3): one helper appends security events to the hash-chained, append-only
// audit_events table, inside the caller's transaction so an event commits or rolls back with its change.
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';

export interface AuditEvent {
  actor: { type: 'user' | 'client' | 'system' | 'anonymous'; id?: string };
  /** Dotted lower-case verb, e.g. 'auth.login'. */
  action: string;
  target?: { type: string; id: string };
  outcome: 'success' | 'failure' | 'denied';
  requestId?: string;
  clientAddress?: string;
  /** Minimal, non-identifying context: ids, counts, reasons. Never PHI values or secrets. */
  details?: Record<string, string | number | boolean | null>;
}

/** prev_hash of the first row. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One fixed key for pg_advisory_xact_lock, shared by every node ('hvnaudit' as a bigint), so
 * appends are serialized across processes and the lock is released only at commit or rollback.
 */
export const AUDIT_CHAIN_LOCK_KEY = '7527325192056760692';

/** The hashed content of a row, in the shape it has in the database. */
export interface AuditRowContent {
  seq: string | number | bigint;
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  request_id: string | null;
  client_address: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
}

/**
 * SHA-256 (hex) of the RFC 8785 canonical JSON of a row. The single definition shared by
 * recordAudit and verifyAuditChain, so writer and verifier cannot drift apart. Throws if the
 * content cannot be canonicalized (only possible for tampered rows; the verifier treats that as edited).
 */
export function hashAuditRow(row: AuditRowContent): string {
  const canonical = canonicalize({
    seq: String(row.seq),
    id: row.id,
    // Millisecond ISO in UTC: the precision of a JS Date, which timestamptz (microseconds) stores exactly.
    occurredAt: row.occurred_at.toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    requestId: row.request_id,
    clientAddress: row.client_address,
    details: row.details,
    prevHash: row.prev_hash,
  });
  if (canonical === undefined) throw new Error('audit row cannot be canonicalized');
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

const ACTOR_TYPES = new Set(['user', 'client', 'system', 'anonymous']);
const OUTCOMES = new Set(['success', 'failure', 'denied']);
const ACTION_PATTERN = /^[a-z][a-z0-9_.-]{0,99}$/;
const DETAIL_KEY_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,63}$/;
const MAX_DETAIL_KEYS = 20;
const MAX_DETAIL_STRING = 200;
/** Fragments of key names that suggest PHI or secrets; matched after lower-casing and dropping '_'. */
const FORBIDDEN_KEY_FRAGMENTS = [
  'name',
  'email',
  'phone',
  'birth',
  'dob',
  'mrn',
  'ssn',
  'address',
  'password',
  'token',
  'secret',
  'code',
  'credential',
  'cookie',
] as const;
/** NUL, or a lone surrogate (in a /u pattern, paired surrogates form one code point and do not match). */
// eslint-disable-next-line no-control-regex -- refusing NUL is the point
const BAD_CHARACTERS = /[\u0000\uD800-\uDFFF]/u;
const EMAIL_LIKE = /[^\s@]+@[^\s@]+\.[^\s@]+/;

type AuditFields = Omit<AuditRowContent, 'seq' | 'id' | 'occurred_at' | 'prev_hash' | 'outcome'> & {
  outcome: AuditEvent['outcome'];
};

/** Misuse is a programming error, so it throws a plain Error (a 500), never writing a partial row. */
function invalid(message: string): never {
  throw new Error(`recordAudit: ${message}`);
}

// A lone surrogate would be stored as U+FFFD and NUL is refused by PostgreSQL text: either would
// break the round trip the hash depends on, so such strings are rejected up front.
function text(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') invalid(`${field} must be a string`);
  if (value.length === 0 || value.length > max) invalid(`${field} must be 1..${max} characters`);
  if (BAD_CHARACTERS.test(value)) invalid(`${field} contains invalid characters`);
  return value;
}

function optionalText(field: string, value: unknown, max: number): string | null {
  return value === undefined ? null : text(field, value, max);
}

function validateDetails(details: unknown): Record<string, string | number | boolean | null> {
  if (details === undefined) return {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    invalid('details must be an object');
  }
  const proto: unknown = Object.getPrototypeOf(details);
  if (proto !== Object.prototype && proto !== null) invalid('details must be a plain object');
  const entries: Array<[string, unknown]> = Object.entries(details);
  if (entries.length > MAX_DETAIL_KEYS) invalid(`details may hold at most ${MAX_DETAIL_KEYS} keys`);
  const out: Record<string, string | number | boolean | null> = {};
  for (const [key, value] of entries) {
    if (!DETAIL_KEY_PATTERN.test(key)) invalid(`details key ${JSON.stringify(key)} is malformed`);
    const folded = key.toLowerCase().replaceAll('_', '');
    const fragment = FORBIDDEN_KEY_FRAGMENTS.find((f) => folded.includes(f));
    if (fragment !== undefined) {
      invalid(
        `details key "${key}" looks like PHI or a secret ("${fragment}"); the audit log must not hold them`,
      );
    }
    if (typeof value === 'string') {
      text(`details.${key}`, value, MAX_DETAIL_STRING);
      if (EMAIL_LIKE.test(value)) invalid(`details.${key} looks like an email address`);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) invalid(`details.${key} must be a finite number`);
    } else if (typeof value !== 'boolean' && value !== null) {
      invalid(`details.${key} must be a string, number, boolean or null`);
    }
    out[key] = value;
  }
  return out;
}

function validateEvent(event: AuditEvent): AuditFields {
  if (!ACTOR_TYPES.has(event.actor.type)) invalid('actor.type is unknown');
  if (typeof event.action !== 'string' || !ACTION_PATTERN.test(event.action)) {
    invalid('action must be dotted lower-case, e.g. "auth.login"');
  }
  if (!OUTCOMES.has(event.outcome)) invalid('outcome is unknown');
  return {
    actor_type: event.actor.type,
    actor_id: optionalText('actor.id', event.actor.id, 128),
    action: event.action,
    target_type: event.target === undefined ? null : text('target.type', event.target.type, 64),
    target_id: event.target === undefined ? null : text('target.id', event.target.id, 128),
    outcome: event.outcome,
    request_id: optionalText('requestId', event.requestId, 128),
    client_address: optionalText('clientAddress', event.clientAddress, 64),
    details: validateDetails(event.details),
  };
}

/**
 * Appends one event to the audit chain: the ONE way to write audit rows. Pass the transaction that
 * makes the change being recorded; given a non-transaction handle, the write gets its own transaction.
 * The chain lock is held until that transaction ends, so call this late in it (after the change
 * itself) to keep the serialized window short and avoid lock-order deadlocks. Under REPEATABLE READ
 * or SERIALIZABLE a stale snapshot can miss a newer tail; the seq primary key then refuses the
 * insert (the caller retries) rather than forking the chain.
 */
export async function recordAudit(
  db: Kysely<DatabaseSchema>,
  event: AuditEvent,
  now?: Date,
): Promise<{ seq: string; id: string; hash: string }> {
  const fields = validateEvent(event);
  if (now !== undefined && !(now instanceof Date && Number.isFinite(now.getTime()))) {
    invalid('now must be a valid Date');
  }
  if (!db.isTransaction) return db.transaction().execute((trx) => append(trx, fields, now));
  return append(db, fields, now);
}

async function append(
  trx: Kysely<DatabaseSchema>,
  fields: AuditFields,
  now: Date | undefined,
): Promise<{ seq: string; id: string; hash: string }> {
  // Held until commit/rollback: no other node can read the tail until this row is visible or gone,
  // which keeps seq gapless and prev_hash pointing at the true predecessor.
  await sql`select pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK_KEY}::bigint)`.execute(trx);
  const tail = await trx
    .selectFrom('audit_events')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const row = {
    // String(): node-postgres returns bigint as a string, PGlite as a number.
    seq: tail === undefined ? '1' : (BigInt(String(tail.seq)) + 1n).toString(),
    id: randomUUID(),
    // Taken after the lock so timestamps follow chain order on any one node.
    occurred_at: now ?? new Date(),
    ...fields,
    prev_hash: tail === undefined ? GENESIS_HASH : tail.hash,
  } satisfies AuditRowContent;
  const hash = hashAuditRow(row);
  await trx
    .insertInto('audit_events')
    .values({ ...row, details: JSON.stringify(row.details), hash })
    .execute();
  return { seq: row.seq, id: row.id, hash };
}
