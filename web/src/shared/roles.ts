/**
 * The one way the SPA names a person's role (issue 14, "one role story"). The words come from
 * the server's table through the contract, so the header, home, account, users list, members
 * list and invitation page say exactly what the invitation mail said: an organization
 * administrator, whose account role is only 'clinician', reads "Organization administrator".
 */
import { leadingOrganizationRole, organizationRoleLabel, personRoleLabel } from '@haven/contract';

/** A role within an organization, as the server names them. */
export type OrganizationRole = 'org_admin' | 'clinician' | 'researcher';
/** An account role, as the server names them. */
export type AccountRole = 'admin' | 'clinician' | 'researcher' | 'participant' | 'patient';

const ACCOUNT_ROLES: readonly string[] = [
  'admin',
  'clinician',
  'researcher',
  'participant',
  'patient',
] satisfies AccountRole[];
const isAccountRole = (role: string): role is AccountRole => ACCOUNT_ROLES.includes(role);

export interface RoleHolder {
  /** The account roles (users.roles; the session carries them as plain strings). */
  readonly roles: readonly string[];
  /**
   * The organization role that applies here: the active organization's for the signed-in
   * person, or all of them (the strongest names the person) in an administrator's list.
   */
  readonly organizationRole?: OrganizationRole | readonly OrganizationRole[] | null;
}

/** "Organization administrator", "Clinician", "Administrator", "Patient", … */
export function roleLabel({ roles, organizationRole }: RoleHolder): string {
  const membership =
    organizationRole === undefined ||
    organizationRole === null ||
    typeof organizationRole === 'string'
      ? (organizationRole ?? null)
      : leadingOrganizationRole(organizationRole);
  return personRoleLabel(roles.filter(isAccountRole), membership);
}

/** The words for one organization role, as in the members list and the role picker. */
export const organizationRoleName = (role: OrganizationRole): string => organizationRoleLabel(role);

/** The words for one account role, as in the invitation form and the roles checkboxes. */
export const accountRoleName = (role: AccountRole): string => personRoleLabel([role]);
