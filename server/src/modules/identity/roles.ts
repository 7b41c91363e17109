// Roles map to scopes in this one table (Z3): least privilege, deny by default — a role
// not listed, or a scope not granted here, gives nothing. Below it, the words people read for
// roles: plain data the SPA shares through the contract, so mail and pages name roles alike.
import type { OrganizationRole, Role } from '../../platform/db/schema.js';

const EVERY_SIGNED_IN_USER = ['account:read', 'account:write'] as const;

export const ROLE_SCOPES: Readonly<Record<Role, readonly string[]>> = Object.freeze({
  admin: [
    'users:read',
    'users:manage',
    'audit:read',
    'orgs:manage',
    'breakglass:request',
    // OAuth machine clients (A12): registration, secrets, scopes; every route under step-up.
    'oauth:manage',
  ],
  clinician: [
    'orgs:read',
    'orgs:members',
    'patients:read',
    'patients:write',
    'notes:write',
    'documents:read',
    'documents:write',
    'files:read',
    'files:write',
  ],
  researcher: ['studies:read', 'studies:manage', 'exports:read'],
  participant: ['reviews:read', 'reviews:answer'],
  patient: ['portal:read', 'portal:write', 'files:read', 'files:write'],
});

/** Roles that cannot hold a session without MFA by default (A9); HAVEN_MFA_REQUIRED_ROLES overrides. */
export const MFA_REQUIRED_ROLES: ReadonlySet<Role> = new Set(['admin', 'clinician', 'researcher']);

export function scopesForRoles(roles: readonly Role[]): string[] {
  const scopes = new Set<string>(EVERY_SIGNED_IN_USER);
  for (const role of roles) for (const scope of ROLE_SCOPES[role] ?? []) scopes.add(scope);
  return [...scopes].sort();
}

export function requiresMfa(
  roles: readonly Role[],
  required: ReadonlySet<string> = MFA_REQUIRED_ROLES,
): boolean {
  return roles.some((role) => required.has(role));
}

/** The words people read for each account role (SPA and mail alike, via the contract). */
const ACCOUNT_ROLE_LABELS: Readonly<Record<Role, string>> = Object.freeze({
  admin: 'Administrator',
  clinician: 'Clinician',
  researcher: 'Researcher',
  participant: 'Participant',
  patient: 'Patient',
});

/** The words for a role within an organization. */
const ORGANIZATION_ROLE_LABELS: Readonly<Record<OrganizationRole, string>> = Object.freeze({
  org_admin: 'Organization administrator',
  clinician: 'Clinician',
  researcher: 'Researcher',
});

/** Organization roles from most to least authority: the one a person is named by. */
const ORGANIZATION_ROLE_RANK: readonly OrganizationRole[] = [
  'org_admin',
  'clinician',
  'researcher',
];

export const organizationRoleLabel = (role: OrganizationRole): string =>
  ORGANIZATION_ROLE_LABELS[role];

/** The membership role a person with several memberships is named by (the strongest). */
export function leadingOrganizationRole(
  roles: readonly OrganizationRole[],
): OrganizationRole | null {
  return ORGANIZATION_ROLE_RANK.find((role) => roles.includes(role)) ?? null;
}

/**
 * One human label for a person, wherever they are shown (header, home, users list, mail).
 * The account role 'clinician' or 'researcher' only says the person is staff; the membership
 * role says what they are in their organization, so it replaces it: an org admin's account
 * role is 'clinician', and they must still read "Organization administrator". A platform
 * administrator is named so first; other account roles (patient, participant) follow.
 */
export function personRoleLabel(
  roles: readonly Role[],
  organizationRole?: OrganizationRole | null,
): string {
  const labels: string[] = [];
  if (roles.includes('admin')) labels.push(ACCOUNT_ROLE_LABELS.admin);
  if (organizationRole) labels.push(ORGANIZATION_ROLE_LABELS[organizationRole]);
  for (const role of roles) {
    if (role === 'admin') continue;
    const staff = role === 'clinician' || role === 'researcher';
    if (staff && organizationRole) continue;
    labels.push(ACCOUNT_ROLE_LABELS[role]);
  }
  const unique = [...new Set(labels)];
  if (unique.length === 0) return 'No role';
  return [unique[0], ...unique.slice(1).map((label) => label.toLowerCase())].join(' and ');
}
