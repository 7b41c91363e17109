// Schemas of the onboarding routes. Link tokens travel only in bodies (the SPA reads them from
// the URL fragment).
import { Type, type Static } from 'typebox';
import { EnrollmentRequired, SignedIn, statusAnswer } from '../shared/schemas.js';

// 256-bit base64url tokens are 43 characters; a little slack, nothing more.
const LinkToken = Type.String({ minLength: 20, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const Email = Type.String({ format: 'email', maxLength: 254 });
const DisplayName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
// The policy (12–128 after NFKC) decides and explains; this only bounds the request.
const Password = Type.String({ minLength: 1, maxLength: 1024 });

const body = <T extends Record<string, ReturnType<typeof Type.String>>>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

export const SetupBody = body({
  token: LinkToken,
  email: Email,
  displayName: DisplayName,
  password: Password,
});
export type SetupBody = Static<typeof SetupBody>;

export const TokenBody = body({ token: LinkToken });
export type TokenBody = Static<typeof TokenBody>;

export const AcceptBody = body({ token: LinkToken, displayName: DisplayName, password: Password });
export type AcceptBody = Static<typeof AcceptBody>;

export const SignupBody = body({ email: Email, displayName: DisplayName, password: Password });
export type SignupBody = Static<typeof SignupBody>;

export const InvitationAnswer = Type.Object(
  {
    email: Type.String({ maxLength: 254 }),
    role: Type.String({ maxLength: 20 }),
    /** The invitee's role in the organization that invited them, if any (names an org admin). */
    organizationRole: Type.Union([
      Type.Literal('org_admin'),
      Type.Literal('clinician'),
      Type.Literal('researcher'),
      Type.Null(),
    ]),
    displayName: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
    expiresAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);

export const AcceptAnswer = Type.Union([SignedIn, EnrollmentRequired]);

export const Verified = statusAnswer('verified');
