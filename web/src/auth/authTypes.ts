/** The answers of the sign-in family of routes (sign-in, MFA, refresh, step-up, enrolment, /me). */
import {
  MeAnswer,
  SignedIn as SignedInSchema,
  SignInAnswer as SignInAnswerSchema,
  type UserView,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf } from '../shared/schemaDecoding';

/** Who the signed-in user is, in every answer that carries one (administrators' views add more). */
export type SessionUser = Static<typeof UserView>;

/** The `SignedIn` answer of sign-in, MFA, refresh, step-up and enrolment. */
export type SignedIn = Static<typeof SignedInSchema>;
export const decodeSignedIn = answerOf(SignedInSchema);

/** Signed in, or the second factor (or its enrolment) comes first. */
export type SignInAnswer = Static<typeof SignInAnswerSchema>;
export const decodeSignInAnswer = answerOf(SignInAnswerSchema);

export type Me = Static<typeof MeAnswer>;
export const decodeMe = answerOf(MeAnswer);
