// Introspection (RFC 7662) and revocation (RFC 7009) of the tokens the authorization server
// issues, answered by Haven: oidc-provider declines both for JWT access tokens. A client
// authenticates as at the token endpoint and may introspect or revoke only its own tokens (RFC
// 7662 §4 lets the server decide who may ask). A revoked access token's jti is kept until it
// expires, a revoked refresh token ends its grant, and Haven's API refuses either's access tokens
// from the next request (clientTokenChecks, token-decisions.ts); introspection answers as the API.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { jwtVerify, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';
import {
  ACCESS_TOKEN_ALGORITHMS,
  ACCESS_TOKEN_TYPE,
  DELEGATION_GRANT_CLAIM,
} from '../../platform/auth/jwt-authenticator.js';
import type { Authenticator, Principal } from '../../platform/auth/principal.js';
import type { DatabaseSchema, Role } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { endGrant } from './adapter.js';
import { delegatedTokenState } from './grants-repo.js';
import {
  accessTokenRefusal,
  findClient,
  recordRevokedAccessToken,
  refreshTokenGrantOf,
  type ClientRow,
} from './repo.js';
import { secretMatchesHash } from './client-secrets.js';
import type { TokenDecisions } from './token-decisions.js';
import { isDelegatedScope, type IntrospectionAnswer, type TokenForm7662 } from './schemas.js';

type Db = Kysely<DatabaseSchema>;

export interface TokenVerification {
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenLifetime: number;
  readonly keyForKid: (kid: string) => Promise<CryptoKey | KeyObject | undefined>;
}

/** An OAuth error answer (RFC 6749 §5.2), sent as the protocol says rather than as a problem. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: 'invalid_client' | 'invalid_request' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description);
  }
}

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

interface PresentedCredentials {
  readonly clientId: string;
  /** Undefined when the client named itself by `client_id` alone, as a public app does. */
  readonly secret: string | undefined;
}

/**
 * client_secret_basic (RFC 6749 §2.3.1) or client_secret_post, never both; or `client_id`
 * alone, which only a public app may use, and only where `authenticateClient` allows it.
 */
function presentedCredentials(request: FastifyRequest, form: TokenForm7662): PresentedCredentials {
  const header = request.headers.authorization;
  const basic = header?.startsWith('Basic ') ? header.slice(6) : undefined;
  if (basic !== undefined && form.client_secret !== undefined) {
    throw new OAuthError(400, 'invalid_request', 'one client authentication method only');
  }
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
    try {
      return {
        clientId: decodeFormComponent(decoded.slice(0, colon)),
        secret: decodeFormComponent(decoded.slice(colon + 1)),
      };
    } catch {
      throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
    }
  }
  if (form.client_id === undefined) {
    throw new OAuthError(401, 'invalid_client', 'client authentication required');
  }
  return { clientId: form.client_id, secret: form.client_secret };
}

/**
 * Who may call an endpoint: `confidential` clients only (introspection: a public app's answer
 * would go to whoever holds its id), or `public-too` (revocation: RFC 7009 §5 lets a public app
 * revoke what it holds, e.g. on sign-out, naming itself by `client_id` (RFC 6749 §2.3); holding
 * the token is the proof, and it can end nothing it does not hold).
 */
export type ClientsAllowed = 'confidential' | 'public-too';

/** The enabled client that authenticated as `allowed` permits; one answer for every failure. */
export async function authenticateClient(
  db: Db,
  request: FastifyRequest,
  form: TokenForm7662,
  allowed: ClientsAllowed,
): Promise<ClientRow> {
  const { clientId, secret } = presentedCredentials(request, form);
  const row = await findClient(db, clientId);
  // A confidential client must present its secret; a public app has none (null) to present.
  const matches =
    secret === undefined
      ? allowed === 'public-too' && row?.public_client === true && row.secret_sha256 === null
      : secretMatchesHash(row?.secret_sha256 ?? undefined, secret);
  if (!row || !matches || row.disabled_at !== null) {
    throw new OAuthError(401, 'invalid_client', 'client authentication failed');
  }
  return row;
}

