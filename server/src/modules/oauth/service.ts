// Client management (A12, Z5): platform administrators register machine clients, rotate their
// secrets, change their scopes and disable them. Every change is audited in its transaction; a
// secret is 256 random bits, returned once and stored only as its SHA-256.
import type { FastifyRequest } from 'fastify';
import { randomToken } from '../../platform/crypto.js';
import { requireUser } from '../../platform/access/index.js';
import { HavenError, type FieldError } from '../../platform/errors.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { recordUserEvent } from '../../platform/user-event.js';
import { newClientSecret } from './client-secrets.js';
import { insertClient, listClients, updateClient, type ClientRow } from './repo.js';
import {
  CLIENT_LIST_LIMIT,
  MACHINE_CLIENT_SCOPES,
  isDelegatedScope,
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
    kind: row.kind,
    redirectUris: [...row.redirect_uris],
    publicClient: row.public_client,
    disabled: row.disabled_at !== null,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * An app's redirect URI (A12, OAuth 2.1 §2.3.1, RFC 8252 §7.3): an absolute https URL, or http
 * on a loopback address for a native app; no fragment, no credentials. It is then compared with
 * what an authorization request names exactly, character for character (oidc-provider).
 */
function redirectUriProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.hash !== '' || value.includes('#')) return 'must not have a fragment';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  const loopback = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    return 'must use https (or http on 127.0.0.1 or [::1] for an app on the same computer)';
  }
  return undefined;
}

/** The kind's rules: which scopes, whether redirect URIs, whether a secret (V1, Z2). */
function checkClientShape(input: CreateClientBody): {
  kind: 'machine' | 'app';
  redirectUris: string[];
  publicClient: boolean;
} {
  const kind = input.kind ?? 'machine';
  const publicClient = input.publicClient ?? false;
  const redirectUris = [...(input.redirectUris ?? [])];
  const errors: FieldError[] = [];
  if (kind === 'machine') {
    const foreign = input.scopes.filter(
      (scope) => !(MACHINE_CLIENT_SCOPES as readonly string[]).includes(scope),
    );
    if (foreign.length > 0) {
      errors.push({
        field: 'scopes',
        message: `A machine client cannot hold ${foreign.join(', ')}.`,
        code: 'invalid',
      });
    }
    if (redirectUris.length > 0) {
      errors.push({
        field: 'redirectUris',
        message: 'A machine client has no redirect URIs.',
        code: 'invalid',
      });
    }
    if (publicClient) {
      errors.push({
        field: 'publicClient',
        message: 'A machine client always has a secret.',
        code: 'invalid',
      });
    }
  } else {
    const foreign = input.scopes.filter((scope) => !isDelegatedScope(scope));
    if (foreign.length > 0) {
      errors.push({
        field: 'scopes',
        message: `An app cannot be given ${foreign.join(', ')}.`,
        code: 'invalid',
      });
    }
    if (redirectUris.length === 0) {
      errors.push({
        field: 'redirectUris',
        message: 'An app needs at least one redirect URI.',
        code: 'required',
      });
    }
    redirectUris.forEach((uri, index) => {
      const problem = redirectUriProblem(uri);
      if (problem) {
        errors.push({
          field: `redirectUris/${index}`,
          message: `This address ${problem}.`,
          code: 'invalid',
        });
      }
    });
  }
  if (errors.length > 0) {
    throw new HavenError('VALIDATION_FAILED', 'The client cannot be registered like this.', {
      errors,
    });
  }
  return { kind, redirectUris, publicClient };
}

export async function createClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  input: CreateClientBody,
): Promise<{ client: OAuthClientView; clientSecret: string | null }> {
  const { userId } = requireUser(request);
  const shape = checkClientShape(input);
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
      secretSha256: shape.publicClient ? null : sha256,
      kind: shape.kind,
      redirectUris: shape.redirectUris,
      publicClient: shape.publicClient,
      createdBy: userId,
    });
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'oauth.client.create',
      target: { type: 'oauth_client', id: created.client_id },
      details: {
        scopes: created.scopes.join(' ') || null,
        organizationId: created.owner_organization_id,
        kind: created.kind,
        publicClient: created.public_client,
      },
    });
    return created;
  });
  return { client: clientView(row), clientSecret: shape.publicClient ? null : secret };
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
