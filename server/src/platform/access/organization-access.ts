// Who may see or run an organization (Z4): its members see it; only its organization
// administrators run it; members holding the staff scope list and add its patients; its
// researchers (membership role and the studies:manage scope) start studies in it. A member
// asking to administer gets 403, not 404: they can already see the organization, so refusing
// them reveals nothing.
import { HavenError } from '../errors.js';
import type { AccessResolver, ActionOf, ResolverInput } from './permissions.js';
import { organizationScope, requireOrganizationAdmin, type OrganizationScope } from './scopes.js';

type Input = ResolverInput<'organization'>;

/** The scope an action on the organization's patients needs beyond membership. */
const STAFF_SCOPE: Readonly<Partial<Record<ActionOf<'organization'>, string>>> = Object.freeze({
  list_patients: 'patients:read',
  add_patients: 'patients:write',
  run_studies: 'studies:manage',
});

/**
 * The caller's membership of the named organization. FOR SHARE makes a concurrent removal or
 * demotion wait for the caller's transaction, so a membership is never used after it ended.
 */
async function memberOf(input: Input, organizationId: string) {
  const row = await input.db
    .selectFrom('organization_members')
    .select('role')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', input.userId)
    .forShare()
    .executeTakeFirst();
  return row && { userId: input.userId, organizationId, role: row.role };
}

export const resolveOrganizationAccess: AccessResolver<'organization'> = async (input) => {
  const needed = STAFF_SCOPE[input.action];
  if (needed !== undefined && input.request.principal?.scopes.has(needed) !== true) {
    return undefined;
  }
  const { organizationId } = input.target;
  const scope: OrganizationScope | undefined =
    organizationId === undefined
      ? await organizationScope(input.db, input.request)
      : await memberOf(input, organizationId);
  if (scope && input.action === 'administer') requireOrganizationAdmin(scope);
  if (scope && input.action === 'run_studies' && scope.role !== 'researcher') {
    throw new HavenError('FORBIDDEN', 'Only researchers of the organization can run studies.');
  }
  return scope;
};
