// The portal invitation: the email to invite, and the invitee's side of an invitation of an
// existing account (A11).
import { Type, type Static } from 'typebox';

export const InvitationBody = Type.Object(
  { email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }) },
  { additionalProperties: false },
);

/** Always 'invited': the answer says nothing about whether the address has an account. */
export const InvitationAnswer = Type.Object(
  { status: Type.Literal('invited') },
  { additionalProperties: false },
);

const Id = Type.String({ maxLength: 36 });
const Timestamp = Type.String({ maxLength: 40 });

/** An invitation to see a record, as its invitee sees it: the clinic, not the record. */
export const OwnPortalInvitation = Type.Object(
  {
    id: Id,
    organizationName: Type.String({ maxLength: 120 }),
    invitedAt: Timestamp,
    expiresAt: Timestamp,
    /** False when the account cannot hold the record; `reason` then says why. */
    canAccept: Type.Boolean(),
    reason: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export const OwnPortalInvitationList = Type.Object(
  { invitations: Type.Array(OwnPortalInvitation, { maxItems: 100 }) },
  { additionalProperties: false },
);
export const PortalInvitationParams = Type.Object(
  { invitationId: Type.String({ format: 'uuid', maxLength: 36 }) },
  { additionalProperties: false },
);
export const PortalInvitationAccepted = Type.Object(
  {
    linked: Type.Object(
      { organizationName: Type.String({ maxLength: 120 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type OwnPortalInvitationView = Static<typeof OwnPortalInvitation>;
