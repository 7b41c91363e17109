// Wires the identity module: key ring, signing keys, revocation cache, the Authenticator the
// platform's access hooks use, and the routes.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { HavenConfig } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import { createKeyRing } from '../../platform/crypto.js';
import { createAccessTokenVerifier } from '../../platform/auth/jwt-authenticator.js';
import type { Authenticator } from '../../platform/auth/principal.js';
import { createIdentityAuthenticator } from './authenticator.js';
import { createCsrfTokens } from './browser-credentials.js';
import {
  DEFAULT_PASSWORD_POLICY,
  MINIMUM_HASHING,
  createDummyVerifier,
  type PasswordPolicy,
} from './passwords.js';
import type { IdentityContext } from './session-kit.js';
import type { Mailer } from '../../platform/mail.js';
import { inviteUser, type InviteInput } from './onboarding.js';
import { listUserSessions } from './sessions.js';
import { normalizeEmail } from './login-throttle.js';
import { createOutboundClient } from '../../platform/http-client.js';
import { createRevocationCache, type RevocationCache } from './revocation.js';
import { registerIdentityRoutes } from './routes.js';
import { registerMfaEnrollmentRoutes } from './mfa-enrollment-routes.js';
import { registerOnboardingRoutes } from './onboarding-routes.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerAdminUserRoutes } from './admin-users-routes.js';
import { registerPasswordRoutes } from './password-reset-routes.js';
import {
  ACCESS_TOKEN_LIFETIME_SECONDS,
  createSigningKeyStore,
  registerJwksRoute,
} from './signing-keys.js';

export const ACCESS_TOKEN_AUDIENCE = 'haven-api';

/** What other modules may use of identity (they never import its inner files). */
export interface IdentityApi {
  /** A11: invite someone by email (see onboarding.ts inviteUser). */
  inviteUser(input: InviteInput): Promise<{ userId: string; expiresAt: Date }>;
  readonly listUserSessions: typeof listUserSessions;
  readonly normalizeEmail: typeof normalizeEmail;
  /**
   * @deprecated Transitional: the clinical modules still take the whole identity context while
   * they move to ModuleContext. Removed once none reads it.
   */
  readonly legacyContext: IdentityContext;
}

export interface Identity {
  readonly authenticator: Authenticator;
  readonly revocations: RevocationCache;
  readonly api: IdentityApi;
  register(app: FastifyInstance): void;
}

/** The password policy from config; the breach check goes through the SSRF-safe client. */
function passwordPolicyFor(config: HavenConfig): PasswordPolicy {
  const policy: PasswordPolicy = {
    ...DEFAULT_PASSWORD_POLICY,
    minLength: config.identity.passwordMinLength,
  };
  if (config.identity.hibpBaseUrl) {
    const host = new URL(config.identity.hibpBaseUrl).hostname;
    policy.breachCheck = {
      baseUrl: config.identity.hibpBaseUrl,
      client: createOutboundClient({
        allowHosts: config.outboundAllowHosts.filter((h) => h === host),
      }),
    };
  }
  return policy;
}

export function createIdentity(
  config: HavenConfig,
  database: Database,
  log: Logger,
  mailer: Mailer,
  now: () => Date = () => new Date(),
): Identity {
  const ring = createKeyRing(config.masterKey);
  const keys = createSigningKeyStore({ db: database.db, ring });
  const revocations = createRevocationCache({ db: database.db, log });
  const csrf = createCsrfTokens(config.masterKey);
  const allowedOrigins = new Set([config.publicOrigin, ...config.corsOrigins]);
  const verify = createAccessTokenVerifier({
    issuer: config.publicOrigin,
    audience: ACCESS_TOKEN_AUDIENCE,
    keyForKid: (kid) => keys.publicKeyForKid(kid),
    maxLifetimeSeconds: ACCESS_TOKEN_LIFETIME_SECONDS,
    isSessionRevoked: (sessionId) => Promise.resolve(revocations.isRevoked(sessionId)),
  });
  const hashing = {
    memoryCost: config.identity.argon2MemoryKib,
    timeCost: config.identity.argon2TimeCost,
    parallelism: MINIMUM_HASHING.parallelism,
  };
  const context: IdentityContext = {
    config,
    db: database.db,
    ring,
    hashing,
    dummyVerify: createDummyVerifier(hashing),
    mfaRequiredRoles: new Set(config.identity.mfaRequiredRoles),
    keys,
    csrf,
    revocations,
    lifetimes: {
      idleMs: config.identity.sessionIdleMs,
      absoluteMs: config.identity.sessionAbsoluteMs,
    },
    issuer: config.publicOrigin,
    audience: ACCESS_TOKEN_AUDIENCE,
    allowedOrigins,
    passwordPolicy: passwordPolicyFor(config),
    mailer,
    now,
  };
  return {
    authenticator: createIdentityAuthenticator({ verify, csrf, allowedOrigins }),
    revocations,
    api: {
      inviteUser: (input) => inviteUser(context, input),
      listUserSessions,
      normalizeEmail,
      legacyContext: context,
    },
    register(app) {
      registerJwksRoute(app, keys);
      registerIdentityRoutes(app, context);
      registerOnboardingRoutes(app, context);
      registerMfaEnrollmentRoutes(app, context);
      app.decorate('identity', context); // main.ts issues the first-admin setup link with it
      registerAccountRoutes(app, context);
      registerPasswordRoutes(app, context);
      registerAdminUserRoutes(app, context);
      app.addHook('onReady', async () => revocations.start());
      app.addHook('onClose', async () => revocations.stop());
    },
  };
}
export type { InviteInput } from './onboarding.js';
