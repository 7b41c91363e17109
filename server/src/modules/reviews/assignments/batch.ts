// The part every way of creating assignments shares (Z4, V1, L3): the study transaction, the
// checks of each requested assignment against the study, and the write with its audit event.
//
// Uploads are all or nothing. Every problem is collected first and answered in one 400
// VALIDATION_FAILED naming each row (`assignments.3.caseId`, `line 12: participant_email`),
// duplicates included — a pair repeated in the upload or one the participant already has — so a
// researcher fixes the whole sheet at once instead of meeting one 409 per resubmission. A 409
// remains for what no check can see coming: a concurrent upload that wrote the same pair first
// (the UNIQUE indexes decide, and this transaction rolls back).
import type { FastifyRequest } from 'fastify';
import { requireAccess, type StudyAccess } from '../../../platform/access/index.js';
import type { AssignmentSource } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { FieldErrors } from '../../../platform/text.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { displayForCase, PLAIN_DISPLAY } from '../experiments/display.js';
import { listFeaturePaths } from '../shared/feature-paths.js';
import type { DisplayConfigView, FeatureDisplayView } from '../shared/schemas.js';
import { MAX_REPORTED_PROBLEMS } from './csv-sheet.js';
import * as repo from './repo.js';
import type { Db, NewAssignment } from './repo.js';

const concurrentUpload = () =>
  new HavenError(
    'CONFLICT',
    'Another upload assigned some of these cases to the same participants at the same time; ' +
      'nothing was written. Reload the assignments and try again.',
  );

/** Runs `work` in one transaction after requireAccess allowed `action` on the study. */
export function onStudy<T>(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  action: 'read' | 'manage',
  work: (trx: Db, access: StudyAccess) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, `study:${action}`, { studyId });
    if (action === 'manage' && access.status === 'closed') {
      throw new HavenError('CONFLICT', 'The study is closed; it takes no new assignments.');
    }
    return work(trx, access);
  });
}

export const unique = <T>(items: Iterable<T | undefined>): T[] =>
  [...new Set(items)].filter((item): item is T => item !== undefined);
const pairKey = (participantId: string, caseId: string) => `${participantId}/${caseId}`;

/**
 * One assignment an upload asks for, whatever its format. Ids are undefined where the upload's
 * own reference (an email, a case's external id) matched nothing: that problem is already
 * recorded. `features` undefined means "the arm's template"; `showAiScore` undefined likewise.
 */
export interface Draft {
  /** How the upload names this assignment to the researcher: `assignments.3`, `line 12`. */
  readonly label: string;
  readonly participantId: string | undefined;
  readonly caseId: string | undefined;
  readonly armId: string | undefined;
  readonly features: readonly FeatureDisplayView[] | undefined;
  readonly showAiScore: boolean | undefined;
  field(name: 'participant' | 'case' | 'arm'): string;
  featureField(index: number, name: 'path'): string;
}

/**
 * The rows a set of drafts becomes, after every check against the study: participants (locked
 * until commit), cases, arms, feature paths of each case, pairs repeated or already assigned.
 * Problems go to `errors`; positions follow each participant's existing ones in upload order.
 */
