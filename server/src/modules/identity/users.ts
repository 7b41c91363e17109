// The signed-in user as every identity answer shows them, the one normalization of an email
// address that lookups, uniqueness and the login backoff all key on, and the one check of a
// display name, whichever way it is set.
import type { Role } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { FieldErrors, cleanText } from '../../platform/text.js';

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

/** The longest display name, in code points (the schemas' maxLength counts the same). */
export const DISPLAY_NAME_LENGTH = 100;

/**
 * A display name as stored: trimmed, NFC, visible (V1, platform/text.ts cleanText). Others read
 * it beside their own text (a note's author line, the audit log's actor, a study team, the
 * invitation mail), so a bidirectional override or an invisible character in it would let one
 * person pass for another there. Every way a name is set comes through here: first-admin setup,
 * invitations by an admin, an organization or a study, accepting one, sign-up, the profile.
 * Throws 400 VALIDATION_FAILED naming `field`.
 */
export function cleanDisplayName(value: string, field = 'body.displayName'): string {
  const errors = new FieldErrors();
  const name = cleanText(errors, field, value, { required: true, maxLength: DISPLAY_NAME_LENGTH });
  errors.throwIfAny();
  if (name === undefined) throw new HavenError('VALIDATION_FAILED');
  return name;
}
