// Schemas of the account routes: profile, email change, password change and own sessions.
import { Type, type Static } from 'typebox';
import { Password } from '../passwords/schemas.js';
import { LinkToken, UserView, sessionViewProperties } from '../shared/schemas.js';

export const UserAnswer = Type.Object({ user: UserView }, { additionalProperties: false });

export const ProfileChange = Type.Object(
  {
    displayName: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern:
        '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*[^\\s\\u0000-\\u001f\\u007f\\ud800-\\udfff][^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$',
    }),
  },
  { additionalProperties: false },
);

export const EmailChange = Type.Object(
  { newEmail: Type.String({ format: 'email', maxLength: 254 }) },
  { additionalProperties: false },
);

export const EmailConfirmation = Type.Object({ token: LinkToken }, { additionalProperties: false });

export const PasswordChange = Type.Object(
  { currentPassword: Password, newPassword: Password },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordChange>;

export const PasswordChanged = Type.Object(
  { revokedSessions: Type.Integer() },
  { additionalProperties: false },
);

const SessionView = Type.Object(
  { id: Type.String({ maxLength: 36 }), current: Type.Boolean(), ...sessionViewProperties },
  { additionalProperties: false },
);
export const SessionList = Type.Object(
  { sessions: Type.Array(SessionView, { maxItems: 100 }) },
  { additionalProperties: false },
);

export const SessionParams = Type.Object(
  { id: Type.String({ format: 'uuid', maxLength: 36 }) },
  { additionalProperties: false },
);

export const Revoked = Type.Object({ revoked: Type.Integer() }, { additionalProperties: false });
