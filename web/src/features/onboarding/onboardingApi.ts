/** First-start setup and invitation acceptance (docs/api/identity.md, "Onboarding"). */
import { decodeSignInAnswer, type SignInAnswer } from '../../auth/authTypes';
import type { Decoder } from '../../shared/api';
import { object, optionalText, text } from '../../shared/decoding';

export const decodeInvitation = object('invitation', {
  email: text,
  role: text,
  displayName: optionalText,
  expiresAt: text,
});
export type Invitation = ReturnType<typeof decodeInvitation>;

/** Setup and invitation acceptance answer SignedIn or EnrollmentRequired. */
export const decodeOnboardingAnswer: Decoder<SignInAnswer> = decodeSignInAnswer;
