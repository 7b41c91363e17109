// Request and answer shapes of the invitee's side of a study invitation (docs/api/reviews.md,
// "Invitations to take part").
import { Type, type Static } from 'typebox';
import { STUDY_TITLE_LENGTH } from '../studies/schemas.js';
import { Empty, Id, Iso, Uuid } from '../shared/schemas.js';

export { Empty };

/** The most open invitations one listing shows, soonest to expire first. */
export const OWN_INVITATIONS_LIMIT = 100;

export const StudyInvitationParams = Type.Object(
  { studyId: Uuid },
  { additionalProperties: false },
);

export const OwnStudyInvitation = Type.Object(
  {
    studyId: Id,
    studyTitle: Type.String({ maxLength: STUDY_TITLE_LENGTH }),
    organizationName: Type.String({ maxLength: 200 }),
    /** The researcher who invited them, by name; absent when that account is gone. */
    invitedBy: Type.Optional(Type.String({ maxLength: 200 })),
    expiresAt: Iso,
    /** False when the account cannot take part; `reason` then says why. */
    canAccept: Type.Boolean(),
    reason: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
export type OwnStudyInvitationView = Static<typeof OwnStudyInvitation>;

export const OwnStudyInvitationList = Type.Object(
  { invitations: Type.Array(OwnStudyInvitation, { maxItems: OWN_INVITATIONS_LIMIT }) },
  { additionalProperties: false },
);

/** What accepting made of the caller: a participant of this study. */
export const TakingPartAnswer = Type.Object(
  {
    joined: Type.Object(
      { studyId: Id, studyTitle: Type.String({ maxLength: STUDY_TITLE_LENGTH }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type TakingPartView = Static<typeof TakingPartAnswer>['joined'];
