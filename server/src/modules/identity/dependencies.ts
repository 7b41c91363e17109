// What identity's own code receives, in two parts with one name each: the platform's
// ModuleContext carrying identity's settings (plain configuration), and identity's services
// (the objects that hold keys or state). Built once per app, by createIdentity (index.ts).
import { createCredentialEndings, type CredentialEndings } from './credential-endings.js';
import type { Logger } from 'pino';
import type { HavenConfig } from '../../config.js';
import type { Database } from '../../platform/db/database.js';
import {
  createCookieSecretGenerations,
  type PolledCookieSecrets,
} from '../../platform/cookie-secrets.js';
import { keyRingOf, type KeyRing } from '../../platform/crypto.js';
import { createOutboundClient } from '../../platform/http-client.js';
import type { Mailer } from '../../platform/mail.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { createSigningKeyStore, type SigningKeyStore } from './keys/signing-keys.js';
import { MINIMUM_HASHING, createPasswordHasher, type PasswordHasher } from './passwords/hashing.js';
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from './passwords/policy.js';
import {
  createCsrfTokens,
  createRefreshCookies,
  type CsrfTokens,
  type RefreshCookies,
} from './sessions/browser-credentials.js';
import type { SessionLifetimes } from './sessions/repo.js';
import { createRevocationCache, type RevocationCache } from './sessions/revocation.js';

export const ACCESS_TOKEN_AUDIENCE = 'haven-api';

export interface IdentitySettings {
  /** HAVEN_SELF_SIGNUP: the public sign-up routes exist at all. */
  readonly selfSignup: boolean;
  /** Roles that cannot hold a session without MFA (A9). */
  readonly mfaRequiredRoles: ReadonlySet<string>;
  readonly lifetimes: SessionLifetimes;
  /** Access tokens' `iss` (our public origin) and `aud`. */
  readonly issuer: string;
  readonly audience: string;
  /** Our own origin plus the CORS origins: where credential-issuing requests may come from. */
  readonly allowedOrigins: ReadonlySet<string>;
  /** HAVEN_TIME_ZONE: the zone mail states times in (an invitation's expiry). */
  readonly mailTimeZone: string;
}

export interface IdentityServices {
  /** Seals TOTP seeds and signing keys under the master key. */
  readonly ring: KeyRing;
  readonly keys: SigningKeyStore;
  readonly csrf: CsrfTokens;
  readonly refreshCookies: RefreshCookies;
  /** The generations CSRF tokens and refresh-cookie tags are made under, read from the table. */
  readonly cookieSecrets: PolledCookieSecrets;
  readonly revocations: RevocationCache;
  readonly hashing: PasswordHasher;
  readonly passwordPolicy: PasswordPolicy;
  /** What other modules end with the person's sessions on disable and password reset or change. */
  readonly credentialEndings: CredentialEndings;
}

/** Both parts, as route files hand them to their handlers. */
export interface IdentityDeps {
  readonly context: ModuleContext<IdentitySettings>;
  readonly services: IdentityServices;
}

export function identitySettings(config: HavenConfig): IdentitySettings {
  return {
    selfSignup: config.identity.selfSignup,
    mfaRequiredRoles: new Set(config.identity.mfaRequiredRoles),
    lifetimes: {
      idleMs: config.identity.sessionIdleMs,
      absoluteMs: config.identity.sessionAbsoluteMs,
    },
    issuer: config.publicOrigin,
    audience: ACCESS_TOKEN_AUDIENCE,
    allowedOrigins: new Set([config.publicOrigin, ...config.corsOrigins]),
    mailTimeZone: config.mail.timeZone,
  };
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

/** The services; the master key stays here, turned into the keys each service needs. */
export function identityServices(
  config: HavenConfig,
  database: Database,
  log: Logger,
): IdentityServices {
  const ring = keyRingOf(config);
  const cookieSecrets = createCookieSecretGenerations({ db: database.db, ring, log });
  return {
    ring,
    keys: createSigningKeyStore({ db: database.db, ring }),
    csrf: createCsrfTokens(config.masterKey, config.previousMasterKey, cookieSecrets),
    refreshCookies: createRefreshCookies(config.masterKey, config.previousMasterKey, cookieSecrets),
    cookieSecrets,
    revocations: createRevocationCache({ db: database.db, log }),
    hashing: createPasswordHasher({
      memoryCost: config.identity.argon2MemoryKib,
      timeCost: config.identity.argon2TimeCost,
      parallelism: MINIMUM_HASHING.parallelism,
    }),
    passwordPolicy: passwordPolicyFor(config),
    credentialEndings: createCredentialEndings(),
  };
}

/** The module context identity runs with (the platform's shape, identity's settings). */
export function identityContext(
  config: HavenConfig,
  database: Database,
  log: Logger,
  mailer: Mailer,
  now: () => Date,
): ModuleContext<IdentitySettings> {
  return {
    db: database.db,
    mailer,
    now,
    log: log.child({ module: 'identity' }),
    publicOrigin: config.publicOrigin,
    settings: identitySettings(config),
  };
}
