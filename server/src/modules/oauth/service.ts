// Client management (A12, Z5): platform administrators register machine clients, rotate their
// secrets, change their scopes and disable them. Every change is audited in its transaction; a
// secret is 256 random bits, returned once and stored only as its SHA-256.
import type { FastifyRequest } from 'fastify';
import { randomToken } from '../../platform/crypto.js';
import { requireUser } from '../../platform/access/index.js';
import { HavenError } from '../../platform/errors.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { recordUserEvent } from '../../platform/user-event.js';
import { newClientSecret } from './client-secrets.js';
import { insertClient, listClients, updateClient, type ClientRow } from './repo.js';
import {
  CLIENT_LIST_LIMIT,
  type ChangeScopesBody,
  type CreateClientBody,
  type OAuthClientView,
} from './schemas.js';

export type OAuthContext = ModuleContext<unknown>;

export function clientView(row: ClientRow): OAuthClientView {
  return {
    clientId: row.client_id,
    name: row.name,
    ownerOrganizationId: row.owner_organization_id,
    scopes: [...row.scopes],
    disabled: row.disabled_at !== null,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function createClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  input: CreateClientBody,
): Promise<{ client: OAuthClientView; clientSecret: string }> {
  const { userId } = requireUser(request);
  const { secret, sha256 } = newClientSecret();
  const row = await ctx.db.transaction().execute(async (trx) => {
    if (input.ownerOrganizationId) {
      const organization = await trx
        .selectFrom('organizations')
        .select('id')
        .where('id', '=', input.ownerOrganizationId)
        .executeTakeFirst();
      if (!organization) throw new HavenError('NOT_FOUND', 'No such organization.');
    }
    const created = await insertClient(trx, {
      clientId: randomToken(16),
      name: input.name,
      ownerOrganizationId: input.ownerOrganizationId ?? null,
      scopes: input.scopes,
      secretSha256: sha256,
      createdBy: userId,
    });
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'oauth.client.create',
      target: { type: 'oauth_client', id: created.client_id },
      details: {
        scopes: created.scopes.join(' ') || null,
        organizationId: created.owner_organization_id,
      },
    });
    return created;
  });
  return { client: clientView(row), clientSecret: secret };
}

export async function listOAuthClients(ctx: OAuthContext): Promise<OAuthClientView[]> {
  return (await listClients(ctx.db, CLIENT_LIST_LIMIT)).map(clientView);
}

/** One audited change of one client; 404 for an unknown client. */
async function changeClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
  change: Parameters<typeof updateClient>[2],
  event: { action: string; details: Record<string, string | boolean | null> },
): Promise<ClientRow> {
  const { userId } = requireUser(request);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await updateClient(trx, clientId, change, ctx.now());
    if (!row) throw new HavenError('NOT_FOUND', 'No such client.');
    await recordUserEvent(trx, userId, requestContext(request), {
      action: event.action,
      target: { type: 'oauth_client', id: clientId },
      details: event.details,
    });
    return row;
  });
}

export async function rotateClientSecret(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
): Promise<{ client: OAuthClientView; clientSecret: string }> {
  const { secret, sha256 } = newClientSecret();
  const row = await changeClient(
    ctx,
    request,
    clientId,
    { secretSha256: sha256 },
    { action: 'oauth.client.rotate', details: { rotated: true } },
  );
  return { client: clientView(row), clientSecret: secret };
}

export async function changeClientScopes(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
  input: ChangeScopesBody,
): Promise<OAuthClientView> {
  const row = await changeClient(
    ctx,
    request,
    clientId,
    { scopes: input.scopes },
    { action: 'oauth.client.scopes', details: { scopes: input.scopes.join(' ') || null } },
  );
  return clientView(row);
}

/** Disabling is final in this phase; the client's tokens stop working at once (introspection.ts). */
export async function disableClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
): Promise<OAuthClientView> {
  const row = await changeClient(
    ctx,
    request,
    clientId,
    { disabledAt: ctx.now() },
    { action: 'oauth.client.disable', details: { disabled: true } },
  );
  return clientView(row);
}
