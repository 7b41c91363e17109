// The identity module's front door: it wires key ring, signing keys, revocation cache, the
// Authenticator the platform's access hooks use, and the routes of every sub-domain. Nothing
// outside this folder imports any other file of it: what others need is exported here.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { HavenConfig } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { createAccessTokenVerifier } from '../../platform/auth/jwt-authenticator.js';
import type { Authenticator } from '../../platform/auth/principal.js';
import type { Mailer } from '../../platform/mail.js';
import type { ModuleOptions } from '../../platform/module-context.js';
import { registerAccountRoutes } from './account/routes.js';
import { registerAdminUserRoutes } from './admin-users/routes.js';
import { identityContext, identityServices, type IdentityDeps } from './dependencies.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS } from './keys/access-tokens.js';
import { registerJwksRoute } from './keys/routes.js';
import type { SigningKeyStore } from './keys/signing-keys.js';
import { registerMfaRoutes } from './mfa/routes.js';
import { registerOnboardingRoutes } from './onboarding/routes.js';
import { inviteUser, type InviteInput } from './onboarding/service.js';
import {
  ensureSetupLink as ensureSetupLinkFor,
  reissueSetupLink as reissueSetupLinkFor,
} from './onboarding/setup-link-service.js';
import { registerPasswordResetRoutes } from './passwords/routes.js';
import { createIdentityAuthenticator } from './sessions/authenticator.js';
import { listUserSessions, type SessionLifetimes } from './sessions/repo.js';
import type { RevocationCache } from './sessions/revocation.js';
import { registerSessionRoutes } from './sessions/routes.js';
import { registerSignInRoutes } from './sign-in/routes.js';
import { normalizeEmail } from './users.js';

export { ACCESS_TOKEN_AUDIENCE, type IdentitySettings } from './dependencies.js';
export { userViewProperties } from './schemas.js';
export type { InviteInput } from './onboarding/service.js';
export type { SessionSummary } from './sessions/repo.js';
// For the API document (app.ts): the session cookie is one of its two security schemes.
export { ACCESS_COOKIE } from './sessions/browser-credentials.js';
// For the CLI (main.ts), the jobs, test harnesses, benchmarks and browser tests.
export { purgeExpiredIdentityRecords } from './cleanup-repo.js';
export { issueAccessToken } from './keys/access-tokens.js';
export { rotateSigningKeys } from './keys/signing-keys.js';
export { generateTotpSecret, sealTotpSecret } from './mfa/totp.js';
export { MINIMUM_HASHING, hashPassword, verifyPassword } from './passwords/hashing.js';
export { scopesForRoles } from './roles.js';
export { createSession } from './sessions/repo.js';
export { createRevocationCache } from './sessions/revocation.js';

/** What other modules may use of identity (they never import its inner files). */
export interface IdentityApi {
  /** A11: invite someone by email (see onboarding/service.ts inviteUser). */
  inviteUser(input: InviteInput): Promise<{ userId: string; expiresAt: Date }>;
  readonly listUserSessions: typeof listUserSessions;
  readonly normalizeEmail: typeof normalizeEmail;
}

/** The options of every clinical module's plugin: its context and identity's API. */
export type ClinicalModuleOptions<Settings = Record<string, never>> = ModuleOptions<
  Settings,
  IdentityApi
>;

/**
 * `app.identity`: the running module, for work outside a request. main.ts prints the first
 * setup link with it; test harnesses mint sessions and access tokens as sign-in would.
 */
export interface IdentityHandle extends IdentityDeps {
  readonly keys: SigningKeyStore;
  readonly lifetimes: SessionLifetimes;
  readonly issuer: string;
  readonly audience: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Absent when a test harness supplies its own authenticator. */
    identity?: IdentityHandle;
  }
}

export interface Identity {
  readonly authenticator: Authenticator;
  readonly revocations: RevocationCache;
  readonly api: IdentityApi;
  register(app: FastifyInstance): void;
}

/** Returns a setup link while no user exists and no live link does (main.ts, at start). */
export function ensureSetupLink(
  identity: IdentityHandle,
  options: { onPending?: (expiresAt: Date) => void } = {},
): Promise<string | null> {
  return ensureSetupLinkFor(identity.context, options);
}

/** `npx haven setup-link`: the CLI has no app, only the database, the config and a clock. */
export function reissueSetupLink(cli: {
  readonly db: Kysely<DatabaseSchema>;
  readonly config: Pick<HavenConfig, 'publicOrigin'>;
  readonly now: () => Date;
}): Promise<string | null> {
  return reissueSetupLinkFor({ db: cli.db, now: cli.now, publicOrigin: cli.config.publicOrigin });
}

function registerRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  registerJwksRoute(app, deps.services.keys);
  registerSignInRoutes(app, deps);
  registerSessionRoutes(app, deps);
  registerOnboardingRoutes(app, deps);
  registerMfaRoutes(app, deps);
  registerAccountRoutes(app, deps);
  registerPasswordResetRoutes(app, deps);
  registerAdminUserRoutes(app, deps);
}

export function createIdentity(
  config: HavenConfig,
  database: Database,
  log: Logger,
  mailer: Mailer,
  now: () => Date = () => new Date(),
): Identity {
  const context = identityContext(config, database, log, mailer, now);
  const services = identityServices(config, database, log);
  const { settings } = context;
  const { keys, csrf, revocations } = services;
  const verify = createAccessTokenVerifier({
    issuer: settings.issuer,
    audience: settings.audience,
    keyForKid: (kid) => keys.publicKeyForKid(kid),
    maxLifetimeSeconds: ACCESS_TOKEN_LIFETIME_SECONDS,
    isSessionRevoked: (sessionId) => Promise.resolve(revocations.isRevoked(sessionId)),
  });
  const handle: IdentityHandle = {
    context,
    services,
    keys,
    lifetimes: settings.lifetimes,
    issuer: settings.issuer,
    audience: settings.audience,
  };
  return {
    authenticator: createIdentityAuthenticator({
      verify,
      csrf,
      allowedOrigins: settings.allowedOrigins,
    }),
    revocations,
    api: {
      inviteUser: (input) => inviteUser(context, input),
      listUserSessions,
      normalizeEmail,
    },
    register(app) {
      registerRoutes(app, handle);
      app.decorate('identity', handle);
      app.addHook('onReady', async () => revocations.start());
      app.addHook('onClose', async () => revocations.stop());
    },
  };
}
