/**
 * Organizations: the administrators' page, the members page, and the active organization
 * (its store, the header switcher, and the problem shown when none is chosen).
 */
export { AdminOrganizationsPage } from './AdminOrganizationsPage';
export { ClinicalProblem } from './ClinicalProblem';
export { MembersPage } from './MembersPage';
export { OrganizationAdminHome } from './OrganizationAdminHome';
export { OrganizationInvitationsHome } from './OrganizationInvitationsHome';
export { OrganizationsHome } from './OrganizationsHome';
export { OrganizationSwitcher, OrganizationSync } from './OrganizationSwitcher';
export {
  useActiveRole,
  useOrganizationCountry,
  useOrganizationKey,
  useOrganizations,
} from './organizationStore';
export { decodeOrganizationPage, type Membership } from './organizationsApi';
