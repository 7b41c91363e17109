// Request and response schemas of the organizations module (V1, V3): strict requests, and
// answers that let only the declared fields of docs/api/clinical.md leave the server.
import { Type, type Static } from 'typebox';

/** Upper bound of a member list or a caller's memberships in one answer (no pagination there). */
export const MAX_LISTED = 1000;

const Id = Type.String({ maxLength: 36 });
const Timestamp = Type.String({ maxLength: 40 });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
// Printable text only: C0 controls, DEL and the C1 range would corrupt lists and mail.
const NO_CONTROLS = '^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$';

export const OrganizationRoleSchema = Type.Union([
  Type.Literal('org_admin'),
  Type.Literal('clinician'),
  Type.Literal('researcher'),
]);

export const OrganizationIdParams = Type.Object(
  { organizationId: Uuid },
  { additionalProperties: false },
);
/**
 * A member by the `userId` the member list shows: a member's account, or, for an existing
 * account an org admin invited, the invitation's own id (the list never names that account).
 */
export const MemberParams = Type.Object(
  { organizationId: Uuid, userId: Uuid },
  { additionalProperties: false },
);

/** ISO 3166-1 alpha-2, one a phone numbering plan exists for (checked again in country.ts). */
export const CountryCode = Type.String({ minLength: 2, maxLength: 2, pattern: '^[A-Z]{2}$' });

export const Organization = Type.Object(
  {
    id: Id,
    name: Type.String({ maxLength: 120 }),
    country: CountryCode,
    createdAt: Timestamp,
    memberCount: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const Member = Type.Object(
  {
    userId: Id,
    email: Type.String({ maxLength: 254 }),
    displayName: Type.String({ maxLength: 100 }),
    role: OrganizationRoleSchema,
    status: Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('disabled')]),
    addedAt: Timestamp,
  },
  { additionalProperties: false },
);
export const MemberAnswer = Type.Object({ member: Member }, { additionalProperties: false });

export const MemberInvite = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    role: OrganizationRoleSchema,
    displayName: Type.Optional(Type.String({ maxLength: 100, pattern: NO_CONTROLS })),
  },
  { additionalProperties: false },
);

export const RoleChange = Type.Object(
  { role: OrganizationRoleSchema },
  { additionalProperties: false },
);

export const ActiveChoice = Type.Object({ organizationId: Uuid }, { additionalProperties: false });

export const ActiveAnswer = Type.Object(
  { activeOrganizationId: Id, role: OrganizationRoleSchema },
  { additionalProperties: false },
);

export const MembershipList = Type.Object(
  {
    organizations: Type.Array(
      Type.Object(
        {
          id: Id,
          name: Type.String({ maxLength: 120 }),
          country: CountryCode,
          role: OrganizationRoleSchema,
        },
        { additionalProperties: false },
      ),
      { maxItems: MAX_LISTED },
    ),
    activeOrganizationId: Type.Union([Id, Type.Null()]),
  },
  { additionalProperties: false },
);

export const OrganizationCreate = Type.Object(
  {
    // Trimmed and NFC-normalized by the handler, then checked again for 1–120 characters.
    name: Type.String({ minLength: 1, maxLength: 120, pattern: NO_CONTROLS }),
    /** Defaults to US, as the column does for organizations made before countries existed. */
    country: Type.Optional(CountryCode),
  },
  { additionalProperties: false },
);

/** What a platform administrator may change about an organization after creating it. */
export const OrganizationChange = Type.Object(
  { country: CountryCode },
  { additionalProperties: false },
);

export const OrganizationAnswer = Type.Object(
  { organization: Organization },
  { additionalProperties: false },
);

export const OrganizationQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 120, pattern: NO_CONTROLS })),
    cursor: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const OrganizationPage = Type.Object(
  {
    organizations: Type.Array(Organization, { maxItems: 100 }),
    nextCursor: Type.Union([Id, Type.Null()]),
  },
  { additionalProperties: false },
);

export const MemberList = Type.Object(
  { members: Type.Array(Member, { maxItems: MAX_LISTED }) },
  { additionalProperties: false },
);

/** An invitation to join an organization, as its invitee sees it (A11). */
export const OwnInvitation = Type.Object(
  {
    id: Id,
    organizationId: Id,
    organizationName: Type.String({ maxLength: 120 }),
    role: OrganizationRoleSchema,
    invitedAt: Timestamp,
    expiresAt: Timestamp,
    /** False when the account cannot join in that role; `reason` then says why. */
    canAccept: Type.Boolean(),
    reason: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export const OwnInvitationList = Type.Object(
  { invitations: Type.Array(OwnInvitation, { maxItems: MAX_LISTED }) },
  { additionalProperties: false },
);
export const InvitationParams = Type.Object(
  { invitationId: Uuid },
  { additionalProperties: false },
);
/** Accepting carries nothing but the invitation named in the path. */
export const Empty = Type.Object({}, { additionalProperties: false });
/** What accepting an invitation made of the caller. */
export const Joined = Type.Object(
  {
    organizationId: Id,
    organizationName: Type.String({ maxLength: 120 }),
    role: OrganizationRoleSchema,
  },
  { additionalProperties: false },
);
export const JoinedAnswer = Type.Object({ joined: Joined }, { additionalProperties: false });

export type OwnInvitationView = Static<typeof OwnInvitation>;
export type JoinedView = Static<typeof Joined>;
export type OrganizationView = Static<typeof Organization>;
export type MemberView = Static<typeof Member>;
export type OrganizationSearch = Static<typeof OrganizationQuery>;
export type OrganizationPageView = Static<typeof OrganizationPage>;
