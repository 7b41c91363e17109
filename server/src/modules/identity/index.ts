// The identity module's front door: it wires key ring, signing keys, revocation cache, the
// Authenticator the platform's access hooks use, and the routes of every sub-domain. Nothing
// outside this folder imports any other file of it: what others need is exported here.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
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
import { inviteUser, inviteeDisplayName, type InviteInput } from './onboarding/service.js';
import {
  ensureSetupLink as ensureSetupLinkFor,
  reissueSetupLink as reissueSetupLinkFor,
} from './onboarding/setup-link-service.js';
import { registerPasswordResetRoutes } from './passwords/routes.js';
import { createIdentityAuthenticator } from './sessions/authenticator.js';
import { listUserSessions, type SessionLifetimes } from './sessions/repo.js';
import { registerSessionRoutes } from './sessions/routes.js';
import { registerSignInRoutes } from './sign-in/routes.js';
import { normalizeEmail } from './users.js';

export { ACCESS_TOKEN_AUDIENCE, type IdentitySettings } from './dependencies.js';
export { userViewProperties } from './shared/schemas.js';
export type { InviteInput } from './onboarding/service.js';
export type { SessionSummary } from './sessions/repo.js';
// For the API document (app.ts): the session cookie is one of its two security schemes.
export { ACCESS_COOKIE } from './sessions/browser-credentials.js';
// For the CLI (main.ts), the jobs, test harnesses, benchmarks and browser tests.
export { purgeExpiredIdentityRecords } from './cleanup-repo.js';
// How long an invitation link works: other modules' invitations of existing accounts last as long.
export { INVITATION_LINK_LIFETIME_MS } from './onboarding/one-time-tokens-repo.js';
export {
  PASSWORD_RESET_QUEUE,
  passwordResetJob,
  type ResetRequestContext,
} from './passwords/reset-requests.js';
export { ACCESS_TOKEN_LIFETIME_SECONDS, issueAccessToken } from './keys/access-tokens.js';
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
  /** The name an invitee is shown by until they choose one (the inviter's, or a placeholder). */
  readonly inviteeDisplayName: typeof inviteeDisplayName;
  readonly listUserSessions: typeof listUserSessions;
  readonly normalizeEmail: typeof normalizeEmail;
}

/** The options of every clinical module's plugin: its context and identity's API. */
export type ClinicalModuleOptions<Settings = Record<string, never>> = ModuleOptions<
  Settings,
  IdentityApi
>;

/**
 * `app.identity`: the running module. app.ts takes the authenticator for the platform's access
 * hooks and the API for the clinical modules from it; main.ts prints the first setup link with
 * it; test harnesses mint sessions and access tokens as sign-in would.
 */
export interface IdentityHandle extends IdentityDeps {
  readonly keys: SigningKeyStore;
  readonly lifetimes: SessionLifetimes;
  readonly issuer: string;
  readonly audience: string;
  readonly authenticator: Authenticator;
  readonly api: IdentityApi;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Absent when a test harness supplies its own authenticator. */
    identity?: IdentityHandle;
  }
}

/**
 * What app.ts registers identity's plugin with. Unlike a clinical module, identity is trusted
 * with the whole configuration: the master key its key ring, CSRF and refresh cookies derive from.
 */
export interface IdentityModuleOptions {
  readonly config: HavenConfig;
  readonly database: Database;
  readonly log: Logger;
  readonly mailer: Mailer;
  readonly now?: () => Date;
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

/** The running module without an app: the plugin below registers it, and tests build one. */
export function createIdentity(
  config: HavenConfig,
  database: Database,
  log: Logger,
  mailer: Mailer,
  now: () => Date = () => new Date(),
): IdentityHandle {
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
  return {
    context,
    services,
    keys,
    lifetimes: settings.lifetimes,
    issuer: settings.issuer,
    audience: settings.audience,
    authenticator: createIdentityAuthenticator({
      verify,
      csrf,
      allowedOrigins: settings.allowedOrigins,
    }),
    api: {
      inviteUser: (input) => inviteUser(context, input),
      inviteeDisplayName,
      listUserSessions,
      normalizeEmail,
    },
  };
}

async function registerIdentity(
  app: FastifyInstance,
  options: IdentityModuleOptions,
): Promise<void> {
  const identity = createIdentity(
    options.config,
    options.database,
    options.log,
    options.mailer,
    options.now,
  );
  registerRoutes(app, identity);
  app.decorate('identity', identity);
  const { revocations, cookieSecrets } = identity.services;
  app.addHook('onReady', async () => {
    // Read before the first request: a node must not make tokens under a stale generation.
    await cookieSecrets.refresh();
    cookieSecrets.start();
    revocations.start();
  });
  app.addHook('onClose', async () => {
    cookieSecrets.stop();
    revocations.stop();
  });
}

/**
 * The module's front door: `await app.register(identityModule, options)`, then `app.identity`.
 * Unlike the clinical modules it is not encapsulated (Fastify's documented 'skip-override', what
 * fastify-plugin sets): `app.identity` must reach the root instance, since the access hooks are
 * built from its authenticator and main.ts and the test harnesses use it.
 */
export const identityModule: FastifyPluginAsync<IdentityModuleOptions> = Object.assign(
  registerIdentity,
  { [Symbol.for('skip-override')]: true },
);
