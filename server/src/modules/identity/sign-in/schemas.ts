// Schemas of the sign-in routes: password first, then (when required) a second factor.
import { Type, type Static } from 'typebox';
import { EnrollmentRequired, MfaRequired, SignedIn } from '../shared/schemas.js';

export const Credentials = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type Credentials = Static<typeof Credentials>;

export const SignInAnswer = Type.Union([SignedIn, MfaRequired, EnrollmentRequired]);

export const SecondFactor = Type.Object(
  {
    code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', maxLength: 6 })),
    recoveryCode: Type.Optional(Type.String({ minLength: 10, maxLength: 32 })),
  },
  { additionalProperties: false },
);
export type SecondFactor = Static<typeof SecondFactor>;
