// First admin: on a fresh installation the server prints a single-use setup link once; whoever
// holds the server's console creates the first admin with it, who must then enrol MFA (A9, A11).
// A lost link is replaced with `npx haven setup-link`, which voids the old one.
import { sql, type Kysely } from 'kysely';
import type { HavenConfig } from '../../config.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { normalizeEmail } from './login-throttle.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  peekOneTimeToken,
} from './one-time-tokens.js';
import { assertPasswordAllowed, issueEnrollmentPending } from './onboarding.js';
import { hashPassword } from './passwords.js';
import type { IdentityContext } from './session-kit.js';
import type { RequestContext } from './sign-in.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The identity module's dependencies; absent when a test harness supplies its own authenticator. */
    identity?: IdentityContext;
  }
}

/**
 * Serializes link issuing and setup across nodes ('hvnsetup' as a bigint): two nodes starting
 * together issue one link, and two setups at once cannot both see an empty users table.
 */
export const SETUP_LOCK_KEY = '7527325269098788208';

type Db = Kysely<DatabaseSchema>;

const lockSetup = async (trx: Db): Promise<void> => {
  await sql`select pg_advisory_xact_lock(${SETUP_LOCK_KEY}::bigint)`.execute(trx);
};

const hasUsers = async (trx: Db): Promise<boolean> =>
  (await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;

/** What issuing a link needs: the CLI has no app, so not the whole IdentityContext. */
export type SetupLinkContext = Pick<IdentityContext, 'db' | 'now'> & {
  readonly config: Pick<HavenConfig, 'publicOrigin'>;
};

const linkFor = (ctx: SetupLinkContext, token: string): string =>
  `${ctx.config.publicOrigin}/setup#token=${token}`;

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
  ctx: SetupLinkContext,
  options: { onPending?: (expiresAt: Date) => void } = {},
): Promise<string | null> {
  const now = ctx.now();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    await lockSetup(trx);
    if (await hasUsers(trx)) return { kind: 'done' as const };
    const live = await trx
      .selectFrom('one_time_tokens')
      .select('expires_at')
      .where('purpose', '=', 'setup')
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('expires_at', 'desc')
      .executeTakeFirst();
    if (live) return { kind: 'pending' as const, expiresAt: live.expires_at };
    return { kind: 'issued' as const, token: await issueSetupToken(trx, now) };
  });
  if (outcome.kind === 'pending') options.onPending?.(outcome.expiresAt);
  return outcome.kind === 'issued' ? linkFor(ctx, outcome.token) : null;
}

/**
 * `npx haven setup-link`: replaces a lost setup link. Every unused setup link is voided and a new
 * one issued (audited like the first), in one transaction under the setup lock. Returns null,
 * issuing nothing, once any user exists: the link only ever creates the first admin.
 */
export async function reissueSetupLink(ctx: SetupLinkContext): Promise<string | null> {
  const now = ctx.now();
  const token = await ctx.db.transaction().execute(async (trx) => {
    await lockSetup(trx);
    if (await hasUsers(trx)) return null;
    const voided = await trx
      .updateTable('one_time_tokens')
      .set({ used_at: now })
      .where('purpose', '=', 'setup')
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return issueSetupToken(trx, now, {
      reissued: true,
      voided_links: Number(voided.numUpdatedRows),
    });
  });
  return token === null ? null : linkFor(ctx, token);
}

/**
 * Creates the first admin from the setup link. The admin stays 'invited' (no session) until
 * MFA enrolment is confirmed; the answer is the enrolment pending token.
 */
export async function setupFirstAdmin(
  ctx: IdentityContext,
  input: { token: string; email: string; displayName: string; password: string },
  context: RequestContext,
): Promise<{ userId: string; pendingToken: string }> {
  const now = ctx.now();
  const email = input.email.trim();
  const displayName = input.displayName.trim();
  // Cheap check first: a caller without a live link costs no argon2id work.
  if (!(await peekOneTimeToken(ctx.db, 'setup', input.token, now))) {
    throw new HavenError('NOT_FOUND');
  }
  // A refused password is answered before the link is used, so the operator can retry.
  await assertPasswordAllowed(ctx, input.password, { email, displayName });
  const passwordHash = await hashPassword(input.password, ctx.hashing);
  return ctx.db.transaction().execute(async (trx) => {
    await lockSetup(trx);
    const record = await consumeOneTimeToken(trx, 'setup', input.token, now);
    if (!record) throw new HavenError('NOT_FOUND');
    // Checked under the lock in the same transaction: a second setup (another link, another
    // node) waits for the first to commit, then finds its admin here.
    if (await hasUsers(trx)) throw new HavenError('CONFLICT', 'Haven is already set up.');
    const user = await trx
      .insertInto('users')
      .values({
        email,
        email_normalized: normalizeEmail(email),
        display_name: displayName,
        roles: ['admin'],
        status: 'invited',
        password_hash: passwordHash,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.setup_admin_created',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { next: 'mfa_enrollment' },
      ...context,
    });
    return {
      userId: user.id,
      pendingToken: await issueEnrollmentPending(trx, user.id, now, context),
    };
  });
}
