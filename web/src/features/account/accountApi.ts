/** The signed-in user's own account: profile, sessions and MFA (docs/api/identity.md). */
import {
  MfaStatus,
  PasswordChanged,
  Revoked,
  SessionList,
  UserAnswer,
  type UserSessions,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

/** A session of the caller's own list, or of an administrator's view (which has no `current`). */
export type SessionSummary = Static<typeof UserSessions>['sessions'][number] &
  Partial<Pick<Static<typeof SessionList>['sessions'][number], 'current'>>;

export const decodeSessions = memberOf(SessionList, 'sessions');

export const decodeMfaStatus = answerOf(MfaStatus);

export const decodeUserAnswer = memberOf(UserAnswer, 'user');

/** How many sessions "sign out everywhere else" ended. */
export const decodeRevoked = memberOf(Revoked, 'revoked');

/** How many other sessions a password change ended. */
export const decodePasswordChanged = memberOf(PasswordChanged, 'revokedSessions');

/** "1 other session was" / "3 other sessions were" (`other` is the word before "session"). */
export function sessionsSignedOut(count: number, other = ''): string {
  const sessions = count === 1 ? 'session was' : 'sessions were';
  return `${count} ${other ? `${other} ` : ''}${sessions} signed out.`;
}
