/** The answers of the sign-in family of routes (sign-in, MFA, refresh, step-up, enrolment, /me). */
import type { Decoder } from '../shared/api';
import { expectRecord, num, object, text, textList } from '../shared/decoding';

/** The members of a user in every answer that carries one (administrators' views add more). */
export const USER_MEMBERS = { id: text, email: text, displayName: text, roles: textList };

export const decodeUser = object('user', USER_MEMBERS);
export type SessionUser = ReturnType<typeof decodeUser>;

const decodeSignedInMembers = object('answer', {
  user: decodeUser,
  csrfToken: text,
  /** Epoch seconds. */
  accessExpiresAt: num,
  idleExpiresAt: text,
  absoluteExpiresAt: text,
});
/** The `SignedIn` answer of sign-in, MFA, refresh, step-up and enrolment. */
export type SignedIn = ReturnType<typeof decodeSignedInMembers>;

export const decodeSignedIn: Decoder<SignedIn> = (body) => {
  if (expectRecord(body, 'answer')['status'] !== 'signed_in') {
    throw new Error('Expected a signed-in answer.');
  }
  return decodeSignedInMembers(body);
};

export type SignInAnswer =
  | { status: 'signed_in'; signedIn: SignedIn }
  | { status: 'mfa_required' }
  | { status: 'mfa_enrollment_required' };

export const decodeSignInAnswer: Decoder<SignInAnswer> = (body) => {
  const status = expectRecord(body, 'answer')['status'];
  switch (status) {
    case 'signed_in':
      return { status, signedIn: decodeSignedIn(body) };
    case 'mfa_required':
    case 'mfa_enrollment_required':
      return { status };
    default:
      throw new Error('Unknown sign-in status.');
  }
};

export const decodeMe = object('answer', { user: decodeUser, csrfToken: text, scopes: textList });
export type Me = ReturnType<typeof decodeMe>;
