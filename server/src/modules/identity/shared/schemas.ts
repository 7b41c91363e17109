// Answers several identity sub-domains share: the signed-in answer (sign-in, MFA, enrolment,
// invitation acceptance, refresh, step-up), the "not yet" answers, and the views of an account
// and of a session.
import { Type, type Static } from 'typebox';

export const Empty = Type.Object({}, { additionalProperties: false });

/**
 * A one-time link token (password reset, email confirmation) as the routes take it; the SPA asks
 * for the whole link when what it was given does not have this shape.
 */
export const LINK_TOKEN_PATTERN = '^[A-Za-z0-9_-]{20,100}$';
export const LinkToken = Type.String({ pattern: LINK_TOKEN_PATTERN, maxLength: 100 });

/** Who an account is, in every answer that shows one (and the account export). */
export const userViewProperties = {
  id: Type.String({ maxLength: 36 }),
  email: Type.String({ maxLength: 254 }),
  displayName: Type.String({ maxLength: 100 }),
  roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
};
export const UserView = Type.Object(userViewProperties, { additionalProperties: false });

/** A session as the lists of sessions show it (after its id): the caller's own, or an admin's view. */
export const sessionViewProperties = {
  createdAt: Type.String({ maxLength: 40 }),
  lastSeenAt: Type.String({ maxLength: 40 }),
  userAgent: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
  clientAddress: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
};

export const SignedIn = Type.Object(
  {
    status: Type.Literal('signed_in'),
    user: UserView,
    csrfToken: Type.String({ maxLength: 64 }),
    accessExpiresAt: Type.Integer(),
    idleExpiresAt: Type.String({ maxLength: 40 }),
    absoluteExpiresAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export type SignedInAnswer = Static<typeof SignedIn>;

/** An answer that is a status word and nothing else. */
export const statusAnswer = <Status extends string>(status: Status) =>
  Type.Object({ status: Type.Literal(status) }, { additionalProperties: false });

/** The password was right; a TOTP or recovery code must follow (POST /api/auth/mfa). */
export const MfaRequired = statusAnswer('mfa_required');

/** No session until MFA is enrolled (the pending cookie opens the enrolment routes). */
export const EnrollmentRequired = statusAnswer('mfa_enrollment_required');

/** A link was mailed to the address to prove it (sign-up, email change). */
export const VerificationSent = statusAnswer('verification_sent');
