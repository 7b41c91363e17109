// Request and answer shapes of the studies room: a study, its team, and the organizations where
// the caller may start one (docs/api/reviews.md, "Studies and their team").
import { Type, type Static } from 'typebox';
import { Empty, Id, Iso, Uuid, line, text } from '../shared/schemas.js';

export { Empty };

export const STUDY_TITLE_LENGTH = 200;
export const STUDY_DESCRIPTION_LENGTH = 4000;
/** The most studies one listing shows, most recently changed first. */
export const STUDY_LIST_LIMIT = 500;
/** The most team members one listing shows (owner and researchers first). */
export const MEMBER_LIST_LIMIT = 5000;

export const StudyParams = Type.Object({ studyId: Uuid }, { additionalProperties: false });
export const MemberParams = Type.Object(
  { studyId: Uuid, userId: Uuid },
  { additionalProperties: false },
);

const StudyStatusSchema = Type.Union([
  Type.Literal('draft'),
  Type.Literal('active'),
  Type.Literal('closed'),
]);
const StudyRoleSchema = Type.Union([
  Type.Literal('owner'),
  Type.Literal('researcher'),
  Type.Literal('participant'),
]);

const summaryProperties = {
  id: Id,
  organizationId: Id,
  organizationName: Type.String({ maxLength: 200 }),
  title: Type.String({ maxLength: STUDY_TITLE_LENGTH }),
  status: StudyStatusSchema,
  role: StudyRoleSchema,
  createdAt: Iso,
  updatedAt: Iso,
  counts: Type.Object(
    {
      cases: Type.Integer({ minimum: 0 }),
      participants: Type.Integer({ minimum: 0 }),
      assignments: Type.Integer({ minimum: 0 }),
      answers: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
  questionnaire: Type.Union([
    Type.Object(
      { versionId: Id, version: Type.Integer({ minimum: 1 }) },
      { additionalProperties: false },
    ),
    Type.Null(),
  ]),
};

export const StudySummarySchema = Type.Object(summaryProperties, { additionalProperties: false });
export type StudySummary = Static<typeof StudySummarySchema>;
export const StudySchema = Type.Object(
  { ...summaryProperties, description: Type.String({ maxLength: STUDY_DESCRIPTION_LENGTH }) },
  { additionalProperties: false },
);
export type StudyView = Static<typeof StudySchema>;
export const StudyAnswer = Type.Object({ study: StudySchema }, { additionalProperties: false });

export const StudyList = Type.Object(
  {
    studies: Type.Array(StudySummarySchema, { maxItems: STUDY_LIST_LIMIT }),
    organizations: Type.Array(
      Type.Object(
        { id: Id, name: Type.String({ maxLength: 200 }) },
        { additionalProperties: false },
      ),
      { maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
);

export const StudyCreate = Type.Object(
  {
    organizationId: Uuid,
    title: line(STUDY_TITLE_LENGTH, 1),
    description: Type.Optional(text(STUDY_DESCRIPTION_LENGTH)),
  },
  { additionalProperties: false },
);
export type StudyCreateBody = Static<typeof StudyCreate>;

export const StudyPatch = Type.Object(
  {
    title: Type.Optional(line(STUDY_TITLE_LENGTH, 1)),
    description: Type.Optional(text(STUDY_DESCRIPTION_LENGTH)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type StudyPatchBody = Static<typeof StudyPatch>;

export const StatusChange = Type.Object(
  { status: Type.Union([Type.Literal('active'), Type.Literal('closed')]) },
  { additionalProperties: false },
);

export const StudyMemberSchema = Type.Object(
  {
    userId: Id,
    displayName: Type.String({ maxLength: 200 }),
    email: Type.String({ maxLength: 254 }),
    role: StudyRoleSchema,
    status: Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('disabled')]),
    addedAt: Iso,
  },
  { additionalProperties: false },
);
export type StudyMemberView = Static<typeof StudyMemberSchema>;

export const MemberList = Type.Object(
  { members: Type.Array(StudyMemberSchema, { maxItems: MEMBER_LIST_LIMIT }) },
  { additionalProperties: false },
);

export const ResearcherAdd = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }) },
  { additionalProperties: false },
);
export const ResearcherAnswer = Type.Object(
  { member: StudyMemberSchema },
  { additionalProperties: false },
);

export const ParticipantAdd = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    displayName: Type.Optional(line(100)),
  },
  { additionalProperties: false },
);
/**
 * Adding a participant always invites (A11): an unknown email and an existing account alike, so
 * the answer tells nothing about the address. `invited` stays for clients that read it.
 */
export const ParticipantAnswer = Type.Object(
  { member: StudyMemberSchema, invited: Type.Literal(true) },
  { additionalProperties: false },
);
