// Schemas of the MFA routes: enrolment, step-up and the account's MFA settings.
import { Type, type Static } from 'typebox';
import { SignedIn } from '../shared/schemas.js';

export const CodeBody = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{6}$', maxLength: 6 }) },
  { additionalProperties: false },
);
export type CodeBody = Static<typeof CodeBody>;

export const EnrollmentSecret = Type.Object(
  {
    secret: Type.String({ maxLength: 64 }),
    otpauthUri: Type.String({ maxLength: 1024 }),
    qrSvg: Type.String({ maxLength: 200_000 }),
  },
  { additionalProperties: false },
);

const RecoveryCodes = Type.Array(Type.String({ maxLength: 11 }), { minItems: 10, maxItems: 10 });

export const SignedInWithCodes = Type.Object(
  { ...SignedIn.properties, recoveryCodes: RecoveryCodes },
  { additionalProperties: false },
);

export const EnrolledCodes = Type.Object(
  { recoveryCodes: RecoveryCodes },
  { additionalProperties: false },
);

export const RegeneratedCodes = Type.Object(
  { recoveryCodes: Type.Array(Type.String({ maxLength: 11 }), { maxItems: 10 }) },
  { additionalProperties: false },
);

export const MfaStatus = Type.Object(
  {
    enrolled: Type.Boolean(),
    required: Type.Boolean(),
    recoveryCodesRemaining: Type.Integer(),
  },
  { additionalProperties: false },
);
