// The JWKS answer: public parameters only, whatever the stored document holds.
import { Type, type Static } from 'typebox';

/** At most this many keys are published (current plus retired ones still verifying). */
export const MAX_PUBLISHED_KEYS = 32;

export const PublicJwkSchema = Type.Object(
  {
    kty: Type.String({ maxLength: 8 }),
    crv: Type.String({ maxLength: 16 }),
    x: Type.String({ maxLength: 128 }),
    y: Type.Optional(Type.String({ maxLength: 128 })),
    kid: Type.String({ maxLength: 64 }),
    alg: Type.String({ maxLength: 16 }),
    use: Type.Literal('sig'),
  },
  { additionalProperties: false },
);
export type PublicJwk = Static<typeof PublicJwkSchema>;

export const Jwks = Type.Object(
  { keys: Type.Array(PublicJwkSchema, { maxItems: MAX_PUBLISHED_KEYS }) },
  { additionalProperties: false },
);
