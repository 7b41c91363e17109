// Research case reviews (SPEC domain 5, issue 10): the AugMed workflow. Researchers run studies
// of de-identified cases; participants review the cases assigned to them, each shown with its
// own display configuration, and answer a versioned questionnaire.
//
// Rooms: studies (and their teams), invitations (the invitee's answer), cases, questionnaires,
// experiments (arms), assignments (API, CSV and the randomizer), participation (the participant's
// flow), dashboard, exports.
// Every route reaches a study or an assignment through requireAccess (kinds `study` and
// `assignment`, platform/access/study-access.ts): one deny-by-default check, 404 for anything
// the caller has no relationship to.
import { defineModule } from '../../platform/module-context.js';
import type { ClinicalModuleOptions } from '../identity/index.js';
import { registerAssignmentRoutes } from './assignments/routes.js';
import { registerCaseRoutes } from './cases/routes.js';
import { registerDashboardRoutes } from './dashboard/routes.js';
import { registerExperimentRoutes } from './experiments/routes.js';
import { registerExportRoutes } from './exports/routes.js';
import { registerStudyInvitationRoutes } from './invitations/routes.js';
import { registerParticipationRoutes } from './participation/routes.js';
import { registerQuestionnaireRoutes } from './questionnaires/routes.js';
import { acceptCsvBodies } from './shared/csv-body.js';
import { registerStudyRoutes } from './studies/routes.js';

/** The reviews module's configuration slice (none yet: its limits are in shared/schemas.ts). */
export type ReviewsSettings = Record<string, never>;

/** The module's front door: app.register(reviewsModule, options). */
export const reviewsModule = defineModule<ClinicalModuleOptions<ReviewsSettings>>(
  (app, { context, identity }) => {
    acceptCsvBodies(app);
    registerStudyRoutes(app, context, identity);
    registerStudyInvitationRoutes(app, context);
    registerCaseRoutes(app, context);
    registerQuestionnaireRoutes(app, context);
    registerExperimentRoutes(app, context);
    registerAssignmentRoutes(app, context);
    registerParticipationRoutes(app, context);
    registerDashboardRoutes(app, context);
    registerExportRoutes(app, context);
  },
);
