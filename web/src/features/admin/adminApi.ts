/** User administration (docs/api/identity.md, "Administration"). */
import { USER_MEMBERS } from '../../auth/authTypes';
import { bool, field, listOf, object, optionalText, text } from '../../shared/decoding';

export const ROLES = ['admin', 'clinician', 'researcher', 'participant', 'patient'] as const;
export type Role = (typeof ROLES)[number];
/** Invitations suggest the most common role. */
export const DEFAULT_ROLE: Role = 'clinician';
export const ROLE_CHOICES = ROLES.map((value) => ({ value, label: value }));
export const USER_STATUSES = ['invited', 'active', 'disabled'] as const;

const decodeAdminUser = object('user', {
  ...USER_MEMBERS,
  status: text,
  mfaEnrolled: bool,
  createdAt: text,
});
export type AdminUser = ReturnType<typeof decodeAdminUser>;

export const decodeUserPage = object('answer', {
  users: listOf(decodeAdminUser),
  nextCursor: optionalText,
});

/** An invitation's answer: until when its link works. */
export const decodeInvitationExpiry = field('expiresAt', text);

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
