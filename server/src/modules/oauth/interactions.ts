// A person's side of the authorization code flow (A12): the consent page's questions and answer
// (the SPA's /connect/:uid, signed in with Haven's own sign-in and MFA), and the person's list of
// connected apps with disconnect. The provider keeps the interaction; Haven decides what is
// granted: the consented scopes an app may ask for (DELEGATED_SCOPES) that the person holds.
//
// The decision is recorded on the interaction and the browser is sent to the provider's resume
// URL, which only the browser that started the authorization can use (oidc-provider binds it to
// a signed cookie set then), and which Haven finishes only when that browser is signed in as the
// person who answered (protocol-routes.ts): a consent link forwarded to someone else, and
// answered there, sends a code to no one.
import type { FastifyRequest } from 'fastify';
import type { InteractionInstance } from 'oidc-provider';
import { requireUser } from '../../platform/access/index.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { HavenError } from '../../platform/errors.js';
import { requestContext } from '../../platform/http/request-context.js';
import { recordUserEvent } from '../../platform/user-event.js';
import type { AuthorizationServer } from './provider.js';
import { findGrantOf, latestGrantOf, listGrantsOf, type GrantRow } from './grants-repo.js';
import { destroyGrant, findClient, type ClientRow } from './repo.js';
import {
  CONNECTED_APPS_LIMIT,
  DELEGATED_SCOPES,
  isDelegatedScope,
  type ConnectedAppView,
  type DelegatedScope,
  type InteractionView,
} from './schemas.js';
import type { OAuthContext } from './service.js';

const EXPIRED =
  'This sign-in request has expired or was already used. Go back to the app and start again.';

interface PendingAuthorization {
  readonly interaction: InteractionInstance;
  readonly client: ClientRow;
  readonly requested: readonly DelegatedScope[];
  readonly redirectUri: string;
}

const stringParam = (params: Record<string, unknown>, name: string): string =>
  typeof params[name] === 'string' ? params[name] : '';

/** The interaction still waiting for a decision, with its enabled app; 404 otherwise. */
async function pendingAuthorization(
  ctx: OAuthContext,
  server: AuthorizationServer,
  uid: string,
): Promise<PendingAuthorization> {
  const provider = await server.provider();
  const interaction = await provider.Interaction.find(uid);
  if (!interaction || interaction.result !== undefined) {
    throw new HavenError('NOT_FOUND', EXPIRED);
  }
  const client = await findClient(ctx.db, stringParam(interaction.params, 'client_id'));
  if (!client || client.disabled_at !== null || client.kind !== 'app') {
    throw new HavenError('NOT_FOUND', EXPIRED);
  }
  const requested = [
    ...new Set(stringParam(interaction.params, 'scope').split(' ').filter(isDelegatedScope)),
  ];
  return {
    interaction,
    client,
    requested,
    redirectUri: stringParam(interaction.params, 'redirect_uri'),
  };
}

const scopeWords = (scope: DelegatedScope) => ({ scope, ...DELEGATED_SCOPES[scope] });

/** What the consent page shows: the app, where it sends the person back, and each scope. */
export async function describeInteraction(
  ctx: OAuthContext,
  server: AuthorizationServer,
  request: FastifyRequest,
  uid: string,
): Promise<InteractionView> {
  requireUser(request);
  const held = requirePrincipal(request).scopes;
  const pending = await pendingAuthorization(ctx, server, uid);
  const scopes = pending.requested.map((scope) => ({
    ...scopeWords(scope),
    held: held.has(scope),
  }));
  return {
    uid,
    client: { clientId: pending.client.client_id, name: pending.client.name },
    redirectOrigin: originOf(pending.redirectUri),
    scopes,
    grantable: scopes.some((scope) => scope.held),
  };
}

function originOf(uri: string): string {
  try {
    return new URL(uri).origin;
  } catch {
    return '';
  }
}

/**
 * Records the person's answer on the interaction and returns where the browser goes next (the
 * provider's resume URL). Allowing grants the requested scopes the person holds, added to the
 * person's one grant for this app (so an app installed twice is still one connection).
 */
