// Client management (A12, Z5): platform administrators register machine clients, rotate their
// secrets, change their scopes and disable them; organization administrators do the same for
// their organization's clients (the end of this file). Every change is audited in its
// transaction; a secret is 256 random bits, returned once and stored only as its SHA-256.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { randomToken } from '../../platform/crypto.js';
import { requireAccess, requireUser } from '../../platform/access/index.js';
import { HavenError, type FieldError } from '../../platform/errors.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { recordUserEvent } from '../../platform/user-event.js';
import { newClientSecret } from './client-secrets.js';
import { checkClientName } from './client-name.js';
import { redirectUriProblem } from './redirect-uris.js';
import type { TokenDecisions } from './token-decisions.js';
import {
  findClient,
  lockClient,
  insertClient,
  listClients,
  listOrganizationClients,
  lockOrganizationClient,
  updateClient,
  type ClientRow,
} from './repo.js';
import {
  CLIENT_LIST_LIMIT,
  CLIENT_SCOPES_BY_KIND,
  ORGANIZATION_CLIENT_SCOPES,
  type ChangeScopesBody,
  type CreateClientBody,
  type OAuthClientView,
  type OrganizationCreateClientBody,
} from './schemas.js';

/** The services' context: what the module's routes and use cases need of its settings. */
export type OAuthContext = ModuleContext<{ readonly decisions: TokenDecisions }>;

/**
 * Checked first in a change's own transaction: that this caller may still make it (an org
 * admin's change of their organization's client; organization-routes.ts). Throws to refuse.
 */
export type ClientChangeCheck = (trx: Kysely<DatabaseSchema>) => Promise<void>;

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

/** Scopes a client of `kind` cannot hold (CLIENT_SCOPES_BY_KIND), as field errors. */
function scopeErrors(kind: 'machine' | 'app', scopes: readonly string[]): FieldError[] {
  const foreign = scopes.filter((scope) => !CLIENT_SCOPES_BY_KIND[kind].includes(scope));
  if (foreign.length === 0) return [];
  const holder = kind === 'machine' ? 'A machine client cannot hold' : 'An app cannot be given';
  return [{ field: 'scopes', message: `${holder} ${foreign.join(', ')}.`, code: 'invalid' }];
}

