// Who may see or run an organization (Z4): its members see it; only its organization
// administrators run it; its clinical staff (org_admin and clinician members) holding the staff
// scope list and add its patients, and its researcher members never do, whatever scopes their
// account holds; its researchers (membership role and the studies:manage scope) start studies in
// it. A staff member asking to administer gets 403, not 404: they can already see the
// organization, so refusing them reveals nothing.
import { HavenError } from '../errors.js';
import type { AccessResolver, ActionOf, ResolverInput } from './permissions.js';
import {
  ORGANIZATION_STAFF_SCOPE,
  isClinicalStaff,
  organizationScope,
  requireOrganizationAdmin,
  type OrganizationScope,
} from './scopes.js';

type Input = ResolverInput<'organization'>;

/** The scope an action on the organization's patients needs beyond membership. */
const STAFF_SCOPE: Readonly<Partial<Record<ActionOf<'organization'>, string>>> = Object.freeze({
  list_patients: 'patients:read',
  add_patients: 'patients:write',
  run_studies: 'studies:manage',
  // The org admins' own scope: a stale org_admin membership of an account that is no longer
  // staff (scopes.ts, ORGANIZATION_STAFF_SCOPE) runs nothing, whatever route asks.
  administer: ORGANIZATION_STAFF_SCOPE,
});

/** The actions on the organization's patients, which only its clinical staff take. */
const PATIENT_ACTIONS: ReadonlySet<ActionOf<'organization'>> = new Set([
  'list_patients',
  'add_patients',
]);

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
  // The patients are its clinical staff's: a researcher member holding clinical scopes from their
  // account (scopes.ts, isClinicalStaff) still neither lists nor adds them.
  if (scope && PATIENT_ACTIONS.has(input.action) && !isClinicalStaff(scope)) {
    throw new HavenError('FORBIDDEN', "Only the organization's clinical staff see its patients.");
  }
  if (scope && input.action === 'run_studies' && scope.role !== 'researcher') {
    throw new HavenError('FORBIDDEN', 'Only researchers of the organization can run studies.');
  }
  return scope;
};
