// The authorization server (A12): oidc-provider (OpenID Certified) with Haven's issuer, Haven's
// signing key and Haven's database. Machines get client credentials; third-party apps the
// authorization code with PKCE (S256 only) and rotating refresh tokens, for a person who signs
// in and consents in Haven's own pages (interactions.ts). Access tokens are RFC 9068 at+jwt for
// the Haven API, so Haven's own verifier accepts them unchanged.
import { createPrivateKey, createPublicKey, hkdfSync, sign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Kysely } from 'kysely';
import type { ClientInstance, default as Provider, ExternalSigningKey } from 'oidc-provider';
import type { JWK } from 'jose';
import { DELEGATION_GRANT_CLAIM } from '../../platform/auth/jwt-authenticator.js';
import type { Logger } from 'pino';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { secretMatchesHash } from './client-secrets.js';
import { kyselyAdapter } from './adapter.js';
import type { TokenDecisions } from './token-decisions.js';
import { isActiveUser } from './grants-repo.js';
import { renderAuthorizationError } from './error-page.js';
import { describeDatabaseFault, isDatabaseUnavailable } from '../../platform/db/faults.js';
import { CLIENT_SCOPES_BY_KIND, DELEGATED_SCOPE_NAMES, MACHINE_CLIENT_SCOPES } from './schemas.js';
import { browserMayCallAs } from './redirect-uris.js';

/**
 * Where the provider's endpoints live (protocol-routes.ts declares the same paths); the JWKS is
 * Haven's own (identity's route).
 */
export const OAUTH_ROUTES = {
  authorization: '/oauth/authorize',
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
  /**
   * Keys signing the provider's interaction cookies (derived from the master key; the first
   * signs, all verify), so a browser cannot forge the cookie that binds a consent to itself.
   */
  readonly cookieKeys: readonly string[];
  /**
   * This node's memory of allowing answers about clients and tokens (token-decisions.ts): the
   * adapter reads clients through it and forgets it when the provider ends a grant.
   */
  readonly decisions: TokenDecisions;
}

/**
 * The provider's cookie keys: of their own, derived from the master keys (the current one signs;
 * the previous one's still verifies during a master-key change, S2).
 */
export function oauthCookieKeys(masterKeys: readonly Buffer[]): string[] {
  return masterKeys.map((master) =>
    Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'haven:oauth-cookies:v1', 32)).toString(
      'base64url',
    ),
  );
}

/** Seconds a client is asked to wait while the database is away (as Haven's own 503s do). */
const DATABASE_RETRY_AFTER_SECONDS = 1;

const UNAVAILABLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Haven is briefly unavailable</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Haven is briefly unavailable</h1>
<p>Haven cannot reach its database at the moment. Wait a few seconds, then reload this page.</p>
</main></body></html>`;

/** The SPA page where a person signs in and decides (web/src/features/connect). */
export const consentPagePath = (uid: string): string => `/connect/${uid}`;

/** Lifetimes (seconds) of what the browser flow creates. */
export const APP_TOKEN_LIFETIMES = {
  /** A code is exchanged at once by a working client (RFC 6749 §4.1.2 advises ≤ 10 minutes). */
  authorizationCode: 60,
  /** Time to sign in (with TOTP) and decide. */
  interaction: 10 * 60,
  /** The provider's own browser session: only long enough to finish one authorization. */
  session: 10 * 60,
  /** A refresh token not used for two weeks dies; each use rotates it (reuse kills the grant). */
  refreshToken: 14 * 24 * 60 * 60,
  /** A connection to an app lasts 90 days unless the person disconnects it first. */
  grant: 90 * 24 * 60 * 60,
} as const;

/** The kind of client whose scopes an API token may carry. */
function clientKindOf(client: ClientInstance | undefined): 'app' | 'machine' {
  return client?.grantTypeAllowed('authorization_code') === true ? 'app' : 'machine';
}

/**
 * The provider's signing key: Ed25519 with node:crypto on the request's thread, 30–35 µs a token.
 * Handed the JWK, the provider signs through jose and WebCrypto, whose dispatch to the thread pool
 * costs the request thread 25–85 µs, the pool's work on top (bench/README.md, OAuth). Ed25519 is
 * deterministic: the same token bytes. The private key stays here; the provider sees the public.
 */
function ed25519SigningKey(Base: typeof ExternalSigningKey, jwk: SigningJwk): ExternalSigningKey {
  const privateKey = createPrivateKey({
    key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d },
    format: 'jwk',
  });
  const publicKey = createPublicKey(privateKey);
  class HavenSigningKey extends Base {
    override keyObject() {
      return publicKey;
    }
    override sign(data: Buffer): Buffer {
      return sign(null, data, privateKey);
    }
  }
  const key = new HavenSigningKey();
  key.kid = jwk.kid;
  key.alg = jwk.alg;
  return key;
}

/** What the token customizer is shown of a token being minted. */
interface MintedToken {
  readonly kind?: string;
  scope?: string;
  readonly client?: ClientInstance;
  readonly grantId?: string;
  readonly accountId?: string;
}

/** The machine scopes a client was granted (its `scope` metadata, adapter.ts), space-separated. */
function grantedMachineScopes(client: ClientInstance | undefined): string {
  const granted = (client?.scope ?? '').split(' ');
  return granted
    .filter((scope) => (MACHINE_CLIENT_SCOPES as readonly string[]).includes(scope))
    .join(' ');
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
  const { default: Provider, errors, ExternalSigningKey } = await import('oidc-provider');
  const resource = apiResource(settings.issuer);
  // What a token for the Haven API is, per kind of client: the same for every request.
  const resourceServerFor = Object.fromEntries(
    (['app', 'machine'] as const).map((kind) => [
      kind,
      Object.freeze({
        scope: CLIENT_SCOPES_BY_KIND[kind].join(' '),
        audience: settings.audience,
        accessTokenTTL: settings.accessTokenLifetime,
        accessTokenFormat: 'jwt',
        jwt: Object.freeze({ sign: Object.freeze({ alg: jwk.alg, kid: jwk.kid }) }),
      }),
    ]),
  ) as Record<'app' | 'machine', object>;
  const provider = new Provider(settings.issuer, {
    adapter: kyselyAdapter(db, now, settings.decisions, errors.InvalidGrant),
    jwks: { keys: [ed25519SigningKey(ExternalSigningKey, jwk)] },
    // `none` is a public native app's (PKCE then is its only proof, and it is always required).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // The ring's keys are Ed25519; the provider checks every client's defaults against them.
    clientDefaults: { id_token_signed_response_alg: jwk.alg },
    // The authorization code only: no implicit or hybrid response type exists here (OAuth 2.1).
    responseTypes: ['code'],
    scopes: ['openid', ...MACHINE_CLIENT_SCOPES, ...DELEGATED_SCOPE_NAMES],
    // PKCE for every client, confidential ones too (OAuth 2.1); oidc-provider 9 knows S256 only.
    pkce: { required: () => true },
    cookies: { keys: [...settings.cookieKeys] },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => consentPagePath(interaction.uid),
    },
    // Accounts are Haven's users; one that is not active cannot receive a code or a token.
    findAccount: async (_ctx: unknown, accountId: string) =>
      (await isActiveUser(db, accountId))
        ? { accountId, claims: () => ({ sub: accountId }) }
        : undefined,
    // A grant is used only when this very authorization was consented to in Haven's page
    // (interactions.ts names it in the result): the provider's own browser session never
    // consents for a person, so every authorization shows the consent page.
    loadExistingGrant: async (ctx: {
      oidc: { result?: { consent?: { grantId?: string } }; provider: Provider };
    }) => {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    // A code or refresh token outlives the provider's short browser session.
    expiresWithSession: () => false,
    issueRefreshToken: (_ctx: unknown, client: ClientInstance) =>
      client.grantTypeAllowed('refresh_token'),
    // Every use of a refresh token replaces it; a replaced one coming back revokes the grant.
    rotateRefreshToken: () => true,
    renderError: renderAuthorizationError,
    routes: {
      authorization: OAUTH_ROUTES.authorization,
      token: OAUTH_ROUTES.token,
      introspection: OAUTH_ROUTES.introspection,
      revocation: OAUTH_ROUTES.revocation,
      jwks: OAUTH_ROUTES.jwks,
      userinfo: '/oauth/userinfo',
      end_session: '/oauth/session/end',
    },
    features: {
      devInteractions: { enabled: false },
      // Nothing of the browser flows in this phase: none of their endpoints is mounted either.
      pushedAuthorizationRequests: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      dPoP: { enabled: false },
      // The signing key above; oidc-provider is pinned (server/package.json), so the
      // acknowledged version of this experimental feature cannot change under Haven.
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
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
        getResourceServerInfo: (_ctx: unknown, indicator: string, client?: ClientInstance) => {
          if (indicator !== resource) throw new errors.InvalidTarget('unknown resource');
          return resourceServerFor[clientKindOf(client)];
        },
      },
    },
    ttl: {
      ClientCredentials: settings.accessTokenLifetime,
      AccessToken: settings.accessTokenLifetime,
      AuthorizationCode: APP_TOKEN_LIFETIMES.authorizationCode,
      Interaction: APP_TOKEN_LIFETIMES.interaction,
      Session: APP_TOKEN_LIFETIMES.session,
      RefreshToken: APP_TOKEN_LIFETIMES.refreshToken,
      Grant: APP_TOKEN_LIFETIMES.grant,
      IdToken: settings.accessTokenLifetime,
    },
    // Any other cross-origin token request is refused (protocol-routes.ts answers the preflight,
    // and holds revocation to the same rule).
    clientBasedCORS: (_ctx: unknown, origin: string, client: ClientInstance) =>
      browserMayCallAs(client.clientAuthMethod === 'none', client.redirectUris ?? [], origin),
    formats: {
      customizers: {
        // A machine asking for no scope gets the scopes granted to it (RFC 6749 §3.3 lets the
        // server apply a default; Z2: a machine token carries its client's scopes), and the answer
        // names them. Haven's verifier requires a `scope` claim: any other token asked for no
        // scope holds none. A person's token names its grant, so Haven refuses it the moment the
        // grant ends (introspection.ts: disconnect, refresh-token reuse, expiry).
        jwt: (_ctx: unknown, token: MintedToken, jwt: { payload: Record<string, unknown> }) => {
          if (token.kind === 'ClientCredentials' && !token.scope) {
            token.scope = grantedMachineScopes(token.client);
            jwt.payload.scope = token.scope;
          }
          jwt.payload.scope ??= '';
          if (token.accountId !== undefined && token.grantId !== undefined) {
            jwt.payload[DELEGATION_GRANT_CLAIM] = token.grantId;
          }
          return jwt;
        },
      },
    },
  });
  provider.Client.prototype.compareClientSecret = hashedSecretComparison;
  // protocol-routes.ts sets Host and X-Forwarded-Proto to the issuer's before handing a request
  // over, so the URLs the provider writes are the issuer's even behind a TLS-terminating proxy.
  provider.proxy = true;
  // A database outage is Haven's 503 with Retry-After here too (issue 9), not the provider's
  // 500 server_error: the error handler inside each route notes the fault, and this outermost
  // middleware rewrites the answer once that handler has written it.
  provider.on('server_error', (ctx, error) => {
    if (isDatabaseUnavailable(error)) {
      (ctx as { state: Record<string, unknown> }).state.databaseUnavailable = true;
      log.warn({ cause: describeDatabaseFault(error) }, 'oauth request: database unavailable');
      return;
    }
    log.error({ err: error }, 'oauth server error');
  });
  provider.use(async (ctx: ProviderContext, next: () => Promise<void>) => {
    await next();
    if (ctx.state.databaseUnavailable !== true) return;
    ctx.status = 503;
    ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    ctx.set('Cache-Control', 'no-store');
    if (ctx.response.is('html')) {
      ctx.body = UNAVAILABLE_PAGE;
    } else {
      ctx.body = {
        error: 'temporarily_unavailable',
        error_description: 'Haven cannot reach its database; retry shortly.',
      };
    }
  });
  return provider;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The part of a Koa context the outage middleware touches. */
interface ProviderContext {
  status: number;
  body: unknown;
  state: Record<string, unknown>;
  response: { is(type: string): string | false };
  set(name: string, value: string): void;
}

export interface AuthorizationServer {
  readonly issuer: URL;
  /** The Haven API's resource indicator: the audience of every token (RFC 8707). */
  readonly resource: string;
  /** The provider's request handler for the current signing key. */
  handler(): Promise<Handler>;
  /** The provider itself, for the interaction and grant models (interactions.ts). */
  provider(): Promise<Provider>;
}

/**
 * The provider for the ring's current key: rebuilt when the key rotates (A12, S2), so its
 * tokens always carry the kid Haven's JWKS publishes first.
 */
export function createAuthorizationServer(
  settings: AuthorizationServerSettings,
  db: Kysely<DatabaseSchema>,
  log: Logger,
  now: () => Date,
): AuthorizationServer {
  let built: { kid: string; provider: Provider; handler: Handler } | undefined;
  let building: Promise<{ provider: Provider; handler: Handler }> | undefined;
  async function current(): Promise<{ provider: Provider; handler: Handler }> {
    const kid = await settings.currentKid();
    if (built?.kid === kid) return built;
    building ??= settings
      .currentJwk()
      .then(async (jwk) => {
        const provider = await buildProvider(settings, db, jwk, log, now);
        built = { kid: jwk.kid, provider, handler: provider.callback() };
        return built;
      })
      .finally(() => (building = undefined));
    return building;
  }
  return {
    issuer: new URL(settings.issuer),
    resource: apiResource(settings.issuer),
    handler: async () => (await current()).handler,
    provider: async () => (await current()).provider,
  };
}
