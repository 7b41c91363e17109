// Who may see or run the organization a session works in (Z4): its members see it; only its
// organization administrators run it. A member asking to administer gets 403, not 404: they can
// already see the organization, so refusing them reveals nothing.
import type { AccessResolver } from './permissions.js';
import { organizationScope, requireOrganizationAdmin } from './scopes.js';

export const resolveOrganizationAccess: AccessResolver<'organization'> = async (input) => {
  const scope = await organizationScope(input.db, input.request);
  const { organizationId } = input.target;
  if (organizationId !== undefined && organizationId !== scope.organizationId) return undefined;
  if (input.action === 'administer') requireOrganizationAdmin(scope);
  return scope;
};
