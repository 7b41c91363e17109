/** Organizations, memberships and members (docs/api/clinical.md, "Organizations" and "Members"). */
import {
  expectNumber,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { expectArray, expectOneOf, field } from '../../shared/decoding';

export const ORGANIZATION_ROLES = ['org_admin', 'clinician'] as const;
export type OrganizationRole = (typeof ORGANIZATION_ROLES)[number];
export const ORGANIZATION_ROLE_CHOICES = [
  { value: 'clinician', label: 'Clinician' },
  { value: 'org_admin', label: 'Organization administrator' },
] as const satisfies ReadonlyArray<{ value: OrganizationRole; label: string }>;

export function roleLabel(role: OrganizationRole): string {
  return role === 'org_admin' ? 'Organization administrator' : 'Clinician';
}

export interface Membership {
  id: string;
  name: string;
  role: OrganizationRole;
}

export interface Memberships {
  organizations: Membership[];
  activeOrganizationId: string | null;
}

export interface Organization {
  id: string;
  name: string;
  createdAt: string;
  memberCount: number;
}

export interface OrganizationPage {
  organizations: Organization[];
  nextCursor: string | null;
}

export const MEMBER_STATUSES = ['invited', 'active', 'disabled'] as const;

const MEMBER_STATUS_LABELS: Record<(typeof MEMBER_STATUSES)[number], string> = {
  invited: 'Invited, not signed in yet',
  active: 'Active',
  disabled: 'Disabled',
};
export const memberStatusLabel = (status: (typeof MEMBER_STATUSES)[number]): string =>
  MEMBER_STATUS_LABELS[status];

export interface Member {
  userId: string;
  email: string;
  displayName: string;
  role: OrganizationRole;
  status: (typeof MEMBER_STATUSES)[number];
  addedAt: string;
}

export interface MemberInvite {
  email: string;
  role: OrganizationRole;
  displayName?: string;
}

function decodeMembership(value: unknown): Membership {
  const r = expectRecord(value, 'organization');
  return {
    id: expectString(r, 'id'),
    name: expectString(r, 'name'),
    role: expectOneOf(r, 'role', ORGANIZATION_ROLES),
  };
}

export const decodeMemberships: Decoder<Memberships> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    organizations: expectArray(r, 'organizations', decodeMembership),
    activeOrganizationId: optionalString(r, 'activeOrganizationId'),
  };
};

export const decodeActiveOrganization: Decoder<{
  activeOrganizationId: string;
  role: OrganizationRole;
}> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    activeOrganizationId: expectString(r, 'activeOrganizationId'),
    role: expectOneOf(r, 'role', ORGANIZATION_ROLES),
  };
};

function decodeOrganization(value: unknown): Organization {
  const r = expectRecord(value, 'organization');
  return {
    id: expectString(r, 'id'),
    name: expectString(r, 'name'),
    createdAt: expectString(r, 'createdAt'),
    memberCount: expectNumber(r, 'memberCount'),
  };
}

export const decodeOrganizationAnswer = field('organization', decodeOrganization);

export const decodeOrganizationPage: Decoder<OrganizationPage> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    organizations: expectArray(r, 'organizations', decodeOrganization),
    nextCursor: optionalString(r, 'nextCursor'),
  };
};

export function decodeMember(value: unknown): Member {
  const r = expectRecord(value, 'member');
  return {
    userId: expectString(r, 'userId'),
    email: expectString(r, 'email'),
    displayName: expectString(r, 'displayName'),
    role: expectOneOf(r, 'role', ORGANIZATION_ROLES),
    status: expectOneOf(r, 'status', MEMBER_STATUSES),
    addedAt: expectString(r, 'addedAt'),
  };
}

export const decodeMemberAnswer = field('member', decodeMember);

export const decodeMembers: Decoder<Member[]> = (body) =>
  expectArray(expectRecord(body, 'answer'), 'members', decodeMember);

export const ORGANIZATION_PAGE_SIZE = 20;

export function organizationListPath(q: string, cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(ORGANIZATION_PAGE_SIZE) });
  if (q.trim()) params.set('q', q.trim());
  if (cursor) params.set('cursor', cursor);
  return `/api/admin/organizations?${params.toString()}`;
}

export function membersPath(organizationId: string, userId?: string): string {
  const base = `/api/organizations/${encodeURIComponent(organizationId)}/members`;
  return userId === undefined ? base : `${base}/${encodeURIComponent(userId)}`;
}
