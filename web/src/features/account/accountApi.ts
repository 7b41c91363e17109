/** The signed-in user's own account: profile, sessions and MFA (docs/api/identity.md). */
import { decodeUser } from '../../auth/authTypes';
import type { Decoder } from '../../shared/api';
import { bool, field, listOf, num, object, optionalText, text } from '../../shared/decoding';

const decodeSession = object('session', {
  id: text,
  /** True for the session making the request (absent in admin views). */
  current: (value) => value === true,
  createdAt: text,
  lastSeenAt: text,
  userAgent: optionalText,
  clientAddress: optionalText,
});
export type SessionSummary = ReturnType<typeof decodeSession>;

export const decodeSessions = field('sessions', listOf(decodeSession));

export const decodeMfaStatus = object('answer', {
  enrolled: bool,
  required: bool,
  recoveryCodesRemaining: num,
});

export const decodeUserAnswer = field('user', decodeUser);

/** How many sessions a sign-out ended (the member's name differs between routes). */
export const decodeRevokedCount = (key: 'revoked' | 'revokedSessions'): Decoder<number> =>
  field(key, num);

/** "1 other session was" / "3 other sessions were" (`other` is the word before "session"). */
export function sessionsSignedOut(count: number, other = ''): string {
  const sessions = count === 1 ? 'session was' : 'sessions were';
  return `${count} ${other ? `${other} ` : ''}${sessions} signed out.`;
}
