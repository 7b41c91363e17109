// The portal invitation: the email to invite or link, and which of the two happened.
import { Type } from 'typebox';

export const InvitationBody = Type.Object(
  { email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }) },
  { additionalProperties: false },
);

export const InvitationAnswer = Type.Object(
  { status: Type.Union([Type.Literal('invited'), Type.Literal('linked')]) },
  { additionalProperties: false },
);
