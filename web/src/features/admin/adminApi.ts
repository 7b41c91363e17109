/** User administration (docs/api/identity.md, "Administration"). */
import {
  AdminRevoked,
  InvitationResent,
  Invited,
  UserPage,
  UserSessions,
  type AdminUserAnswer,
} from '@haven/contract';
import type { Static } from 'typebox';
import { accountRoleName } from '../../shared/roles';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export const ROLES = ['admin', 'clinician', 'researcher', 'participant', 'patient'] as const;
export type Role = (typeof ROLES)[number];
/** Invitations suggest the most common role. */
export const DEFAULT_ROLE: Role = 'clinician';
export const ROLE_CHOICES = ROLES.map((value) => ({ value, label: accountRoleName(value) }));
export const USER_STATUSES = ['invited', 'active', 'disabled'] as const;
/** An account's status as the administrator reads it. */
export const USER_STATUS_WORDS = {
  invited: 'Invited (has not signed in yet)',
  active: 'Active',
  disabled: 'Disabled',
} as const satisfies Record<(typeof USER_STATUSES)[number], string>;

export type AdminUser = Static<typeof AdminUserAnswer>['user'];

export const decodeUserPage = answerOf(UserPage);
export const decodeUserSessions = memberOf(UserSessions, 'sessions');
/** How many sessions "sign out all sessions of this user" ended. */
export const decodeAdminRevoked = memberOf(AdminRevoked, 'revoked');

/** Until when a new invitation's link works. */
export const decodeInvited = memberOf(Invited, 'expiresAt');
/** Until when a re-sent invitation's link works. */
export const decodeInvitationResent = memberOf(InvitationResent, 'expiresAt');

export interface UserFilters {
  query: string;
  status: string;
}

const PAGE_SIZE = 20;

export function userListPath(filters: UserFilters, cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.query.trim()) params.set('query', filters.query.trim());
  if (filters.status) params.set('status', filters.status);
  if (cursor) params.set('cursor', cursor);
  return `/api/admin/users?${params.toString()}`;
}

export function userPath(id: string, rest: string): string {
  return `/api/admin/users/${encodeURIComponent(id)}/${rest}`;
}
