// Schemas of the password routes (reset here, change in account/).
import { Type, type Static } from 'typebox';
import { LinkToken, statusAnswer } from '../shared/schemas.js';

// The policy (12–128 after NFKC) decides and explains; this only bounds the request.
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

export const ResetRequest = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }) },
  { additionalProperties: false },
);
export const ResetSent = statusAnswer('sent');

export const ResetCompletion = Type.Object(
  { token: LinkToken, newPassword: Password },
  { additionalProperties: false },
);
export type ResetCompletion = Static<typeof ResetCompletion>;

export const PasswordChanged = statusAnswer('password_changed');