/** The claims of a token this server issued and that still verifies; undefined otherwise. */
async function verifiedClaims(
  token: string,
  verification: TokenVerification,
): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(
      token,
      async ({ kid }) => {
        const key = kid ? await verification.keyForKid(kid) : undefined;
        if (!key) throw new Error('unknown key');
        return key;
      },
      {
        algorithms: [...ACCESS_TOKEN_ALGORITHMS],
        issuer: verification.issuer,
        audience: verification.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
        maxTokenAge: verification.accessTokenLifetime,
      },
    );
    return payload;
  } catch {
    return undefined;
  }
}

const INACTIVE: IntrospectionAnswer = { active: false };

/**
 * What Haven's API makes of a token, for its client (RFC 7662 §2.2): inactive exactly when the
 * API refuses it, and the scope the API would let it use. An app's token for a person is judged
 * by the API's own delegated check (delegatedScopes): inactive once the grant ended (disconnect,
 * refresh-token reuse, revocation of its refresh token, expiry), the person is no longer active
 * or the token was revoked; otherwise its scope narrowed to what the person's roles still give.
 */
export async function introspect(
  db: Db,
  verification: TokenVerification,
  decisions: TokenDecisions,
  scopesOfRoles: ScopesOfRoles,
  client: ClientRow,
  token: string,
): Promise<IntrospectionAnswer> {
  const claims = await verifiedClaims(token, verification);
  if (!claims || claims.client_id !== client.client_id || !claims.jti) return INACTIVE;
  if (await accessTokenRefusal(db, client.client_id, claims.jti)) return INACTIVE;
  const scopes = new Set((typeof claims.scope === 'string' ? claims.scope : '').split(' '));
  scopes.delete('');
  const grantId = claims[DELEGATION_GRANT_CLAIM];
  if (typeof grantId !== 'string') return activeAnswer(verification, client, claims, scopes);
  const grant = {
    grantId,
    clientId: client.client_id,
    accountId: claims.sub ?? '',
    jti: claims.jti,
  };
  const narrowed = await delegatedScopes(db, decisions, grant, scopes, scopesOfRoles);
  return narrowed === undefined ? INACTIVE : activeAnswer(verification, client, claims, narrowed);
}

function activeAnswer(
  verification: TokenVerification,
  client: ClientRow,
  claims: JWTPayload,
  scopes: ReadonlySet<string>,
): IntrospectionAnswer {
  return {
    active: true,
    scope: [...scopes].join(' '),
    client_id: client.client_id,
    sub: claims.sub ?? client.client_id,
    token_type: 'Bearer',
    exp: claims.exp ?? 0,
    iat: claims.iat ?? 0,
    iss: verification.issuer,
    aud: verification.audience,
    jti: claims.jti ?? '',
  };
}

/**
 * One of the client's refresh tokens (RFC 7009 §2.1, whatever `token_type_hint` says): it ends
 * with the grant it belongs to, and with the grant every token issued under it — its other
 * refresh tokens and codes are deleted, and its access tokens are refused by the API from the
 * next request on this node and within half a second on every other, as on disconnect.
 */
async function revokeRefreshToken(
  db: Db,
  decisions: TokenDecisions,
  client: ClientRow,
  token: string,
): Promise<boolean> {
  const grantId = await refreshTokenGrantOf(db, client.client_id, token, new Date());
  if (grantId === undefined) return false;
  await endGrant(db, decisions, grantId);
  return true;
}

/**
 * Revokes the client's own live token, an access token or a refresh token; anything else (a
 * token of another client, an unknown one) is ignored, as RFC 7009 §2.2 asks.
 */