export async function decide(
  ctx: OAuthContext,
  server: AuthorizationServer,
  request: FastifyRequest,
  uid: string,
  allow: boolean,
): Promise<string> {
  const { userId } = requireUser(request);
  const held = requirePrincipal(request).scopes;
  const pending = await pendingAuthorization(ctx, server, uid);
  const { interaction, client } = pending;
  const remaining = interaction.exp - Math.floor(ctx.now().getTime() / 1000);
  if (remaining <= 0) throw new HavenError('NOT_FOUND', EXPIRED);
  const target = { type: 'oauth_client', id: client.client_id };

  if (!allow) {
    interaction.result = {
      error: 'access_denied',
      error_description: 'The person declined the request.',
    };
    await interaction.save(remaining);
    await recordUserEvent(ctx.db, userId, requestContext(request), {
      action: 'oauth.consent.denied',
      target,
      details: { scopes: pending.requested.join(' ') || null },
    });
    return interaction.returnTo;
  }

  const granted = pending.requested.filter((scope) => held.has(scope));
  if (granted.length === 0) {
    throw new HavenError(
      'FORBIDDEN',
      'Your account does not hold any of the permissions this app asks for.',
    );
  }
  const provider = await server.provider();
  const existing = await latestGrantOf(ctx.db, userId, client.client_id, ctx.now());
  const grant =
    (existing ? await provider.Grant.find(existing) : undefined) ??
    new provider.Grant({ accountId: userId, clientId: client.client_id });
  // Haven's scopes are the API's (the resource's), and oidc-provider also counts every scope it
  // lists as an OpenID one to be consented: the grant names them both ways.
  grant.addResourceScope(server.resource, granted.join(' '));
  grant.addOIDCScope(granted.join(' '));
  const grantId = await grant.save();
  interaction.result = { login: { accountId: userId }, consent: { grantId } };
  await interaction.save(remaining);
  await recordUserEvent(ctx.db, userId, requestContext(request), {
    action: 'oauth.consent.granted',
    target,
    details: { scopes: granted.join(' '), grantId },
  });
  return interaction.returnTo;
}

function connectedApp(row: GrantRow, resource: string): ConnectedAppView {
  const resources = (row.payload.resources ?? {}) as Record<string, unknown>;
  const scopeText = typeof resources[resource] === 'string' ? resources[resource] : '';
  const iat = typeof row.payload.iat === 'number' ? row.payload.iat : 0;
  return {
    grantId: row.id,
    client: { clientId: row.client_id, name: row.client_name },
    scopes: [...new Set(scopeText.split(' ').filter(isDelegatedScope))].map(scopeWords),
    grantedAt: new Date(iat * 1000).toISOString(),
  };
}

/** The signed-in person's connected apps (their live grants to enabled apps). */
export async function listConnectedApps(
  ctx: OAuthContext,
  server: AuthorizationServer,
  request: FastifyRequest,
): Promise<ConnectedAppView[]> {
  const { userId } = requireUser(request);
  const rows = await listGrantsOf(ctx.db, userId, ctx.now(), CONNECTED_APPS_LIMIT);
  const resource = server.resource;
  return rows.map((row) => connectedApp(row, resource));
}

/**
 * Ends one of the person's grants: the grant and its refresh tokens are deleted, and its access
 * tokens are refused from the next request on this node and within half a second on every other
 * (clientTokenChecks, token-decisions.ts).
 */
export async function disconnectApp(
  ctx: OAuthContext,
  request: FastifyRequest,
  grantId: string,
): Promise<void> {
  const { userId } = requireUser(request);
  await ctx.db.transaction().execute(async (trx) => {
    const grant = await findGrantOf(trx, userId, grantId, ctx.now());
    if (!grant) throw new HavenError('NOT_FOUND', 'No such connected app.');
    await destroyGrant(trx, grantId);
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'oauth.grant.revoked',
      target: { type: 'oauth_client', id: grant.client_id },
      details: { grantId },
    });
  });
  ctx.settings.decisions.forgetAll();
}
