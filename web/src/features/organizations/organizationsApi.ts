/** Organizations, memberships and members (docs/api/clinical.md, "Organizations" and "Members"). */
import { field, listOf, num, object, oneOf, optionalText, text } from '../../shared/decoding';

export const ORGANIZATION_ROLES = ['org_admin', 'clinician'] as const;
export type OrganizationRole = (typeof ORGANIZATION_ROLES)[number];
/** New members start as clinicians unless chosen otherwise. */
export const DEFAULT_ORGANIZATION_ROLE: OrganizationRole = 'clinician';
const ROLE_LABELS: Record<OrganizationRole, string> = {
  org_admin: 'Organization administrator',
  clinician: 'Clinician',
};
export const roleLabel = (role: OrganizationRole): string => ROLE_LABELS[role];
export const ORGANIZATION_ROLE_CHOICES = (['clinician', 'org_admin'] as const).map((value) => ({
  value,
  label: ROLE_LABELS[value],
}));

const MEMBER_STATUSES = ['invited', 'active', 'disabled'] as const;
const MEMBER_STATUS_LABELS: Record<(typeof MEMBER_STATUSES)[number], string> = {
  invited: 'Invited, not signed in yet',
  active: 'Active',
  disabled: 'Disabled',
};
export const memberStatusLabel = (status: (typeof MEMBER_STATUSES)[number]): string =>
  MEMBER_STATUS_LABELS[status];

const decodeMembership = object('organization', {
  id: text,
  name: text,
  role: oneOf(ORGANIZATION_ROLES),
});
export type Membership = ReturnType<typeof decodeMembership>;

export const decodeMemberships = object('answer', {
  organizations: listOf(decodeMembership),
  activeOrganizationId: optionalText,
});

export const decodeActiveOrganization = object('answer', {
  activeOrganizationId: text,
  role: oneOf(ORGANIZATION_ROLES),
});

const decodeOrganization = object('organization', {
  id: text,
  name: text,
  createdAt: text,
  memberCount: num,
});
export type Organization = ReturnType<typeof decodeOrganization>;

export const decodeOrganizationAnswer = field('organization', decodeOrganization);

export const decodeOrganizationPage = object('answer', {
  organizations: listOf(decodeOrganization),
  nextCursor: optionalText,
});

const decodeMember = object('member', {
  userId: text,
  email: text,
  displayName: text,
  role: oneOf(ORGANIZATION_ROLES),
  status: oneOf(MEMBER_STATUSES),
  addedAt: text,
});
export type Member = ReturnType<typeof decodeMember>;

export const decodeMemberAnswer = field('member', decodeMember);
export const decodeMembers = field('members', listOf(decodeMember));

const ORGANIZATION_PAGE_SIZE = 20;

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
