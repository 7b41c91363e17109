// The OAuth module's front door (A12, issue 12): an authorization server on oidc-provider for
// machine clients (client credentials) and third-party apps acting for a person (authorization
// code with PKCE, consent in Haven's pages, rotating refresh tokens), Haven's introspection and
// revocation of its tokens, people's connected apps, and client management by platform
// administrators and by organization administrators for their organization's clients. app.ts
// registers the plugin with the module context and the signing-key functions identity lends it,
// and wraps identity's authenticator in clientTokenChecks so a disabled client's or a revoked
// token stops (at once on the node that made the change, within half a second on every other:
// both share the app's one TokenDecisions, token-decisions.ts).
// oidc-provider ships no types: this brings Haven's declaration of the part it uses into every
// program that reaches the module (the server's, and the browser tests' through app.ts).
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient module declaration cannot be imported
/// <reference path="./oidc-provider.d.ts" />
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CryptoKey, KeyObject } from 'jose';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { destroyGrantsOf } from './repo.js';
import type { TokenDecisions } from './token-decisions.js';
import type { ScopesOfRoles } from './introspection.js';
import { registerProtocolRoutes } from './protocol-routes.js';
import { createAuthorizationServer, type AuthorizationServerSettings } from './provider.js';
import { registerConsentRoutes } from './consent-routes.js';
import { registerClientRoutes } from './routes.js';
import { registerOrganizationClientRoutes } from './organization-routes.js';

export { clientTokenChecks } from './introspection.js';
export { oauthCookieKeys } from './provider.js';
export { createTokenDecisions, type TokenDecisions } from './token-decisions.js';
export { purgeExpiredOAuthRecords } from './cleanup-repo.js';

/**
 * What identity runs when a person's credentials end (disabled, password reset or changed): the
 * person's grants end with their sessions, so no app keeps acting for them, nor comes back when
 * the account is enabled again (A7, A12). This node forgets its allowing answers at once; the
 * others within half a second (token-decisions.ts).
 */
export function endGrantsWithCredentials(
  decisions: TokenDecisions,
): (trx: Kysely<DatabaseSchema>, userId: string) => Promise<void> {
  return async (trx, userId) => {
    await destroyGrantsOf(trx, userId);
    decisions.forgetAll();
  };
}

export interface OAuthSettings extends AuthorizationServerSettings {
  readonly keyForKid: (kid: string) => Promise<CryptoKey | KeyObject | undefined>;
  /**
   * The person whose own Haven session (the browser's cookie) this request carries, or
   * undefined: the resume step of an authorization is theirs alone (protocol-routes.ts).
   */
  readonly sessionPerson: (request: FastifyRequest) => Promise<string | undefined>;
  /** Identity's roles-to-scopes table: introspection narrows an app's token as the API does. */
  readonly scopesOfRoles: ScopesOfRoles;
}

export interface OAuthModuleOptions {
  readonly context: ModuleContext<OAuthSettings>;
}

export const oauthModule: FastifyPluginAsync<OAuthModuleOptions> = async (app, { context }) => {
  const { settings } = context;
  const server = createAuthorizationServer(settings, context.db, context.log, context.now);
  // On an instance of their own: they parse form bodies only, the management API JSON.
  await app.register(async (protocol) =>
    registerProtocolRoutes(
      protocol,
      context.db,
      server,
      {
        issuer: settings.issuer,
        audience: settings.audience,
        accessTokenLifetime: settings.accessTokenLifetime,
        keyForKid: settings.keyForKid,
      },
      settings.decisions,
      settings.scopesOfRoles,
      settings.sessionPerson,
    ),
  );
  registerClientRoutes(app, context);
  registerOrganizationClientRoutes(app, context);
  registerConsentRoutes(app, context, server);
};
