import { expectRecord, expectString, optionalString, type Decoder } from '../../shared/api';
import { decodeSignInAnswer, type SignInAnswer } from '../../auth/authTypes';

export interface Invitation {
  email: string;
  role: string;
  displayName: string | null;
  expiresAt: string;
}

export const decodeInvitation: Decoder<Invitation> = (body) => {
  const r = expectRecord(body, 'invitation');
  return {
    email: expectString(r, 'email'),
    role: expectString(r, 'role'),
    displayName: optionalString(r, 'displayName'),
    expiresAt: expectString(r, 'expiresAt'),
  };
};

/** Setup and invitation acceptance answer SignedIn or EnrollmentRequired. */
export const decodeOnboardingAnswer: Decoder<SignInAnswer> = decodeSignInAnswer;
