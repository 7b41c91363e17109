// Answers several identity sub-domains share: the signed-in answer (sign-in, MFA, enrolment,
// invitation acceptance, refresh, step-up) and the two "not yet" answers.
import { Type, type Static } from 'typebox';

export const Empty = Type.Object({}, { additionalProperties: false });

export const UserView = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    email: Type.String({ maxLength: 254 }),
    displayName: Type.String({ maxLength: 100 }),
    roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
  },
  { additionalProperties: false },
);

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

/** The password was right; a TOTP or recovery code must follow (POST /api/auth/mfa). */
export const MfaRequired = Type.Object(
  { status: Type.Literal('mfa_required') },
  { additionalProperties: false },
);

/** No session until MFA is enrolled (the pending cookie opens the enrolment routes). */
export const EnrollmentRequired = Type.Object(
  { status: Type.Literal('mfa_enrollment_required') },
  { additionalProperties: false },
);