/** The kind's rules: which scopes, whether redirect URIs, whether a secret (V1, Z2). */
function checkClientShape(input: CreateClientBody): {
  name: string;
  kind: 'machine' | 'app';
  redirectUris: string[];
  publicClient: boolean;
} {
  const kind = input.kind ?? 'machine';
  const publicClient = input.publicClient ?? false;
  const redirectUris = [...(input.redirectUris ?? [])];
  const named = checkClientName(input.name);
  const errors: FieldError[] = [...named.errors, ...scopeErrors(kind, input.scopes)];
  if (kind === 'machine') {
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
  return { name: named.name ?? '', kind, redirectUris, publicClient };
}

export async function createClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  input: CreateClientBody,
  authorize?: ClientChangeCheck,
): Promise<{ client: OAuthClientView; clientSecret: string | null }> {
  const { userId } = requireUser(request);
  const shape = checkClientShape(input);
  const { secret, sha256 } = newClientSecret();
  const row = await ctx.db.transaction().execute(async (trx) => {
    await authorize?.(trx);
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
      name: shape.name,
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

/**
 * One audited change of one client; 404 for an unknown client. Disabling is final: a disabled
 * client takes no new secret and no new scopes (409), and disabling it again changes nothing (no
 * new time, no event), so the record keeps when it was disabled.
 */
async function changeClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
  change: Parameters<typeof updateClient>[2],
  event: { action: string; details: Record<string, string | boolean | null> },
  authorize?: ClientChangeCheck,
): Promise<ClientRow> {
  const { userId } = requireUser(request);
  const row = await ctx.db.transaction().execute(async (trx) => {
    await authorize?.(trx);
    const current = await lockClient(trx, clientId);
    if (!current) throw new HavenError('NOT_FOUND', 'No such client.');
    if (current.disabled_at !== null) {
      if (change.disabledAt !== undefined) return current;
      throw new HavenError(
        'CONFLICT',
        'The client is disabled, which is final: it takes no new secret and no new scopes.',
      );
    }
    const changed = await updateClient(trx, clientId, change, ctx.now());
    if (!changed) throw new HavenError('NOT_FOUND', 'No such client.');
    await recordUserEvent(trx, userId, requestContext(request), {
      action: event.action,
      target: { type: 'oauth_client', id: clientId },
      details: event.details,
    });
    return changed;
  });
  // Committed: this node stops reusing what it knew of the client (token-decisions.ts).
  ctx.settings.decisions.forgetAll();
  return row;
}

export async function rotateClientSecret(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
  authorize?: ClientChangeCheck,
): Promise<{ client: OAuthClientView; clientSecret: string }> {
  const { secret, sha256 } = newClientSecret();
  // A public app never has a secret (and the table refuses one): 409 before any write.
  const hasSecret: ClientChangeCheck = async (trx) => {
    await authorize?.(trx);
    if ((await findClient(trx, clientId))?.public_client === true) {
      throw new HavenError('CONFLICT', 'A public app has no secret: there is none to rotate.');
    }
  };
  const row = await changeClient(
    ctx,
    request,
    clientId,
    { secretSha256: sha256 },
    { action: 'oauth.client.rotate', details: { rotated: true } },
    hasSecret,
  );
  return { client: clientView(row), clientSecret: secret };
}

export async function changeClientScopes(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
  input: ChangeScopesBody,
  authorize?: ClientChangeCheck,
): Promise<OAuthClientView> {
  // The new scopes follow the client's kind as at registration (a machine never holds an app's
  // delegated scope, nor an app a machine's), whoever changes them.
  const scopesOfKind: ClientChangeCheck = async (trx) => {
    await authorize?.(trx);
    const current = await findClient(trx, clientId);
    const errors = current ? scopeErrors(current.kind, input.scopes) : [];
    if (errors.length > 0) {
      throw new HavenError('VALIDATION_FAILED', 'The client cannot hold these scopes.', { errors });
    }
  };
  const row = await changeClient(
    ctx,
    request,
    clientId,
    { scopes: input.scopes },
    { action: 'oauth.client.scopes', details: { scopes: input.scopes.join(' ') || null } },
    scopesOfKind,
  );
  return clientView(row);
}

/**
 * Disabling is final in this phase; the client's tokens stop working at once on this node and
 * within half a second on every other (introspection.ts, token-decisions.ts).
 */
export async function disableClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  clientId: string,
  authorize?: ClientChangeCheck,
): Promise<OAuthClientView> {
  const row = await changeClient(
    ctx,
    request,
    clientId,
    { disabledAt: ctx.now() },
    { action: 'oauth.client.disable', details: { disabled: true } },
    authorize,
  );
  return clientView(row);
}

// --- an organization's own clients, managed by its administrators (issue 12 item 4) ---------
// The same use cases as above, so each change is audited exactly as a platform admin's; what
// differs is who may make it: an org_admin of the organization in the path (404 outside it, 403
// for its other members, as requireAccess answers), on a client that organization owns (404 for
// any other, even one the caller could manage through another path), with scopes they may give.

const administer = (db: Kysely<DatabaseSchema>, request: FastifyRequest, organizationId: string) =>
  requireAccess(db, request, 'organization:administer', { organizationId });

/** Refuses scopes an org admin may not give a client of this kind (ORGANIZATION_CLIENT_SCOPES). */
function requireGrantableByOrganization(kind: 'machine' | 'app', scopes: readonly string[]): void {
  const grantable = ORGANIZATION_CLIENT_SCOPES[kind];
  const beyond = scopes.filter((scope) => !grantable.includes(scope));
  if (beyond.length > 0 || scopes.length === 0) {
    const what = kind === 'machine' ? 'machine integration' : 'app';
    throw new HavenError(
      'FORBIDDEN',
      `Only a platform administrator can give a ${what} ${beyond.join(', ') || 'these scopes'}.`,
    );
  }
}

/**
 * The check a change of an organization's client runs in its transaction: the caller is still
 * the organization's admin (their membership held FOR SHARE until commit), and the client is the
 * organization's (locked); `allow` then judges the locked row.
 */
function organizationClientCheck(
  request: FastifyRequest,
  organizationId: string,
  clientId: string,
  allow: (row: ClientRow) => void = () => undefined,
): ClientChangeCheck {
  return async (trx) => {
    await administer(trx, request, organizationId);
    const row = await lockOrganizationClient(trx, organizationId, clientId);
    if (!row) throw new HavenError('NOT_FOUND', 'No such client.');
    allow(row);
  };
}

export async function listOrganizationOAuthClients(
  ctx: OAuthContext,
  request: FastifyRequest,
  organizationId: string,
): Promise<OAuthClientView[]> {
  await administer(ctx.db, request, organizationId);
  return (await listOrganizationClients(ctx.db, organizationId, CLIENT_LIST_LIMIT)).map(clientView);
}

/** Registers a client the organization owns. */
export async function createOrganizationClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  organizationId: string,
  input: OrganizationCreateClientBody,
): Promise<{ client: OAuthClientView; clientSecret: string | null }> {
  // First, so an outsider learns nothing from how the body would have been judged.
  await administer(ctx.db, request, organizationId);
  requireGrantableByOrganization(input.kind ?? 'machine', input.scopes);
  return createClient(ctx, request, { ...input, ownerOrganizationId: organizationId }, (trx) =>
    administer(trx, request, organizationId).then(() => undefined),
  );
}

/** The new secret goes to an org admin only for a client whose scopes they could have given. */
export function rotateOrganizationClientSecret(
  ctx: OAuthContext,
  request: FastifyRequest,
  organizationId: string,
  clientId: string,
): Promise<{ client: OAuthClientView; clientSecret: string }> {
  return rotateClientSecret(
    ctx,
    request,
    clientId,
    organizationClientCheck(request, organizationId, clientId, (row) =>
      requireGrantableByOrganization(row.kind, row.scopes),
    ),
  );
}

export function changeOrganizationClientScopes(
  ctx: OAuthContext,
  request: FastifyRequest,
  organizationId: string,
  clientId: string,
  input: ChangeScopesBody,
): Promise<OAuthClientView> {
  return changeClientScopes(
    ctx,
    request,
    clientId,
    input,
    organizationClientCheck(request, organizationId, clientId, (row) =>
      requireGrantableByOrganization(row.kind, input.scopes),
    ),
  );
}

/** Any of the organization's clients, whatever it holds: stopping access gives none. */
export function disableOrganizationClient(
  ctx: OAuthContext,
  request: FastifyRequest,
  organizationId: string,
  clientId: string,
): Promise<OAuthClientView> {
  return disableClient(
    ctx,
    request,
    clientId,
    organizationClientCheck(request, organizationId, clientId),
  );
}
