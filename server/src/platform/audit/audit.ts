// The audit log (L3): one helper appends security events to the append-only audit_events
// table, inside the caller's transaction so an event commits or rolls back with its change.
// Events are linked into the hash chain (audit_seals) shortly after they commit, by the sealer
// in seal.ts; the design, and why writers take no lock, is explained there. Seals are
// HMAC-SHA256 under the chain key (chain-key.ts); those written before migration 0006 are
// plain SHA-256.
import { createHash, randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { AuditChainKey } from './chain-key.js';

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

/** prev_hash of chain position 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed content of an event, in the shape it has in the database. */
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
  /** The writing transaction (xid8, as text); null only on events written before migration 0005. */
  xid: string | null;
}

/** Where an event sits in the chain. */
export interface AuditChainLink {
  position: string | number | bigint;
  prev_hash: string;
}

/**
 * The columns hashAuditRow reads, selected the same way by the sealer and the verifier
 * (xid8 as text: drivers disagree on how to return it).
 */
export const HASHED_EVENT_COLUMNS = [
  'seq',
  'id',
  'occurred_at',
  'actor_type',
  'actor_id',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'client_address',
  'details',
] as const;
export const xidText = sql<string | null>`xid::text`;

/**
 * HMAC-SHA256 under `key` (hex) of the RFC 8785 canonical JSON of an event at a chain position;
 * without a key, its plain SHA-256, the form of seals written before migration 0006. The single
 * definition shared by the sealer and verifyAuditChain, so they cannot drift apart; both hash
 * the row as read back from the database. Throws if the content cannot be canonicalized (only
 * possible for tampered rows; the verifier treats that as edited).
 *
 * Events written before migration 0005 (xid null) keep the form they were hashed in then:
 * no position or xid, their position being their seq (the verifier checks that). Every later
 * event also binds its position and its transaction id, so moving it in the chain, or changing
 * the order the sealer derives from xid, breaks its hash.
 */
export function hashAuditRow(
  row: AuditRowContent,
  link: AuditChainLink,
  key?: AuditChainKey,
): string {
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
    prevHash: link.prev_hash,
    ...(row.xid !== null && { position: String(link.position), xid: row.xid }),
  });
  if (canonical === undefined) throw new Error('audit row cannot be canonicalized');
  if (key !== undefined) return key.mac(canonical);
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

type AuditFields = Omit<AuditRowContent, 'seq' | 'id' | 'occurred_at' | 'xid' | 'outcome'> & {
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
 * Appends one event to the audit log: the ONE way to write audit rows. Pass the transaction that
 * makes the change being recorded, so the event commits or rolls back with it; given a
 * non-transaction handle, the single INSERT commits on its own.
 *
 * No lock is taken and no other row is read, so concurrent writers (and nodes) never wait for
 * one another. The database stamps the row (migration 0005): seq from a sequence, xid, insert
 * time. The event is unsealed until the sealer links it into the hash chain, about a second
 * after its transaction ends (seal.ts); seq therefore has holes where transactions rolled
 * back, and the chain's gapless numbering is its chain position, not seq.
 */
export async function recordAudit(
  db: Kysely<DatabaseSchema>,
  event: AuditEvent,
  now?: Date,
): Promise<{ seq: string; id: string }> {
  const fields = validateEvent(event);
  if (now !== undefined && !(now instanceof Date && Number.isFinite(now.getTime()))) {
    invalid('now must be a valid Date');
  }
  const id = randomUUID();
  const row = await db
    .insertInto('audit_events')
    .values({
      id,
      occurred_at: now ?? new Date(),
      ...fields,
      details: JSON.stringify(fields.details),
    })
    .returning('seq')
    .executeTakeFirstOrThrow();
  notifyObservers(db, event);
  // String(): node-postgres returns bigint as a string, PGlite as a number.
  return { seq: String(row.seq), id };
}

/** Told of each event recordAudit writes (the metrics, L4); must be cheap and must not throw. */
export type AuditObserver = (event: Readonly<AuditEvent>) => void;

// Keyed by the database's dialect adapter, which a Kysely instance shares with every transaction
// opened from it: an observer sees the events written through its own database, whichever
// transaction they were written in, and two apps on two databases in one process (tests) never
// see each other's.
const observers = new WeakMap<object, Set<AuditObserver>>();
const scopeOf = (db: Kysely<DatabaseSchema>): object => db.getExecutor().adapter;

/**
 * Calls `observer` with every event recordAudit writes through `db` (or a transaction of it),
 * as its INSERT succeeds: an event whose transaction later rolls back has been seen all the
 * same. Returns the function that stops the observation.
 */
export function observeAuditEvents(
  db: Kysely<DatabaseSchema>,
  observer: AuditObserver,
): () => void {
  const scope = scopeOf(db);
  let set = observers.get(scope);
  if (!set) {
    set = new Set();
    observers.set(scope, set);
  }
  set.add(observer);
  return () => void observers.get(scope)?.delete(observer);
}

function notifyObservers(db: Kysely<DatabaseSchema>, event: AuditEvent): void {
  const set = observers.get(scopeOf(db));
  if (!set) return;
  for (const observer of set) {
    // The event is written: a failing observer must not turn that into an error for the caller.
    try {
      observer(event);
    } catch {
      // Nothing to do: observers are counters, and a lost increment is not worth a failed request.
    }
  }
}
