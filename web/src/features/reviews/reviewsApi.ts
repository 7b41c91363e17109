/** Research case reviews, the researcher's side: docs/api/reviews.md. */
import {
  AssignmentImportAnswer,
  AssignmentPage,
  CaseAnswer,
  CaseImportAnswer,
  CasePage,
  ExperimentAnswer,
  ExperimentList,
  QuestionnaireVersionAnswer,
  QuestionnaireVersionList,
  RandomizationAnswer,
  RandomizationList,
  StudyAnswer,
  OwnStudyInvitationList,
  StudyInvitationAccepted,
  StudyListAnswer,
  StudyMemberList,
  StudyParticipantAnswer,
  StudyResearcherAnswer,
  type CaseNode,
} from '@haven/contract';
import { Type, type Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type StudyList = Static<typeof StudyListAnswer>;
export type StudySummary = StudyList['studies'][number];
export type Study = Static<typeof StudyAnswer>['study'];
export type StudyMember = Static<typeof StudyMemberList>['members'][number];
export type CaseSummary = Static<typeof CasePage>['cases'][number];
/** The tree's schema is unrolled level by level, so its static type is opaque; CaseNode names it. */
export type CaseDetail = Omit<Static<typeof CaseAnswer>['case'], 'tree'> & { tree: CaseNode[] };
export type QuestionnaireVersion = Static<typeof QuestionnaireVersionAnswer>['version'];
export type VersionSummary = Static<typeof QuestionnaireVersionList>['versions'][number];
export type Experiment = Static<typeof ExperimentAnswer>['experiment'];
export type Arm = Experiment['arms'][number];
export type Assignment = Static<typeof AssignmentPage>['assignments'][number];
export type Randomization = Static<typeof RandomizationAnswer>['randomization'];

export const decodeStudyList = answerOf(StudyListAnswer);
export const decodeStudy = memberOf(StudyAnswer, 'study');
export const decodeMembers = memberOf(StudyMemberList, 'members');
export const decodeParticipantAnswer = answerOf(StudyParticipantAnswer);
export const decodeResearcherAnswer = answerOf(StudyResearcherAnswer);

/** Invitations to take part in a study, as their invitee sees them (A11). */
export const STUDY_INVITATIONS_PATH = '/api/account/study-invitations';
export const decodeStudyInvitations = memberOf(OwnStudyInvitationList, 'invitations');
export const decodeStudyInvitationAccepted = memberOf(StudyInvitationAccepted, 'joined');
export function studyInvitationPath(studyId: string, accept = false): string {
  const base = `${STUDY_INVITATIONS_PATH}/${encodeURIComponent(studyId)}`;
  return accept ? `${base}/accept` : base;
}
export const decodeCaseImport = answerOf(CaseImportAnswer);
export const decodeCasePage = answerOf(CasePage);
const decodeCaseAnswer = memberOf(CaseAnswer, 'case');
/** Checked against the unrolled tree schema, which is exactly the CaseNode shape. */
export const decodeCase = (body: unknown): CaseDetail => decodeCaseAnswer(body) as CaseDetail;
export const decodeVersions = memberOf(QuestionnaireVersionList, 'versions');
export const decodeVersion = memberOf(QuestionnaireVersionAnswer, 'version');
export const decodeExperiments = memberOf(ExperimentList, 'experiments');
export const decodeExperiment = memberOf(ExperimentAnswer, 'experiment');
/**
 * `{ arm }` of POST …/experiments/:id/arms, checked with the arm schema an experiment's answer
 * declares (the contract exports experiments, and an arm is the same shape inside them).
 */
export const decodeArm = memberOf(
  Type.Object(
    { arm: ExperimentAnswer.properties.experiment.properties.arms.items },
    { additionalProperties: false },
  ),
  'arm',
);
export const decodeAssignmentPage = answerOf(AssignmentPage);
export const decodeAssignmentImport = answerOf(AssignmentImportAnswer);
export const decodeRandomization = memberOf(RandomizationAnswer, 'randomization');
export const decodeRandomizations = memberOf(RandomizationList, 'randomizations');
/** 204 answers (removing a team member) carry nothing to decode. */
export const ignoreBody = (): null => null;

/** `/api/studies/<id>` followed by `rest`. */
export function studyApi(studyId: string, rest = ''): string {
  return `/api/studies/${encodeURIComponent(studyId)}${rest}`;
}

export type StudyTab =
  'overview' | 'cases' | 'questionnaire' | 'experiments' | 'assignments' | 'dashboard' | 'exports';

export const STUDY_TABS: ReadonlyArray<{ tab: StudyTab; label: string }> = [
  { tab: 'overview', label: 'Overview' },
  { tab: 'cases', label: 'Cases' },
  { tab: 'questionnaire', label: 'Questionnaire' },
  { tab: 'experiments', label: 'Experiments' },
  { tab: 'assignments', label: 'Assignments' },
  { tab: 'dashboard', label: 'Dashboard' },
  { tab: 'exports', label: 'Exports' },
];

export function isStudyTab(value: string | null): value is StudyTab {
  return STUDY_TABS.some((t) => t.tab === value);
}

/** The SPA page of a study, on one of its tabs. */
export function studyPagePath(studyId: string, tab: StudyTab = 'overview'): string {
  const base = `/studies/${encodeURIComponent(studyId)}`;
  return tab === 'overview' ? base : `${base}?tab=${tab}`;
}

export const STATUS_LABELS: Record<Study['status'], string> = {
  draft: 'Draft',
  active: 'Active',
  closed: 'Closed',
};

export const ROLE_LABELS: Record<StudyMember['role'], string> = {
  owner: 'Owner',
  researcher: 'Researcher',
  participant: 'Participant',
};

/** "1 case", "3 cases". */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** An AI risk score (0–1) as a whole percentage, e.g. "72%". */
export function percent(score: number): string {
  return `${Math.round(score * 100)}%`;
}
