// Sessions and refresh tokens in the database (A6, A7). The refresh token is opaque (256 bits)
// and stored only as SHA-256; every query names the session or the user it works on.
import { sql } from 'kysely';
import { randomToken, sha256Hex } from '../../../platform/crypto.js';
import { userById, type Db } from '../users-repo.js';

export interface SessionLifetimes {
  /** Idle timeout: no refresh for this long ends the session (default 15 min). */
  readonly idleMs: number;
  /** Absolute lifetime from login (default 12 h). */
  readonly absoluteMs: number;
}

export const DEFAULT_LIFETIMES: SessionLifetimes = {
  idleMs: 15 * 60_000,
  absoluteMs: 12 * 3_600_000,
};

export interface NewSession {
  readonly userId: string;
  readonly amr: readonly string[];
  readonly mfaAt: Date | null;
  readonly userAgent: string | null;
  readonly clientAddress: string | null;
}

export interface IssuedSession {
  readonly sessionId: string;
  readonly refreshToken: string;
  readonly idleExpiresAt: Date;
  readonly absoluteExpiresAt: Date;
}

export async function insertRefreshToken(
  db: Db,
  sessionId: string,
  expiresAt: Date,
): Promise<{ id: string; token: string }> {
  const token = randomToken(32);
  const row = await db
    .insertInto('refresh_tokens')
    .values({ session_id: sessionId, token_hash: sha256Hex(token), expires_at: expiresAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token };
}

/** Creates a session and its first refresh token; call inside the login transaction. */
export async function createSession(
  db: Db,
  input: NewSession,
  lifetimes: SessionLifetimes,
  now: Date,
): Promise<IssuedSession> {
  const absoluteExpiresAt = new Date(now.getTime() + lifetimes.absoluteMs);
  const idleExpiresAt = new Date(
    Math.min(now.getTime() + lifetimes.idleMs, absoluteExpiresAt.getTime()),
  );
  const session = await db
    .insertInto('sessions')
    .values({
      user_id: input.userId,
      created_at: now,
      last_seen_at: now,
      idle_expires_at: idleExpiresAt,
      absolute_expires_at: absoluteExpiresAt,
      amr: [...input.amr],
      mfa_at: input.mfaAt,
      user_agent: input.userAgent?.slice(0, 300) ?? null,
      client_address: input.clientAddress,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const refresh = await insertRefreshToken(db, session.id, absoluteExpiresAt);
  return { sessionId: session.id, refreshToken: refresh.token, idleExpiresAt, absoluteExpiresAt };
}

/**
 * Spends a live refresh token: a single conditional UPDATE, so of two racing requests exactly
 * one gets the row back.
 */
export function consumeRefreshToken(db: Db, tokenHash: string, now: Date) {
  return db
    .updateTable('refresh_tokens')
    .set({ consumed_at: now })
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['id', 'session_id'])
    .executeTakeFirst();
}

/** A refresh token whatever its state, with its session's user (to tell reuse from expiry). */
export function findRefreshToken(db: Db, tokenHash: string) {
  return db
    .selectFrom('refresh_tokens')
    .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
    .select(['refresh_tokens.session_id', 'refresh_tokens.consumed_at', 'sessions.user_id'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export function findSession(db: Db, sessionId: string) {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('id', '=', sessionId)
    .executeTakeFirstOrThrow();
}

/** A refresh moved the idle expiry forward. */
export async function touchSession(
  db: Db,
  sessionId: string,
  now: Date,
  idleExpiresAt: Date,
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
    .where('id', '=', sessionId)
    .execute();
}

/** Links a spent refresh token to its successor (the rotation chain, for investigation). */
export async function linkRefreshSuccessor(
  db: Db,
  consumedId: string,
  successorId: string,
): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ replaced_by: successorId })
    .where('id', '=', consumedId)
    .execute();
}

/**
 * The columns a revocation sets. Both come from the database, not from this node's clock:
 * revoked_at is the database's now(), and revocation_xid (the revoking transaction) is the
 * cursor every node's revocation cache polls by (A7; see revocation.ts). A node whose clock
 * is off can therefore neither hide its sign-outs from the others nor make theirs look old.
 */
const revokedNow = (reason: string) => ({
  revoked_at: sql<Date>`now()`,
  revocation_xid: sql<string>`pg_current_xact_id()`,
  revoked_reason: reason.slice(0, 64),
});

/**
 * Revokes one session (idempotent); returns whether it was live. `_now` (the caller's clock)
 * is not used: the database's clock is (see revokedNow).
 */
export async function revokeSession(
  db: Db,
  sessionId: string,
  reason: string,
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- call sites still pass it
  _now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set(revokedNow(reason))
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Revokes every live session of a user, optionally keeping one (password change); returns
 * their ids. `_now` is not used: the database's clock is (see revokedNow).
 */
export async function revokeUserSessions(
  db: Db,
  userId: string,
  reason: string,
  _now: Date,
  keepSessionId?: string,
): Promise<string[]> {
  let query = db
    .updateTable('sessions')
    .set(revokedNow(reason))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keepSessionId !== undefined) query = query.where('id', '!=', keepSessionId);
  const rows = await query.returning('id').execute();
  return rows.map((row) => row.id);
}

export interface SessionSummary {
  readonly id: string;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly userAgent: string | null;
  readonly clientAddress: string | null;
}

/** The user's live sessions, newest first (device, address, last seen). */
export async function listUserSessions(
  db: Db,
  userId: string,
  now: Date,
): Promise<SessionSummary[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_seen_at', 'user_agent', 'client_address'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('idle_expires_at', '>', now)
    .where('absolute_expires_at', '>', now)
    .orderBy('last_seen_at', 'desc')
    .limit(100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
    userAgent: r.user_agent,
    clientAddress: r.client_address,
  }));
}

