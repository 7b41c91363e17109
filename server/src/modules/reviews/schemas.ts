// The reviews module's contract door (server/src/contract.ts): the answer schemas the SPA
// decodes with, re-exported from the rooms that serialize them, so the browser checks every
// answer against the very schema the route wrote it with.
export {
  AttentionCheck,
  CASE_LIMITS,
  DisplayConfig,
  MAX_QUESTIONS,
  Question,
  QUESTION_TYPES,
} from './shared/schemas.js';
export type {
  AttentionCheckView,
  CaseNode,
  DisplayConfigView,
  FeatureDisplayView,
  QuestionType,
  QuestionView,
} from './shared/schemas.js';

export {
  StudyAnswer,
  StudyList as StudyListAnswer,
  MemberList as StudyMemberList,
  ParticipantAnswer as StudyParticipantAnswer,
  ResearcherAnswer as StudyResearcherAnswer,
} from './studies/schemas.js';
export {
  OwnStudyInvitationList,
  TakingPartAnswer as StudyInvitationAccepted,
} from './invitations/schemas.js';
export {
  CaseAnswer,
  CaseList as CasePage,
  ImportAnswer as CaseImportAnswer,
} from './cases/schemas.js';
export {
  VersionAnswer as QuestionnaireVersionAnswer,
  VersionList as QuestionnaireVersionList,
} from './questionnaires/schemas.js';
export { ExperimentAnswer, ExperimentList } from './experiments/schemas.js';
export {
  AssignmentAnswer as ReviewAssignmentAnswer,
  NextAnswer as NextCaseAnswer,
  ParticipantStudies as MyStudiesAnswer,
  SubmittedAnswer as AnswerSubmitted,
} from './participation/schemas.js';
// shared/display.ts holds the styled tree's schema beside the pure function that builds it; only
// its type is re-exported here, so no code of it reaches the browser through this door.
export type { StyledNode as StyledNodeView } from './shared/display.js';

export {
  AssignmentPage,
  ImportAnswer as AssignmentImportAnswer,
  RandomizationAnswer,
  RandomizationList,
} from './assignments/schemas.js';
export { Dashboard as DashboardAnswer } from './dashboard/schemas.js';
