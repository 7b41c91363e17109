// The signed-in user's own account: step-up MFA (A9) and MFA management (A9, Z5); profile and
// email change live in account-profile-routes.ts. Sensitive changes are marked stepUp in
// their declaration, so the access hook refuses them without an MFA check in the last
// 5 minutes before any handler runs.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { ACCESS_COOKIE, setCookie } from './browser-credentials.js';
import { registerProfileRoutes, viewOf } from './account-profile-routes.js';
import { clearLoginFailures, recordLoginFailure, remainingBackoffMs } from './login-throttle.js';
import {
  generateRecoveryCodes,
  remainingRecoveryCodes,
  replaceRecoveryCodes,
} from './recovery-codes.js';
import { requiresMfa, scopesForRoles } from './roles.js';
import { SignedIn, type IdentityContext } from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS, issueAccessToken } from './signing-keys.js';
import { consumeTotpStep, openTotpSecret, verifyTotp } from './totp.js';

const Empty = Type.Object({}, { additionalProperties: false });

/** Step-up guesses back off like sign-in guesses, on a key of their own per user. */
const stepUpThrottleKey = (userId: string): string => `step-up:${userId}`;

export function registerAccountRoutes(app: FastifyInstance, deps: IdentityContext): void {
  app.post(
    '/api/auth/step-up',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'auth' },
      schema: {
        body: Type.Object(
          { code: Type.String({ pattern: '^[0-9]{6}$', maxLength: 6 }) },
          { additionalProperties: false },
        ),
        response: { 200: SignedIn },
      },
    },
    async (request, reply) => {
      const { subject, sessionId } = requirePrincipal(request);
      if (!sessionId) throw new HavenError('FORBIDDEN', 'Step-up needs a user session.');
      const { code } = request.body as { code: string };
      const now = deps.now();
      const throttleKey = stepUpThrottleKey(subject);
      const backoffMs = await remainingBackoffMs(deps.db, throttleKey, now);
      if (backoffMs > 0) {
        const seconds = Math.ceil(backoffMs / 1000);
        throw new HavenError('LOGIN_BACKOFF', `Try again in ${seconds} seconds.`, {
          headers: { 'retry-after': String(seconds) },
        });
      }
      const user = await deps.db
        .selectFrom('users')
        .select([
          'id',
          'email',
          'display_name',
          'roles',
          'status',
          'totp_secret_enc',
          'totp_last_step',
        ])
        .where('id', '=', subject)
        .executeTakeFirst();
      if (!user || user.status !== 'active') throw new HavenError('UNAUTHENTICATED');
      if (!user.totp_secret_enc) {
        throw new HavenError('CONFLICT', 'Set up an authenticator app first.');
      }
      const checked = verifyTotp({
        secret: openTotpSecret(deps.ring, user.id, user.totp_secret_enc),
        code,
        lastStep: user.totp_last_step === null ? null : BigInt(user.totp_last_step),
        now: now.getTime(),
      });
      const session = await deps.db.transaction().execute(async (trx) => {
        // Winning the step is what makes the code single-use across nodes.
        if (!checked.ok || !(await consumeTotpStep(trx, user.id, checked.step))) return undefined;
        const current = await trx
          .selectFrom('sessions')
          .select(['amr'])
          .where('id', '=', sessionId)
          .where('user_id', '=', user.id)
          .where('revoked_at', 'is', null)
          .where('absolute_expires_at', '>', now)
          .executeTakeFirst();
        if (!current) throw new HavenError('SESSION_EXPIRED');
        // Stored on the session so refreshed access tokens keep the fresh MFA time too.
        const updated = await trx
          .updateTable('sessions')
          .set({ mfa_at: now, amr: [...new Set([...current.amr, 'otp'])] })
          .where('id', '=', sessionId)
          .returning(['amr', 'created_at', 'idle_expires_at', 'absolute_expires_at'])
          .executeTakeFirstOrThrow();
        await recordAudit(trx, {
          actor: { type: 'user', id: user.id },
          action: 'auth.step_up',
          target: { type: 'session', id: sessionId },
          outcome: 'success',
          ...requestContext(request),
        });
        return updated;
      });
      if (!session) {
        await recordLoginFailure(deps.db, throttleKey, now);
        await recordAudit(deps.db, {
          actor: { type: 'user', id: user.id },
          action: 'auth.step_up',
          target: { type: 'session', id: sessionId },
          outcome: 'failure',
          ...requestContext(request),
        });
        throw new HavenError('MFA_INVALID');
      }
      await clearLoginFailures(deps.db, throttleKey);
      // Only the access token changes: the refresh token and CSRF token stay as they are.
      const access = await issueAccessToken({
        keys: deps.keys,
        issuer: deps.issuer,
        audience: deps.audience,
        subject: user.id,
        sessionId,
        scopes: scopesForRoles(user.roles),
        amr: session.amr,
        authTime: Math.floor(session.created_at.getTime() / 1000),
        mfaAt: Math.floor(now.getTime() / 1000),
        now: () => deps.now().getTime(),
      });
      setCookie(reply, ACCESS_COOKIE, access.token, ACCESS_TOKEN_LIFETIME_SECONDS);
      return {
        status: 'signed_in' as const,
        user: viewOf(user),
        csrfToken: deps.csrf.forSession(sessionId),
        accessExpiresAt: access.expiresAt,
        idleExpiresAt: session.idle_expires_at.toISOString(),
        absoluteExpiresAt: session.absolute_expires_at.toISOString(),
      };
    },
  );

  app.get(
    '/api/account/mfa',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            {
              enrolled: Type.Boolean(),
              required: Type.Boolean(),
              recoveryCodesRemaining: Type.Integer(),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const user = await deps.db
        .selectFrom('users')
        .select(['roles', 'totp_enrolled_at'])
        .where('id', '=', subject)
        .executeTakeFirst();
      if (!user) throw new HavenError('UNAUTHENTICATED');
      return {
        enrolled: user.totp_enrolled_at !== null,
        required: requiresMfa(user.roles, deps.mfaRequiredRoles),
        recoveryCodesRemaining: await remainingRecoveryCodes(deps.db, subject),
      };
    },
  );

  app.post(
    '/api/account/mfa/recovery-codes',
    {
      config: {
        access: requireScopes(['account:write'], { stepUp: true }),
        rateClass: 'sensitive',
      },
      schema: {
        body: Empty,
        response: {
          200: Type.Object(
            { recoveryCodes: Type.Array(Type.String({ maxLength: 11 }), { maxItems: 10 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'totp_enrolled_at'])
        .where('id', '=', subject)
        .executeTakeFirst();
      if (!user) throw new HavenError('UNAUTHENTICATED');
      if (user.totp_enrolled_at === null) {
        throw new HavenError('CONFLICT', 'Set up an authenticator app first.');
      }
      const recoveryCodes = generateRecoveryCodes();
      await deps.db.transaction().execute(async (trx) => {
        await replaceRecoveryCodes(trx, user.id, recoveryCodes);
        await recordAudit(trx, {
          actor: { type: 'user', id: user.id },
          action: 'account.recovery_codes_regenerated',
          target: { type: 'user', id: user.id },
          outcome: 'success',
          details: { count: recoveryCodes.length },
          ...requestContext(request),
        });
      });
      return { recoveryCodes };
    },
  );

  app.delete(
    '/api/account/mfa',
    {
      config: {
        access: requireScopes(['account:write'], { stepUp: true }),
        rateClass: 'sensitive',
      },
      schema: { response: { 200: Empty } },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      await deps.db.transaction().execute(async (trx) => {
        // Locked so a concurrent role change cannot slip an MFA-required role in between.
        const user = await trx
          .selectFrom('users')
          .select(['id', 'roles'])
          .where('id', '=', subject)
          .forUpdate()
          .executeTakeFirst();
        if (!user) throw new HavenError('UNAUTHENTICATED');
        if (requiresMfa(user.roles, deps.mfaRequiredRoles)) {
          throw new HavenError('CONFLICT', 'Your role requires MFA, so it cannot be turned off.');
        }
        await trx
          .updateTable('users')
          .set({
            totp_secret_enc: null,
            totp_enrolled_at: null,
            totp_last_step: null,
            updated_at: deps.now(),
          })
          .where('id', '=', user.id)
          .execute();
        await trx.deleteFrom('recovery_codes').where('user_id', '=', user.id).execute();
        await recordAudit(trx, {
          actor: { type: 'user', id: user.id },
          action: 'account.mfa_disabled',
          target: { type: 'user', id: user.id },
          outcome: 'success',
          ...requestContext(request),
        });
      });
      return {};
    },
  );

  registerProfileRoutes(app, deps);
}
