// Z3: roles map to scopes in one table, least privilege, deny by default.
import { describe, expect, it } from 'vitest';
import type { Role } from '../../platform/db/schema.js';
import { ROLE_SCOPES, requiresMfa, scopesForRoles } from './roles.js';

describe('role → scope table', () => {
  it('Z3/deny by default: no role grants only the account scopes; an unknown role grants nothing more', () => {
    expect(scopesForRoles([])).toEqual(['account:read', 'account:write']);
    expect(scopesForRoles(['superuser' as Role])).toEqual(['account:read', 'account:write']);
  });

  it('Z3/least privilege: a patient cannot read other patients; a participant cannot manage studies', () => {
    expect(scopesForRoles(['patient'])).not.toContain('patients:read');
    expect(scopesForRoles(['participant'])).not.toContain('studies:manage');
    expect(scopesForRoles(['clinician'])).not.toContain('users:manage');
    expect(scopesForRoles(['admin'])).not.toContain('patients:read');
  });

  it('Z3: several roles give the union of their scopes, nothing else', () => {
    const expected = new Set([
      'account:read',
      'account:write',
      ...ROLE_SCOPES.clinician,
      ...ROLE_SCOPES.researcher,
    ]);
    expect(new Set(scopesForRoles(['clinician', 'researcher']))).toEqual(expected);
  });

  it('A9: admin, clinician and researcher require MFA; participant and patient do not', () => {
    expect(['admin', 'clinician', 'researcher'].every((r) => requiresMfa([r as Role]))).toBe(true);
    expect(requiresMfa(['participant', 'patient'])).toBe(false);
  });

  it('A9: a configured set replaces the default', () => {
    expect(requiresMfa(['patient'], new Set(['admin', 'patient']))).toBe(true);
    expect(requiresMfa(['clinician'], new Set(['admin', 'patient']))).toBe(false);
  });
});
