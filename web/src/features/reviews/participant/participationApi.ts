/** Research case reviews, the participant's side: docs/api/reviews.md, "Participation". */
import {
  AnswerSubmitted,
  MyStudiesAnswer,
  NextCaseAnswer,
  type StyledNodeView,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../../shared/schemaDecoding';

export type MyStudy = Static<typeof MyStudiesAnswer>['studies'][number];
export type NextCase =
  { done: false; progress: Progress; assignment: ReviewView } | { done: true; progress: Progress };
type Progress = Static<typeof NextCaseAnswer>['progress'];
type DecodedView = Extract<Static<typeof NextCaseAnswer>, { done: false }>['assignment'];
export type StyledNode = StyledNodeView;
/** The tree's schema is unrolled level by level, so its static type is opaque; StyledNode names it. */
export type ReviewView = Omit<DecodedView, 'case'> & {
  case: Omit<DecodedView['case'], 'tree'> & { tree: StyledNode[] };
};

export const decodeMyStudies = memberOf(MyStudiesAnswer, 'studies');
const decodeNextAnswer = answerOf(NextCaseAnswer);
/** Checked against the unrolled styled-tree schema, which is exactly the StyledNode shape. */
export const decodeNextCase = (body: unknown): NextCase => decodeNextAnswer(body);
export const decodeSubmitted = memberOf(AnswerSubmitted, 'answer');
export const ignoreBody = (): null => null;

export function reviewPagePath(studyId: string): string {
  return `/reviews/${encodeURIComponent(studyId)}`;
}

export function nextCasePath(studyId: string): string {
  return `/api/reviews/studies/${encodeURIComponent(studyId)}/next`;
}

export function assignmentApi(assignmentId: string, rest: string): string {
  return `/api/reviews/assignments/${encodeURIComponent(assignmentId)}${rest}`;
}
