// The signed-in user as every identity answer shows them, and the one normalization of an
// email address that lookups, uniqueness and the login backoff all key on.
import type { Role } from '../../platform/db/schema.js';

export interface SignedInUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly roles: Role[];
}

export function toSignedInUser(row: {
  id: string;
  email: string;
  display_name: string;
  roles: Role[];
}): SignedInUser {
  return { id: row.id, email: row.email, displayName: row.display_name, roles: row.roles };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
