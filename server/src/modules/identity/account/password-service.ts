// Password change (A7, A3): the current password is proven again (a guess counts against the
// same backoff as sign-in), the new one must pass the policy, and the other sessions end.
import { HavenError } from '../../../platform/errors.js';
import type { MailMessage } from '../../../platform/mail.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import { auditOwnAccount } from '../account-events.js';
import type { IdentityDeps } from '../dependencies.js';
import { voidOneTimeTokens } from '../onboarding/one-time-tokens-repo.js';
import { assertNewPasswordAllowed } from '../passwords/policy.js';
import { findPasswordOwner, storePasswordHash } from '../passwords/repo.js';
import { revokeUserSessions } from '../sessions/repo.js';
import { endSessions } from '../sessions/session-kit.js';
import {
  assertNoBackoff,
  clearLoginFailures,
  recordLoginFailure,
} from '../sign-in/login-throttle.js';
import type { PasswordChange } from './schemas.js';

/** Changes the caller's password; returns how many other sessions ended and the notice. */
export async function changePassword(
  deps: IdentityDeps,
  caller: { userId: string; sessionId: string | undefined },
  change: PasswordChange,
  request: RequestContext,
): Promise<{ revokedSessions: number; notice: MailMessage }> {
  const { context, services } = deps;
  const { db } = context;
  const now = context.now();
  const user = await findPasswordOwner(db, caller.userId);
  if (!user) throw new HavenError('UNAUTHENTICATED');
  // Guessing through this route counts against the same backoff as sign-in (A3).
  await assertNoBackoff(db, user.email, now);
  const currentOk =
    user.password_hash !== null &&
    (await services.hashing.verify(user.password_hash, change.currentPassword));
  if (!currentOk) {
    await recordLoginFailure(db, user.email, now);
    await auditOwnAccount(db, user.id, request, {
      action: 'account.password_changed',
      outcome: 'failure',
      details: { reason: 'wrong_current_password' },
    });
    throw new HavenError('INVALID_CREDENTIALS', 'The current password is incorrect.');
  }
  await clearLoginFailures(db, user.email);
  const owner = { email: user.email, displayName: user.display_name };
  await assertNewPasswordAllowed(services.passwordPolicy, change.newPassword, owner);
  const hash = await services.hashing.hash(change.newPassword);
  const ending = {
    actorId: user.id,
    action: 'account.password_changed',
    reason: 'password_changed',
    target: { type: 'user', id: user.id },
    ...request,
  };
  // The new hash, the revocations and the audit event commit together.
  const revokedSessions = await endSessions(deps, ending, async (trx) => {
    await storePasswordHash(trx, user.id, hash, now);
    // A reset link mailed earlier would otherwise undo this change.
    await voidOneTimeTokens(trx, 'password_reset', user.id, now);
    // Apps acting for the person end with the other sessions (connecting one again is a consent).
    await deps.services.credentialEndings.run(trx, user.id);
    return revokeUserSessions(trx, user.id, 'password_changed', now, caller.sessionId);
  });
  return {
    revokedSessions,
    notice: {
      to: user.email,
      subject: 'Your Haven password was changed',
      text: 'The password of your Haven account was just changed and your other sessions were signed out.\n\nIf this was not you, reset your password and contact your administrator.\n',
    },
  };
}
