// First admin: on a fresh installation the server prints a single-use setup link once; whoever
// holds the server's console creates the first admin with it, who must then enrol MFA (A9, A11).
// A lost link is replaced with `npx haven setup-link`, which voids the old one.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { auditOwnAccount } from '../account-events.js';
import type { IdentityServices, IdentitySettings } from '../dependencies.js';
import { assertPasswordAllowed } from '../passwords/policy.js';
import { cleanDisplayName } from '../users.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  peekOneTimeToken,
} from './one-time-tokens-repo.js';
import {
  hasUsers,
  insertInvitedUser,
  liveSetupLinkExpiry,
  lockSetup,
  voidSetupLinks,
} from './repo.js';
import { issueEnrollmentPending, linkTo } from './service.js';

type Db = Kysely<DatabaseSchema>;

/** What issuing a link needs: the CLI has no app, only the database, a clock and the origin. */
export type SetupLinkContext = Pick<ModuleContext, 'db' | 'now' | 'publicOrigin'>;

/** Issues a setup token and audits it, inside the caller's locked transaction. */
async function issueSetupToken(
  trx: Db,
  now: Date,
  details: Record<string, number | boolean> = {},
): Promise<string> {
  const issued = await issueOneTimeToken(trx, {
    purpose: 'setup',
    userId: null,
    lifetimeMs: LINK_LIFETIMES_MS.setup,
    now,
  });
  await recordAudit(trx, {
    actor: { type: 'system' },
    action: 'auth.setup_link_issued',
    outcome: 'success',
    details: { expires_at: issued.expiresAt.toISOString(), ...details },
  });
  return issued.token;
}

/**
 * Returns a setup link when the users table is empty and no live setup link exists, else null.
 * A live link is never shown again (only its hash is stored), so a restart within its 24 hours
 * prints no new one; `onPending` lets the caller say so instead of staying silent.
 */
export async function ensureSetupLink(
  context: SetupLinkContext,
  options: { onPending?: (expiresAt: Date) => void } = {},
): Promise<string | null> {
  const now = context.now();
  const outcome = await context.db.transaction().execute(async (trx) => {
    await lockSetup(trx);
    if (await hasUsers(trx)) return { kind: 'done' as const };
    const live = await liveSetupLinkExpiry(trx, now);
    if (live) return { kind: 'pending' as const, expiresAt: live };
    return { kind: 'issued' as const, token: await issueSetupToken(trx, now) };
  });
  if (outcome.kind === 'pending') options.onPending?.(outcome.expiresAt);
  return outcome.kind === 'issued' ? linkTo(context, 'setup', outcome.token) : null;
}

/**
 * `npx haven setup-link`: replaces a lost setup link. Every unused setup link is voided and a new
 * one issued (audited like the first), in one transaction under the setup lock. Returns null,
 * issuing nothing, once any user exists: the link only ever creates the first admin.
 */
export async function reissueSetupLink(context: SetupLinkContext): Promise<string | null> {
  const now = context.now();
  const token = await context.db.transaction().execute(async (trx) => {
    await lockSetup(trx);
    if (await hasUsers(trx)) return null;
    const voided = await voidSetupLinks(trx, now);
    return issueSetupToken(trx, now, { reissued: true, voided_links: voided });
  });
  return token === null ? null : linkTo(context, 'setup', token);
}

/**
 * Creates the first admin from the setup link. The admin stays 'invited' (no session) until
 * MFA enrolment is confirmed; the answer is the enrolment pending token.
 */
export async function setupFirstAdmin(
  context: ModuleContext<IdentitySettings>,
  services: Pick<IdentityServices, 'hashing' | 'passwordPolicy'>,
  input: { token: string; email: string; displayName: string; password: string },
  request: RequestContext,
): Promise<{ userId: string; pendingToken: string }> {
  const now = context.now();
  const email = input.email.trim();
  const displayName = cleanDisplayName(input.displayName);
  // Cheap check first: a caller without a live link costs no argon2id work.
  if (!(await peekOneTimeToken(context.db, 'setup', input.token, now))) {
    throw new HavenError('NOT_FOUND');
  }
  // A refused password is answered before the link is used, so the operator can retry.
  await assertPasswordAllowed(services.passwordPolicy, input.password, { email, displayName });
  const passwordHash = await services.hashing.hash(input.password);
  return context.db.transaction().execute(async (trx) => {
    await lockSetup(trx);
    const record = await consumeOneTimeToken(trx, 'setup', input.token, now);
    if (!record) throw new HavenError('NOT_FOUND');
    // Checked under the lock in the same transaction: a second setup (another link, another
    // node) waits for the first to commit, then finds its admin here.
    if (await hasUsers(trx)) throw new HavenError('CONFLICT', 'Haven is already set up.');
    const userId = await insertInvitedUser(trx, {
      email,
      displayName,
      role: 'admin',
      passwordHash,
    });
    await auditOwnAccount(trx, userId, request, {
      action: 'auth.setup_admin_created',
      details: { next: 'mfa_enrollment' },
    });
    return {
      userId,
      pendingToken: await issueEnrollmentPending(trx, userId, now, request),
    };
  });
}