export async function revoke(
  db: Db,
  verification: TokenVerification,
  decisions: TokenDecisions,
  client: ClientRow,
  token: string,
): Promise<boolean> {
  const claims = await verifiedClaims(token, verification);
  if (!claims && (await revokeRefreshToken(db, decisions, client, token))) return true;
  if (!claims || claims.client_id !== client.client_id || !claims.jti) return false;
  await recordRevokedAccessToken(db, {
    jti: claims.jti,
    clientId: client.client_id,
    expiresAt: new Date((claims.exp ?? 0) * 1000),
  });
  decisions.forgetAll();
  return true;
}

/** Identity's table of the scopes a person's roles give (identity/roles.ts). */
/** Which scopes a person's roles give (identity's table, handed in by app.ts). */
export type ScopesOfRoles = (roles: Role[]) => readonly string[];

/**
 * An app's token for a person (A12): refused (undefined) when the grant ended (disconnected,
 * expired, or killed by a reused refresh token), the app was disabled, the token revoked, or the
 * person is no longer active; otherwise its scopes narrowed to the consented ones the person's
 * roles still give (so a role taken away is gone for the app too, without waiting for the token
 * to expire). "Refused" means from the next request on the node that made the change and within
 * DECISION_TTL_MS on every other (token-decisions.ts). The API and introspection both ask here.
 */
async function delegatedScopes(
  db: Db,
  decisions: TokenDecisions,
  grant: { grantId: string; clientId: string; accountId: string; jti: string },
  tokenScopes: ReadonlySet<string>,
  scopesOfRoles: ScopesOfRoles,
): Promise<Set<string> | undefined> {
  const key = `app ${grant.clientId} ${grant.grantId} ${grant.accountId} ${grant.jti}`;
  const roles = await decisions.decide(key, () => delegatedTokenState(db, grant, new Date()));
  if (roles === undefined) return undefined;
  const held = new Set(scopesOfRoles(roles));
  return new Set([...tokenScopes].filter((scope) => held.has(scope) && isDelegatedScope(scope)));
}

async function checkDelegatedPrincipal(
  db: Db,
  decisions: TokenDecisions,
  principal: Principal & { delegation: NonNullable<Principal['delegation']> },
  scopesOfRoles: ScopesOfRoles,
): Promise<Principal> {
  const grant = {
    grantId: principal.delegation.grantId,
    clientId: principal.delegation.clientId,
    accountId: principal.subject,
    jti: principal.tokenId ?? '',
  };
  const scopes = await delegatedScopes(db, decisions, grant, principal.scopes, scopesOfRoles);
  if (scopes === undefined) {
    throw new HavenError('UNAUTHENTICATED', 'The access token is invalid or expired.');
  }
  return Object.freeze({ ...principal, scopes });
}

/**
 * Haven's authenticator, refusing a token of a client that was disabled since, or a token
 * revoked (A12): one indexed query per token, its allowing answer reused for DECISION_TTL_MS
 * (token-decisions.ts: a change holds at once on the node that made it, within half a second
 * on every other, as a signed-out session does). A client token naming no registered client is
 * left to the scopes: only this authorization server issues client tokens, and test harnesses
 * sign scopeless ones. An app's token for a person gets the same treatment and more
 * (checkDelegatedPrincipal).
 */
export function clientTokenChecks(
  inner: Authenticator,
  db: Db,
  scopesOfRoles: ScopesOfRoles,
  decisions: TokenDecisions,
): Authenticator {
  return {
    async authenticate(request) {
      const principal = await inner.authenticate(request);
      if (principal?.delegation !== undefined) {
        return checkDelegatedPrincipal(
          db,
          decisions,
          principal as Principal & { delegation: NonNullable<Principal['delegation']> },
          scopesOfRoles,
        );
      }
      if (principal?.kind !== 'client') return principal;
      const jti = principal.tokenId ?? '';
      const allowed = await decisions.decide(`client ${principal.subject} ${jti}`, async () => {
        const refusal = await accessTokenRefusal(db, principal.subject, jti);
        return refusal === 'disabled' || refusal === 'revoked' ? undefined : true;
      });
      if (allowed === undefined) {
        throw new HavenError('UNAUTHENTICATED', 'The access token is invalid or expired.');
      }
      return principal;
    },
  };
}
