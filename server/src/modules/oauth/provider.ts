// The authorization server (A12): oidc-provider (OpenID Certified) with Haven's issuer, Haven's
// signing key and Haven's database. Phase 1 grants client credentials only; its access tokens
// are RFC 9068 at+jwt for the Haven API, so Haven's own verifier accepts them unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { ClientInstance, default as Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { secretMatchesHash } from './client-secrets.js';
import { kyselyAdapter } from './adapter.js';
import { MACHINE_CLIENT_SCOPES } from './schemas.js';

/**
 * Where the provider's endpoints live (protocol-routes.ts declares the same paths); the JWKS is
 * Haven's own (identity's route).
 */
export const OAUTH_ROUTES = {
  token: '/oauth/token',
  introspection: '/oauth/token/introspection',
  revocation: '/oauth/token/revocation',
  jwks: '/.well-known/jwks.json',
} as const;

export interface SigningJwk extends JWK {
  readonly kid: string;
  readonly alg: string;
}

export interface AuthorizationServerSettings {
  /** HAVEN_PUBLIC_ORIGIN: the issuer of Haven's own tokens too. */
  readonly issuer: string;
  /** The `aud` Haven's verifier pins (identity's ACCESS_TOKEN_AUDIENCE). */
  readonly audience: string;
  /** Seconds; never more than the verifier's cap on a token's lifetime. */
  readonly accessTokenLifetime: number;
  /** The kid of the key ring's current key (cached by the ring). */
  readonly currentKid: () => Promise<string>;
  /** The current key's private half, for the provider's key store. */
  readonly currentJwk: () => Promise<SigningJwk>;
}

/** The one resource indicator (RFC 8707): the Haven API. Its tokens carry `aud` = audience. */
export const apiResource = (issuer: string): string => `${issuer}/api`;

/**
 * Client secrets are stored as their SHA-256 only (A12), and the provider is shown that hash as
 * the client's `client_secret` (adapter.ts). oidc-provider compares a presented secret with the
 * stored one itself; on this provider's own Client class the comparison first hashes what the
 * client presented, so a stolen table row authenticates nobody and the plain secret never has
 * to exist on the server after it was shown once. Symmetric uses of the secret (client_secret_jwt,
 * HS* signatures) are not enabled, so the hash is never used as a key.
 */
function hashedSecretComparison(this: ClientInstance, presented: string): boolean {
  return secretMatchesHash(this.clientSecret, presented);
}

/**
 * Loaded on first use: oidc-provider prints a warning on import under a Node.js release older
 * than the one it is certified on, which would otherwise land on the stderr of every CLI command.
 */
async function buildProvider(
  settings: AuthorizationServerSettings,
  db: Kysely<DatabaseSchema>,
  jwk: SigningJwk,
  log: Logger,
  now: () => Date,
): Promise<Provider> {
  const { default: Provider, errors } = await import('oidc-provider');
  const resource = apiResource(settings.issuer);
  const provider = new Provider(settings.issuer, {
    adapter: kyselyAdapter(db, now),
    jwks: { keys: [jwk] },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    // The ring's keys are Ed25519; the provider checks every client's defaults against them.
    clientDefaults: { id_token_signed_response_alg: jwk.alg },
    // No browser flow in this phase: no authorization endpoint is mounted, so no response type.
    responseTypes: ['none'],
    scopes: ['openid', ...MACHINE_CLIENT_SCOPES],
    routes: {
      token: OAUTH_ROUTES.token,
      introspection: OAUTH_ROUTES.introspection,
      revocation: OAUTH_ROUTES.revocation,
      jwks: OAUTH_ROUTES.jwks,
      authorization: '/oauth/authorize',
      userinfo: '/oauth/userinfo',
      end_session: '/oauth/session/end',
    },
    features: {
      devInteractions: { enabled: false },
      // Nothing of the browser flows in this phase: none of their endpoints is mounted either.
      pushedAuthorizationRequests: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: false },
      clientCredentials: { enabled: true },
      // Announced in discovery; Haven answers them itself (introspection.ts), since oidc-provider
      // declines to introspect or revoke the JWT access tokens it issues.
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new errors.InvalidTarget('unknown resource');
          return {
            scope: MACHINE_CLIENT_SCOPES.join(' '),
            audience: settings.audience,
            accessTokenTTL: settings.accessTokenLifetime,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: jwk.alg, kid: jwk.kid } },
          };
        },
      },
    },
    ttl: { ClientCredentials: settings.accessTokenLifetime },
    clientBasedCORS: () => false,
    formats: {
      customizers: {
        // Haven's verifier requires a `scope` claim (Z2): a token asked for no scope holds none.
        jwt: (_ctx: unknown, _token: unknown, jwt: { payload: Record<string, unknown> }) => {
          jwt.payload.scope ??= '';
          return jwt;
        },
      },
    },
  });
  provider.Client.prototype.compareClientSecret = hashedSecretComparison;
  // protocol-routes.ts sets Host and X-Forwarded-Proto to the issuer's before handing a request
  // over, so the URLs the provider writes are the issuer's even behind a TLS-terminating proxy.
  provider.proxy = true;
  provider.on('server_error', (_ctx, error) => log.error({ err: error }, 'oauth server error'));
  return provider;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The provider for the ring's current key: rebuilt when the key rotates (A12, S2), so its
 * tokens always carry the kid Haven's JWKS publishes first.
 */
export function createAuthorizationServer(
  settings: AuthorizationServerSettings,
  db: Kysely<DatabaseSchema>,
  log: Logger,
  now: () => Date,
): { readonly issuer: URL; handler(): Promise<Handler> } {
  let built: { kid: string; handler: Handler } | undefined;
  let building: Promise<Handler> | undefined;
  return {
    issuer: new URL(settings.issuer),
    async handler() {
      const kid = await settings.currentKid();
      if (built?.kid === kid) return built.handler;
      building ??= settings
        .currentJwk()
        .then(async (jwk) => {
          const handler = (await buildProvider(settings, db, jwk, log, now)).callback();
          built = { kid: jwk.kid, handler };
          return handler;
        })
        .finally(() => (building = undefined));
      return building;
    },
  };
}
