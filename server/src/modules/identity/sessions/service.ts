// Session use cases (A6, A7): rotating refresh tokens with reuse detection, and the refresh
// step that re-reads the account. Presenting an already-consumed refresh token means it was
// copied: the whole session is revoked.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { sha256Hex } from '../../../platform/crypto.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { IdentitySettings } from '../dependencies.js';
import { toSignedInUser, type SignedInUser } from '../users.js';
import {
  consumeRefreshToken,
  findRefreshToken,
  findSession,
  findSessionUser,
  insertRefreshToken,
  linkRefreshSuccessor,
  revokeSession,
  touchSession,
  type IssuedSession,
  type SessionLifetimes,
} from './repo.js';

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
  db: Kysely<DatabaseSchema>,
  presented: string,
  lifetimes: SessionLifetimes,
  now: Date,
  context: RequestContext,
): Promise<RefreshOutcome> {
  return db.transaction().execute(async (trx) => {
    const hash = sha256Hex(presented);
    const consumed = await consumeRefreshToken(trx, hash, now);
    if (!consumed) {
      const known = await findRefreshToken(trx, hash);
      if (!known) return { ok: false, reason: 'unknown' } as const;
      if (known.consumed_at === null) return { ok: false, reason: 'expired' } as const;
      await revokeSession(trx, known.session_id, 'refresh_reuse', now);
      await recordUserEvent(trx, known.user_id, context, {
        action: 'auth.refresh_reuse',
        target: { type: 'session', id: known.session_id },
        outcome: 'denied',
      });
      return { ok: false, reason: 'reused' } as const;
    }
    const session = await findSession(trx, consumed.session_id);
    if (session.revoked_at !== null) return { ok: false, reason: 'revoked' } as const;
    if (session.idle_expires_at <= now || session.absolute_expires_at <= now) {
      await revokeSession(trx, session.id, 'expired', now);
      return { ok: false, reason: 'expired' } as const;
    }
    const idleExpiresAt = new Date(
      Math.min(now.getTime() + lifetimes.idleMs, session.absolute_expires_at.getTime()),
    );
    await touchSession(trx, session.id, now, idleExpiresAt);
    const next = await insertRefreshToken(trx, session.id, session.absolute_expires_at);
    await linkRefreshSuccessor(trx, consumed.id, next.id);
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

export type RenewedSession = Extract<RefreshOutcome, { ok: true }> & { user: SignedInUser };

/**
 * The refresh step: rotates the presented token, then re-reads the account. Undefined when
 * there is no session to renew; a session whose account is no longer active is ended.
 */
export async function renewSession(
  context: ModuleContext<IdentitySettings>,
  presented: string | undefined,
  request: RequestContext,
): Promise<RenewedSession | undefined> {
  const outcome = presented
    ? await rotateRefreshToken(
        context.db,
        presented,
        context.settings.lifetimes,
        context.now(),
        request,
      )
    : ({ ok: false, reason: 'unknown' } as const);
  if (!outcome.ok) return undefined;
  const user = await findSessionUser(context.db, outcome.userId);
  if (!user || user.status !== 'active') {
    await revokeSession(context.db, outcome.session.sessionId, 'user_inactive', context.now());
    return undefined;
  }
  return { ...outcome, user: toSignedInUser(user) };
}
