// Roles map to scopes in this one table (Z3): least privilege, deny by default — a role
// not listed, or a scope not granted here, gives nothing.
import type { Role } from '../../platform/db/schema.js';

const EVERY_SIGNED_IN_USER = ['account:read', 'account:write'] as const;

export const ROLE_SCOPES: Readonly<Record<Role, readonly string[]>> = Object.freeze({
  admin: ['users:read', 'users:manage', 'audit:read', 'orgs:manage', 'breakglass:request'],
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
