/**
 * Administration: the users page (search, invitations, roles, sessions) and the connected
 * systems (OAuth clients) of the platform and of an organization.
 */
export { AdminUsersPage } from './AdminUsersPage';
export { UsersHome } from './AdminHome';
export {
  AdminConnectedSystemsPage,
  OrganizationConnectedSystemsPage,
} from './ConnectedSystemsPage';
