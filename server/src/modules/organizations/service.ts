// Organizations and the caller's memberships (Z4, L3): the use cases behind the routes, and the
// membership checks the member use cases (members/service.ts) share. Every change is audited in
// the transaction that makes it.
import type { OrganizationRole } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import type { RequestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { onUniqueViolation } from '../../platform/unique-conflict.js';
import { recordUserEvent } from '../../platform/user-event.js';
import * as repo from './repo.js';
import type { Db } from './repo.js';
import type { OrganizationPageView, OrganizationSearch, OrganizationView } from './schemas.js';

export const ONLY_ADMINS_MANAGE = 'Only organization administrators can manage members.';
const duplicateName = () =>
  new HavenError('CONFLICT', 'An organization with this name already exists.');

// ---------------------------------------------------------------------------------------------
// Access

/**
 * Z4: the caller must belong to the organization (404 otherwise, like a missing one); with
 * `admin`, they must also be its org_admin (403: they can see it, but not manage it).
 */
export async function requireMembership(
  db: Db,
  organizationId: string,
  userId: string,
  options: { admin?: boolean; lock?: 'share' | 'none' } = {},
): Promise<OrganizationRole> {
  const role = await repo.membershipRole(db, organizationId, userId, options.lock);
  if (!role) throw new HavenError('NOT_FOUND');
  if (options.admin && role !== 'org_admin') throw new HavenError('FORBIDDEN', ONLY_ADMINS_MANAGE);
  return role;
}

/** 404 unless the organization exists (it is never deleted, so no lock is needed). */
export async function requireOrganization(db: Db, organizationId: string): Promise<void> {
  if (!(await repo.organizationExists(db, organizationId))) throw new HavenError('NOT_FOUND');
}

// ---------------------------------------------------------------------------------------------
// Memberships of the caller

export function listMemberships(
  ctx: ModuleContext,
  userId: string,
): Promise<Array<{ id: string; name: string; role: OrganizationRole }>> {
  return repo.listMemberships(ctx.db, userId);
}

/** Chooses the session's organization; 404 unless the caller is a member of it. */
export async function chooseActiveOrganization(
  ctx: ModuleContext,
  input: RequestContext & { userId: string; sessionId: string; organizationId: string },
): Promise<OrganizationRole> {
  return ctx.db.transaction().execute(async (trx) => {
    // FOR SHARE: a removal running now waits, then clears this choice with the others.
    const role = await requireMembership(trx, input.organizationId, input.userId, {
      lock: 'share',
    });
    if (!(await repo.setActiveOrganization(trx, input))) throw new HavenError('NOT_FOUND');
    await recordUserEvent(trx, input.userId, input, {
      action: 'org.active_selected',
      target: { type: 'organization', id: input.organizationId },
      details: { role },
    });
    return role;
  });
}

// ---------------------------------------------------------------------------------------------
// Organizations (platform admins)

/** Names are stored trimmed and NFC-normalized, so look-alike duplicates compare equal. */
export function normalizeOrganizationName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (name.length < 1 || name.length > 120) {
    const message = 'The name must be 1 to 120 characters long.';
    throw new HavenError('VALIDATION_FAILED', message, { errors: [{ field: 'name', message }] });
  }
  return name;
}

export async function createOrganization(
  ctx: ModuleContext,
  input: RequestContext & { name: string; createdBy: string },
): Promise<OrganizationView> {
  const name = normalizeOrganizationName(input.name);
  return ctx.db.transaction().execute(async (trx) => {
    if (await repo.organizationNameTaken(trx, name)) throw duplicateName();
    const organization = await repo
      .insertOrganization(trx, { name, createdBy: input.createdBy })
      // Created by someone else between the check and the insert (organizations_name_idx).
      .catch(onUniqueViolation(duplicateName));
    await recordUserEvent(trx, input.createdBy, input, {
      action: 'org.created',
      target: { type: 'organization', id: organization.id },
    });
    return organization;
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
