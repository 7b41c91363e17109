/** First-start setup and invitation acceptance (docs/api/identity.md, "Onboarding"). */
import { AcceptAnswer, EnrollmentRequired, InvitationAnswer } from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf } from '../../shared/schemaDecoding';

export const decodeInvitation = answerOf(InvitationAnswer);
export type Invitation = Static<typeof InvitationAnswer>;

/** Setup always asks for MFA enrolment next: the first administrator needs it. */
export const decodeSetupAnswer = answerOf(EnrollmentRequired);

/** Invitation acceptance answers SignedIn, or EnrollmentRequired when the role needs MFA. */
export const decodeAcceptAnswer = answerOf(AcceptAnswer);
