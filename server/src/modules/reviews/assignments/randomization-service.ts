// The randomizer's use cases (Z4, V1, L3): run it for one experiment of the study, and list its
// runs. The plan itself is pure (randomizer.ts); this file finds its inputs in the study, fits
// each arm's template to each case, and records the run with its seed and inputs in order, so
// the same seed and inputs give the same assignments again.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { FieldErrors } from '../../../platform/text.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { displayForCase } from '../experiments/display.js';
import { listFeaturePaths } from '../shared/feature-paths.js';
import type { DisplayConfigView } from '../shared/schemas.js';
import { onStudy, unique, writeBatch } from './batch.js';
import { throwUploadErrors } from './csv-sheet.js';
import { planRandomization } from './randomizer.js';
import * as repo from './repo.js';
import type { Db, NewAssignment, RandomizationRow } from './repo.js';
import {
  MAX_BATCH_ASSIGNMENTS,
  type RandomizationInput,
  type RandomizationView,
} from './schemas.js';

const RANDOMIZATION_LIST_LIMIT = 200;

function toRandomizationView(row: RandomizationRow): RandomizationView {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    seed: row.seed,
    casesPerParticipant: row.cases_per_participant,
    assignmentCount: row.assignment_count,
    createdAt: row.created_at.toISOString(),
  };
}

export function listRandomizations(
  db: Db,
  request: FastifyRequest,
  studyId: string,
): Promise<RandomizationView[]> {
  return onStudy(db, request, studyId, 'read', async (trx, access) =>
    (await repo.listRandomizations(trx, access.studyId, RANDOMIZATION_LIST_LIMIT)).map(
      toRandomizationView,
    ),
  );
}

/** Records where a list given in the body repeats an id or names one the study does not have. */
function checkIdList(
  errors: FieldErrors,
  field: string,
  given: readonly string[],
  known: ReadonlySet<string>,
  what: string,
): void {
  const seen = new Map<string, number>();
  given.forEach((id, index) => {
    const first = seen.get(id);
    if (first !== undefined) errors.add(`${field}.${index}`, `repeats ${field}.${first}`);
    else if (!known.has(id)) errors.add(`${field}.${index}`, `is not ${what} of this study`);
    seen.set(id, first ?? index);
  });
}

/**
 * POST /randomizations: `casesPerParticipant` cases for each participant across the arms of one
 * experiment (randomizer.ts has the rules), recorded with its seed and its inputs in order, so
 * the same seed and inputs give the same assignments again.
 */
export function randomize(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  body: RandomizationInput,
): Promise<RandomizationView> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    const errors = new FieldErrors();
    const experiment = await repo.findExperiment(trx, access.studyId, body.experimentId);
    if (!experiment) errors.add('experimentId', 'is not an experiment of this study');
    const arms = experiment
      ? (await repo.studyArms(trx, access.studyId)).filter(
          (arm) => arm.experiment_id === experiment.id,
        )
      : [];

    const participantIds = body.participantIds
      ? [...body.participantIds]
      : (await repo.allParticipants(trx, access.studyId)).map((row) => row.user_id);
    const lockedParticipants = new Set(
      (await repo.lockParticipants(trx, access.studyId, participantIds)).map((row) => row.user_id),
    );
    if (body.participantIds) {
      checkIdList(errors, 'participantIds', participantIds, lockedParticipants, 'a participant');
    }
    const caseIds = body.caseIds
      ? [...body.caseIds]
      : (await repo.allCases(trx, access.studyId)).map((row) => row.id);
    if (body.caseIds) {
      const known = new Set((await repo.casesByIds(trx, access.studyId, caseIds)).map((r) => r.id));
      checkIdList(errors, 'caseIds', caseIds, known, 'a case');
    }
    throwUploadErrors(errors);
    if (participantIds.length === 0) {
      throw new HavenError('CONFLICT', 'The study has no participants to randomize yet.');
    }
    if (caseIds.length === 0) throw new HavenError('CONFLICT', 'The study has no cases yet.');
    const perParticipant = body.casesPerParticipant;
    if (perParticipant > caseIds.length) {
      errors.add('casesPerParticipant', `is more than the ${caseIds.length} cases to choose from`);
    } else if (perParticipant * participantIds.length > MAX_BATCH_ASSIGNMENTS) {
      errors.add(
        'casesPerParticipant',
        `would make more than ${MAX_BATCH_ASSIGNMENTS.toLocaleString('en')} assignments in one run`,
      );
    }
    throwUploadErrors(errors);

    const caseIndex = new Map(caseIds.map((id, index) => [id, index]));
    const participantIndex = new Map(participantIds.map((id, index) => [id, index]));
    const alreadyAssigned = participantIds.map(() => new Set<number>());
    const nextPosition = participantIds.map(() => 1);
    for (const row of await repo.existingAssignments(trx, access.studyId, participantIds)) {
      const p = participantIndex.get(row.participant_id)!;
      const c = caseIndex.get(row.case_id);
      if (c !== undefined) alreadyAssigned[p]!.add(c);
      nextPosition[p] = Math.max(nextPosition[p]!, row.position + 1);
    }

    const seed = body.seed ?? randomBytes(16).toString('hex');
    const plan = planRandomization({
      seed,
      participants: participantIds.length,
      cases: caseIds.length,
      arms: arms.length,
      casesPerParticipant: perParticipant,
      alreadyAssigned: (p) => alreadyAssigned[p]!,
    });
    if (!plan.ok) {
      throw new HavenError(
        'CONFLICT',
        'Some participants already have so many of these cases that too few remain; nothing was written.',
        {
          errors: plan.shortOf.map(({ participant, available }) => ({
            field: body.participantIds
              ? `participantIds.${participant}`
              : `participant ${participantIds[participant]}`,
            message: `only ${available} of the cases are new to this participant`,
          })),
        },
      );
    }

    const templates = arms.map((arm) => arm.display as DisplayConfigView);
    const pathsOf = new Map<number, ReadonlySet<string>>();
    if (templates.some((template) => template.features.length > 0)) {
      const chosen = unique(plan.assignments.map((a) => caseIds[a.case]));
      await repo.visitCaseTrees(trx, access.studyId, chosen, (caseId, tree) => {
        pathsOf.set(caseIndex.get(caseId)!, new Set(listFeaturePaths(tree)));
      });
    }
    const rows: NewAssignment[] = plan.assignments.map((planned) => {
      const position = nextPosition[planned.participant]!;
      nextPosition[planned.participant] = position + 1;
      return {
        participantId: participantIds[planned.participant]!,
        caseId: caseIds[planned.case]!,
        armId: arms[planned.arm]!.id,
        display: displayForCase(templates[planned.arm]!, pathsOf.get(planned.case) ?? new Set()),
        position,
      };
    });

    const run = await repo.insertRandomization(trx, {
      studyId: access.studyId,
      experimentId: body.experimentId,
      seed,
      casesPerParticipant: perParticipant,
      inputs: { participantIds, caseIds, armIds: arms.map((arm) => arm.id) },
      assignmentCount: rows.length,
      createdBy: access.userId,
    });
    await writeBatch(trx, request, access, 'randomizer', rows, run.id);
    // The seed is not personal and is what reproduces the run, so it belongs in the record.
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'review.randomized',
      target: { type: 'randomization', id: run.id },
      details: {
        studyId: access.studyId,
        experimentId: body.experimentId,
        randomizationId: run.id,
        seed,
        count: rows.length,
      },
    });
    return toRandomizationView(run);
  });
}
