import {
  expectBoolean,
  expectRecord,
  expectString,
  expectStringArray,
  optionalString,
  type Decoder,
} from '../../shared/api';

export const ROLES = ['admin', 'clinician', 'researcher', 'participant', 'patient'] as const;
export type Role = (typeof ROLES)[number];
export const USER_STATUSES = ['invited', 'active', 'disabled'] as const;

export interface AdminUser {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
  status: string;
  mfaEnrolled: boolean;
  createdAt: string;
}

export interface UserPage {
  users: AdminUser[];
  nextCursor: string | null;
}

export interface UserQuery {
  query: string;
  status: string;
  cursor: string | null;
}

export const PAGE_SIZE = 20;

function decodeAdminUser(value: unknown): AdminUser {
  const r = expectRecord(value, 'user');
  return {
    id: expectString(r, 'id'),
    email: expectString(r, 'email'),
    displayName: expectString(r, 'displayName'),
    roles: expectStringArray(r, 'roles'),
    status: expectString(r, 'status'),
    mfaEnrolled: expectBoolean(r, 'mfaEnrolled'),
    createdAt: expectString(r, 'createdAt'),
  };
}

export const decodeUserPage: Decoder<UserPage> = (body) => {
  const r = expectRecord(body, 'answer');
  const users = r['users'];
  if (!Array.isArray(users)) throw new Error('Missing "users".');
  return { users: users.map(decodeAdminUser), nextCursor: optionalString(r, 'nextCursor') };
};

/** For answers the page does not read (`{ user }` after an admin action): it reloads the list instead. */
export const decodeAnyAnswer: Decoder<null> = () => null;

export function userListPath(query: UserQuery): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (query.query.trim()) params.set('query', query.query.trim());
  if (query.status) params.set('status', query.status);
  if (query.cursor) params.set('cursor', query.cursor);
  return `/api/admin/users?${params.toString()}`;
}

export function userPath(id: string, rest: string): string {
  return `/api/admin/users/${encodeURIComponent(id)}/${rest}`;
}
