// Schemas of the session routes: refresh, sign-out and who am I.
import { Type } from 'typebox';
import { UserView } from '../shared/schemas.js';

export const MeAnswer = Type.Object(
  {
    user: UserView,
    csrfToken: Type.String({ maxLength: 64 }),
    scopes: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
  },
  { additionalProperties: false },
);
