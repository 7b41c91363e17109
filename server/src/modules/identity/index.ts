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
import { MINIMUM_HASHING, createDummyVerifier } from './passwords.js';
import { createRevocationCache, type RevocationCache } from './revocation.js';
import { registerIdentityRoutes } from './routes.js';
import { DEFAULT_LIFETIMES } from './sessions.js';
import { createSigningKeyStore, registerJwksRoute } from './signing-keys.js';

export const ACCESS_TOKEN_AUDIENCE = 'haven-api';

export interface Identity {
  readonly authenticator: Authenticator;
  readonly revocations: RevocationCache;
  register(app: FastifyInstance): void;
}

export function createIdentity(
  config: HavenConfig,
  database: Database,
  log: Logger,
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
    isSessionRevoked: (sessionId) => Promise.resolve(revocations.isRevoked(sessionId)),
  });
  return {
    authenticator: createIdentityAuthenticator({ verify, csrf, allowedOrigins }),
    revocations,
    register(app) {
      registerJwksRoute(app, keys);
      registerIdentityRoutes(app, {
        db: database.db,
        ring,
        hashing: MINIMUM_HASHING,
        dummyVerify: createDummyVerifier(MINIMUM_HASHING),
        keys,
        csrf,
        revocations,
        lifetimes: DEFAULT_LIFETIMES,
        issuer: config.publicOrigin,
        audience: ACCESS_TOKEN_AUDIENCE,
        allowedOrigins,
        now,
      });
      app.addHook('onReady', async () => revocations.start());
      app.addHook('onClose', async () => revocations.stop());
    },
  };
}
