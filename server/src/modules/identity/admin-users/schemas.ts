// Schemas of the user administration routes.
import { Type, type Static } from 'typebox';
import type { Role } from '../../../platform/db/schema.js';
import { ROLE_SCOPES } from '../roles.js';
import { sessionViewProperties, userViewProperties } from '../shared/schemas.js';

export const ROLES = Object.keys(ROLE_SCOPES) as Role[];
const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));

const Status = Type.Union([
  Type.Literal('invited'),
  Type.Literal('active'),
  Type.Literal('disabled'),
]);

export const IdParams = Type.Object(
  { id: Type.String({ format: 'uuid', maxLength: 36 }) },
  { additionalProperties: false },
);

const AdminUserView = Type.Object(
  {
    ...userViewProperties,
    /** The roles the user holds in organizations, each once: an org admin's account role is 'clinician'. */
    organizationRoles: Type.Array(
      Type.Union([
        Type.Literal('org_admin'),
        Type.Literal('clinician'),
        Type.Literal('researcher'),
      ]),
      { maxItems: 3, uniqueItems: true },
    ),
    status: Status,
    mfaEnrolled: Type.Boolean(),
    createdAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export const UserAnswer = Type.Object({ user: AdminUserView }, { additionalProperties: false });

export const UserQuery = Type.Object(
  {
    query: Type.Optional(Type.String({ maxLength: 254 })),
    status: Type.Optional(Status),
    cursor: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type UserQuery = Static<typeof UserQuery>;

export const UserPage = Type.Object(
  {
    users: Type.Array(AdminUserView, { maxItems: 100 }),
    nextCursor: Type.Union([Type.String({ maxLength: 36 }), Type.Null()]),
  },
  { additionalProperties: false },
);

const AdminSessionView = Type.Object(
  { id: Type.String({ maxLength: 36 }), ...sessionViewProperties },
  { additionalProperties: false },
);
export const UserSessions = Type.Object(
  { sessions: Type.Array(AdminSessionView, { maxItems: 100 }) },
  { additionalProperties: false },
);

export const Invitation = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    role: RoleSchema,
    displayName: Type.Optional(
      Type.String({
        maxLength: 100,
        pattern: '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Invitation = Static<typeof Invitation>;

export const Invited = Type.Object(
  { userId: Type.String({ maxLength: 36 }), expiresAt: Type.String({ maxLength: 40 }) },
  { additionalProperties: false },
);

export const InvitationResent = Type.Object(
  { expiresAt: Type.String({ maxLength: 40 }) },
  { additionalProperties: false },
);

export const RoleChange = Type.Object(
  { roles: Type.Array(RoleSchema, { maxItems: ROLES.length, uniqueItems: true }) },
  { additionalProperties: false },
);

export const Revoked = Type.Object({ revoked: Type.Integer() }, { additionalProperties: false });