export async function resolveDrafts(
  trx: Db,
  studyId: string,
  drafts: readonly Draft[],
  errors: FieldErrors,
): Promise<NewAssignment[]> {
  const participants = new Set(
    (await repo.lockParticipants(trx, studyId, unique(drafts.map((d) => d.participantId)))).map(
      (row) => row.user_id,
    ),
  );
  const cases = new Set(
    (await repo.casesByIds(trx, studyId, unique(drafts.map((d) => d.caseId)))).map((row) => row.id),
  );
  const arms = new Map<string, DisplayConfigView>(
    (await repo.studyArms(trx, studyId, unique(drafts.map((d) => d.armId)))).map((row) => [
      row.id,
      row.display as DisplayConfigView,
    ]),
  );

  const treesNeeded = new Set<string>();
  for (const draft of drafts) {
    if (draft.caseId === undefined || !cases.has(draft.caseId)) continue;
    const template = draft.armId === undefined ? undefined : arms.get(draft.armId);
    const features = draft.features ?? template?.features ?? [];
    if (features.length > 0) treesNeeded.add(draft.caseId);
  }
  const pathsOf = new Map<string, ReadonlySet<string>>();
  await repo.visitCaseTrees(trx, studyId, [...treesNeeded], (caseId, tree) => {
    pathsOf.set(caseId, new Set(listFeaturePaths(tree)));
  });

  const taken = new Set<string>();
  const nextPosition = new Map<string, number>();
  for (const row of await repo.existingAssignments(trx, studyId, [...participants])) {
    taken.add(pairKey(row.participant_id, row.case_id));
    nextPosition.set(
      row.participant_id,
      Math.max(nextPosition.get(row.participant_id) ?? 1, row.position + 1),
    );
  }

  const firstDraftOf = new Map<string, string>();
  const rows: NewAssignment[] = [];
  for (const draft of drafts) {
    if (errors.list.length >= MAX_REPORTED_PROBLEMS) break;
    const { participantId, caseId, armId } = draft;
    let usable = participantId !== undefined && caseId !== undefined;
    if (participantId !== undefined && !participants.has(participantId)) {
      errors.add(draft.field('participant'), 'is not a participant of this study');
      usable = false;
    }
    if (caseId !== undefined && !cases.has(caseId)) {
      errors.add(draft.field('case'), 'is not a case of this study');
      usable = false;
    }
    const template = armId === undefined ? undefined : arms.get(armId);
    if (armId !== undefined && !template) {
      errors.add(draft.field('arm'), 'is not an arm of this study');
      usable = false;
    }
    if (!usable || participantId === undefined || caseId === undefined) continue;
    const pair = pairKey(participantId, caseId);
    if (taken.has(pair)) {
      errors.add(draft.field('case'), 'is already assigned to this participant');
      continue;
    }
    const first = firstDraftOf.get(pair);
    if (first !== undefined) {
      errors.add(draft.field('case'), `assigns this participant the same case as ${first}`);
      continue;
    }
    firstDraftOf.set(pair, draft.label);

    const casePaths = pathsOf.get(caseId) ?? new Set<string>();
    let display: DisplayConfigView;
    if (draft.features !== undefined) {
      draft.features.forEach((feature, index) => {
        if (!casePaths.has(feature.path)) {
          errors.add(draft.featureField(index, 'path'), 'is not a feature path of this case');
        }
      });
      display = {
        showAiScore: draft.showAiScore ?? template?.showAiScore ?? false,
        features: [...draft.features],
      };
    } else {
      const fromTemplate = template ? displayForCase(template, casePaths) : PLAIN_DISPLAY;
      display = {
        showAiScore: draft.showAiScore ?? fromTemplate.showAiScore,
        features: fromTemplate.features,
      };
    }
    const position = nextPosition.get(participantId) ?? 1;
    nextPosition.set(participantId, position + 1);
    rows.push({ participantId, caseId, armId: armId ?? null, display, position });
  }
  return rows;
}

export async function writeBatch(
  trx: Db,
  request: FastifyRequest,
  access: StudyAccess,
  source: AssignmentSource,
  rows: readonly NewAssignment[],
  randomizationId: string | null,
): Promise<void> {
  await repo
    .insertAssignments(trx, {
      studyId: access.studyId,
      createdBy: access.userId,
      source,
      randomizationId,
      assignments: rows,
    })
    .catch(onUniqueViolation(concurrentUpload));
  await recordUserEvent(trx, access.userId, requestContext(request), {
    action: 'review.assignments_created',
    target: { type: 'study', id: access.studyId },
    details: {
      studyId: access.studyId,
      count: rows.length,
      source,
      participants: new Set(rows.map((row) => row.participantId)).size,
      cases: new Set(rows.map((row) => row.caseId)).size,
    },
  });
}
