/** Research case reviews: the researcher's studies and the participant's review screen. */
export { StudiesPage } from './StudiesPage';
export { StudyPage } from './StudyPage';
export { MyStudiesPage } from './participant/MyStudiesPage';
export { ReviewPage } from './participant/ReviewPage';
export { ResearcherHome, ParticipantHome } from './HomeCards';
export { StudyInvitationsHome } from './StudyInvitationsHome';
