/** Organizations, memberships and members (docs/api/clinical.md, "Organizations" and "Members"). */
import {
  ActiveAnswer,
  JoinedAnswer,
  MemberAnswer,
  MemberList,
  MembershipList,
  OrganizationAnswer,
  OrganizationPage,
  OwnInvitationList,
} from '@haven/contract';
import type { Static } from 'typebox';
import { organizationRoleName } from '../../shared/roles';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type Membership = Static<typeof MembershipList>['organizations'][number];
export type OrganizationRole = Membership['role'];
/** New members start as clinicians unless chosen otherwise. */
export const DEFAULT_ORGANIZATION_ROLE: OrganizationRole = 'clinician';
export const ORGANIZATION_ROLE_CHOICES = (['clinician', 'org_admin', 'researcher'] as const).map(
  (value) => ({ value, label: organizationRoleName(value) }),
);

const MEMBER_STATUS_LABELS: Record<Member['status'], string> = {
  invited: 'Invited, not joined yet',
  active: 'Active',
  disabled: 'Disabled',
};
export const memberStatusLabel = (status: Member['status']): string => MEMBER_STATUS_LABELS[status];

export const decodeMemberships = answerOf(MembershipList);
export const decodeActiveOrganization = answerOf(ActiveAnswer);

export type Organization = Static<typeof OrganizationAnswer>['organization'];
export const decodeOrganizationAnswer = memberOf(OrganizationAnswer, 'organization');
export const decodeOrganizationPage = answerOf(OrganizationPage);

export type Member = Static<typeof MemberAnswer>['member'];
export const decodeMemberAnswer = memberOf(MemberAnswer, 'member');
export const decodeMembers = memberOf(MemberList, 'members');

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

/** Invitations to join an organization, as their invitee sees them (A11). */
export const OWN_INVITATIONS_PATH = '/api/account/organization-invitations';
export const decodeOwnInvitations = memberOf(OwnInvitationList, 'invitations');
export const decodeJoined = memberOf(JoinedAnswer, 'joined');

export function ownInvitationPath(invitationId: string, accept = false): string {
  const base = `${OWN_INVITATIONS_PATH}/${encodeURIComponent(invitationId)}`;
  return accept ? `${base}/accept` : base;
}
