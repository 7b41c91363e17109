// Sessions and rotating refresh tokens (A6, A7). A session row per login; the refresh
// token is opaque (256 bits), stored as SHA-256, and consumed atomically on every use.
// Presenting an already-consumed token means it was copied: the whole session is revoked.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { recordAudit } from '../../platform/audit/audit.js';

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

type Db = Kysely<DatabaseSchema>;

async function insertRefreshToken(
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

export type RefreshOutcome =
  | {
      readonly ok: true;
      readonly session: IssuedSession;
      readonly userId: string;
      readonly amr: string[];
      readonly mfaAt: Date | null;
      readonly authTime: Date;
    }
  | { readonly ok: false; readonly reason: 'unknown' | 'reused' | 'expired' | 'revoked' };

/**
 * Consumes a refresh token and issues its successor in one transaction. The consume is a
 * single conditional UPDATE, so of two racing requests exactly one wins; the loser sees a
 * consumed token and the session is revoked (reuse detection, audited).
 */
export async function rotateRefreshToken(
  db: Db,
  presented: string,
  lifetimes: SessionLifetimes,
  now: Date,
  context: { requestId: string; clientAddress: string },
): Promise<RefreshOutcome> {
  return db.transaction().execute(async (trx) => {
    const hash = sha256Hex(presented);
    const consumed = await trx
      .updateTable('refresh_tokens')
      .set({ consumed_at: now })
      .where('token_hash', '=', hash)
      .where('consumed_at', 'is', null)
      .where('expires_at', '>', now)
      .returning(['id', 'session_id'])
      .executeTakeFirst();
    if (!consumed) {
      const known = await trx
        .selectFrom('refresh_tokens')
        .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
        .select(['refresh_tokens.session_id', 'refresh_tokens.consumed_at', 'sessions.user_id'])
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      if (!known) return { ok: false, reason: 'unknown' } as const;
      if (known.consumed_at === null) return { ok: false, reason: 'expired' } as const;
      await revokeSession(trx, known.session_id, 'refresh_reuse', now);
      await recordAudit(trx, {
        actor: { type: 'user', id: known.user_id },
        action: 'auth.refresh_reuse',
        target: { type: 'session', id: known.session_id },
        outcome: 'denied',
        requestId: context.requestId,
        clientAddress: context.clientAddress,
      });
      return { ok: false, reason: 'reused' } as const;
    }
    const session = await trx
      .selectFrom('sessions')
      .selectAll()
      .where('id', '=', consumed.session_id)
      .executeTakeFirstOrThrow();
    if (session.revoked_at !== null) return { ok: false, reason: 'revoked' } as const;
    if (session.idle_expires_at <= now || session.absolute_expires_at <= now) {
      await revokeSession(trx, session.id, 'expired', now);
      return { ok: false, reason: 'expired' } as const;
    }
    const idleExpiresAt = new Date(
      Math.min(now.getTime() + lifetimes.idleMs, session.absolute_expires_at.getTime()),
    );
    await trx
      .updateTable('sessions')
      .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
      .where('id', '=', session.id)
      .execute();
    const next = await insertRefreshToken(trx, session.id, session.absolute_expires_at);
    await trx
      .updateTable('refresh_tokens')
      .set({ replaced_by: next.id })
      .where('id', '=', consumed.id)
      .execute();
    return {
      ok: true,
      userId: session.user_id,
      amr: session.amr,
      mfaAt: session.mfa_at,
      authTime: session.created_at,
      session: {
        sessionId: session.id,
        refreshToken: next.token,
        idleExpiresAt,
        absoluteExpiresAt: session.absolute_expires_at,
      },
    } as const;
  });
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