/** The session when it belongs to the user (any state); someone else's answers undefined. */
export function findOwnSession(db: Db, userId: string, sessionId: string) {
  return db
    .selectFrom('sessions')
    .select('id')
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** The account a session belongs to, with its status: a refresh checks it is still active. */
export function findSessionUser(db: Db, userId: string) {
  return userById(db, userId)
    .select(['id', 'email', 'display_name', 'roles', 'status'])
    .executeTakeFirst();
}

/**
 * The account as GET /api/auth/me shows it: only the columns the answer carries. Status is not
 * needed there: disabling an account revokes its sessions, and the access check refuses a revoked
 * session before the handler runs. The fifth column cost the embedded database 3–13 µs per call
 * (issue 9).
 */
export function findSignedInUser(db: Db, userId: string) {
  return userById(db, userId).select(['id', 'email', 'display_name', 'roles']).executeTakeFirst();
}

/** A snapshot row of the revocation poll (revocation.ts). */
export interface RevocationPollRow {
  /** pg_current_snapshot() as text: "xmin:xmax:xip,…". */
  snapshot: string;
  /** A newly visible revoked session, or null when there is none (the snapshot row alone). */
  id: string | null;
}

// Both reads are one statement, so the snapshot returned is the one the rows were read
// under. The left join keeps the snapshot row when nothing new was revoked.

/** Sessions revoked within the last `retainMs` by the database's clock, with a snapshot. */
export function readRecentRevocations(db: Db, retainMs: number) {
  return sql<RevocationPollRow>`
      SELECT c.snapshot, s.id
      FROM (SELECT pg_current_snapshot()::text AS snapshot) c
      LEFT JOIN sessions s
        ON s.revoked_at > now() - ${retainMs}::float8 * interval '1 millisecond'`.execute(db);
}

/** Revocations that were not yet visible in the `previous` snapshot, with a new snapshot. */
export function readRevocationsSince(db: Db, previous: string) {
  return sql<RevocationPollRow>`
      SELECT c.snapshot, s.id
      FROM (SELECT pg_current_snapshot()::text AS snapshot) c
      LEFT JOIN sessions s
        ON s.revocation_xid >= pg_snapshot_xmin(${previous}::pg_snapshot)
        AND NOT pg_visible_in_snapshot(s.revocation_xid, ${previous}::pg_snapshot)`.execute(db);
}
