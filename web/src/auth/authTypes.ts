import {
  expectNumber,
  expectRecord,
  expectString,
  expectStringArray,
  type Decoder,
} from '../shared/api';

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
}

/** The `SignedIn` answer of sign-in, MFA, refresh, step-up and enrolment. */
export interface SignedIn {
  user: SessionUser;
  csrfToken: string;
  /** Epoch seconds. */
  accessExpiresAt: number;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

export type SignInAnswer =
  | { status: 'signed_in'; signedIn: SignedIn }
  | { status: 'mfa_required' }
  | { status: 'mfa_enrollment_required' };

export interface Me {
  user: SessionUser;
  csrfToken: string;
  scopes: string[];
}

export function decodeUser(value: unknown): SessionUser {
  const r = expectRecord(value, 'user');
  return {
    id: expectString(r, 'id'),
    email: expectString(r, 'email'),
    displayName: expectString(r, 'displayName'),
    roles: expectStringArray(r, 'roles'),
  };
}

export const decodeSignedIn: Decoder<SignedIn> = (body) => {
  const r = expectRecord(body, 'answer');
  if (r['status'] !== 'signed_in') throw new Error('Expected a signed-in answer.');
  return {
    user: decodeUser(r['user']),
    csrfToken: expectString(r, 'csrfToken'),
    accessExpiresAt: expectNumber(r, 'accessExpiresAt'),
    idleExpiresAt: expectString(r, 'idleExpiresAt'),
    absoluteExpiresAt: expectString(r, 'absoluteExpiresAt'),
  };
};

export const decodeSignInAnswer: Decoder<SignInAnswer> = (body) => {
  const r = expectRecord(body, 'answer');
  switch (r['status']) {
    case 'signed_in':
      return { status: 'signed_in', signedIn: decodeSignedIn(body) };
    case 'mfa_required':
      return { status: 'mfa_required' };
    case 'mfa_enrollment_required':
      return { status: 'mfa_enrollment_required' };
    default:
      throw new Error('Unknown sign-in status.');
  }
};

export const decodeMe: Decoder<Me> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    user: decodeUser(r['user']),
    csrfToken: expectString(r, 'csrfToken'),
    scopes: expectStringArray(r, 'scopes'),
  };
};
