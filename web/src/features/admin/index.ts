/** User administration: the users page (search, invitations, roles, sessions). */
export { AdminUsersPage } from './AdminUsersPage';
export { UsersHome } from './AdminHome';
