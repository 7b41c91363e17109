// Organizations and the caller's memberships (Z4, L3): the use cases behind the routes. Access
// to an organization is decided by requireAccess; every change is audited in the transaction
// that makes it.
import type { FastifyRequest } from 'fastify';
import type { OrganizationRole } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { FieldErrors, cleanText } from '../../platform/text.js';
import { requireAccess, requireUser } from '../../platform/access/index.js';
import { requestContext, type RequestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { onUniqueViolation } from '../../platform/unique-conflict.js';
import { recordUserEvent } from '../../platform/user-event.js';
import { checkCountry, DEFAULT_COUNTRY } from './country.js';
import * as repo from './repo.js';
import type { Db } from './repo.js';
import type { OrganizationPageView, OrganizationSearch, OrganizationView } from './schemas.js';

const duplicateName = () =>
  new HavenError('CONFLICT', 'An organization with this name already exists.');

/**
 * 404 unless the organization exists, for platform admins, whose right to manage any
 * organization is their scope (the route contract), not a relationship to this one. It is
 * never deleted, so no lock is needed.
 */
export async function requireOrganization(db: Db, organizationId: string): Promise<void> {
  if (!(await repo.organizationExists(db, organizationId))) throw new HavenError('NOT_FOUND');
}

// ---------------------------------------------------------------------------------------------
// Memberships of the caller

export function listMemberships(
  ctx: ModuleContext,
  userId: string,
): Promise<Array<{ id: string; name: string; country: string; role: OrganizationRole }>> {
  return repo.listMemberships(ctx.db, userId);
}

/** Chooses the session's organization; 404 unless the caller is a member of it. */
export async function chooseActiveOrganization(
  ctx: ModuleContext,
  request: FastifyRequest,
  organizationId: string,
): Promise<OrganizationRole> {
  const { sessionId } = requireUser(request);
  return ctx.db.transaction().execute(async (trx) => {
    // requireAccess holds the membership FOR SHARE: a removal running now waits, then clears
    // this choice with the others.
    const { userId, role } = await requireAccess(trx, request, 'organization:read', {
      organizationId,
    });
    if (!(await repo.setActiveOrganization(trx, { userId, sessionId, organizationId }))) {
      throw new HavenError('NOT_FOUND');
    }
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'org.active_selected',
      target: { type: 'organization', id: organizationId },
      details: { role },
    });
    return role;
  });
}

// ---------------------------------------------------------------------------------------------
// Organizations (platform admins)

/**
 * Names are stored trimmed and NFC-normalized, so look-alike duplicates compare equal, and
 * visible (platform/text.ts): a clinic's name heads its invitation mails and every member's
 * switcher, where an invisible or reordering character would let it pass for another (V1).
 */
export function normalizeOrganizationName(raw: string): string {
  const errors = new FieldErrors();
  const name = cleanText(errors, 'name', raw, { required: true, maxLength: 120 });
  errors.throwIfAny();
  if (name === undefined) throw new HavenError('VALIDATION_FAILED');
  return name;
}

export async function createOrganization(
  ctx: ModuleContext,
  input: RequestContext & { name: string; country?: string; createdBy: string },
): Promise<OrganizationView> {
  const name = normalizeOrganizationName(input.name);
  const country = checkCountry(input.country ?? DEFAULT_COUNTRY);
  return ctx.db.transaction().execute(async (trx) => {
    if (await repo.organizationNameTaken(trx, name)) throw duplicateName();
    const organization = await repo
      .insertOrganization(trx, { name, country, createdBy: input.createdBy })
      // Created by someone else between the check and the insert (organizations_name_idx).
      .catch(onUniqueViolation(duplicateName));
    await recordUserEvent(trx, input.createdBy, input, {
      action: 'org.created',
      target: { type: 'organization', id: organization.id },
    });
    return organization;
  });
}

/** Changes the organization's country (platform admins); audited with the old and new code. */
export async function changeOrganizationCountry(
  ctx: ModuleContext,
  input: RequestContext & { organizationId: string; country: string; actorId: string },
): Promise<OrganizationView> {
  const country = checkCountry(input.country);
  return ctx.db.transaction().execute(async (trx) => {
    const changed = await repo.setOrganizationCountry(trx, input.organizationId, country);
    if (changed === undefined) throw new HavenError('NOT_FOUND', 'No such organization.');
    await recordUserEvent(trx, input.actorId, input, {
      action: 'org.updated',
      target: { type: 'organization', id: input.organizationId },
      details: { countryBefore: changed.before, country },
    });
    return changed.organization;
  });
}

export function searchOrganizations(
  ctx: ModuleContext,
  search: OrganizationSearch,
): Promise<OrganizationPageView> {
  return repo.searchOrganizations(ctx.db, {
    term: search.q?.normalize('NFC').trim() ?? '',
    cursor: search.cursor,
    limit: search.limit ?? 50,
  });
}
