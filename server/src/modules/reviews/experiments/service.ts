// Experiment use cases (Z4, V1, L3): list a study's experiments with their arms, create one with
// 2–10 arms, add an arm. Each runs in one transaction that starts with requireAccess on the
// study; every later query is keyed by the study the access names. Names are unique without
// regard to case (an experiment in its study, an arm in its experiment): checked first so the
// answer can name the clash, with the UNIQUE indexes on lower(name) as the backstop for a race.
import type { FastifyRequest } from 'fastify';
import { requireAccess, type StudyAccess } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { cleanProse, cleanText, FieldErrors } from '../../../platform/text.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { DisplayConfigView } from '../shared/schemas.js';
import { checkDisplay } from './display.js';
import * as repo from './repo.js';
import type { ArmRow, Db, ExperimentRow } from './repo.js';
import {
  MAX_ARMS,
  type ArmInput,
  type ArmView,
  type ExperimentInput,
  type ExperimentView,
} from './schemas.js';

const experimentNotFound = () => new HavenError('NOT_FOUND', 'The experiment was not found.');
const experimentNameTaken = () =>
  new HavenError('CONFLICT', 'This study already has an experiment with that name.', {
    errors: [{ field: 'name', message: 'is already the name of another experiment' }],
  });
const armNameTaken = () =>
  new HavenError('CONFLICT', 'This experiment already has an arm with that name.', {
    errors: [{ field: 'name', message: 'is already the name of another arm' }],
  });

function toArmView(row: ArmRow): ArmView {
  return {
    id: row.id,
    name: row.name,
    display: row.display as DisplayConfigView,
    assignments: Number(row.assignments ?? 0),
  };
}

function toExperimentView(row: ExperimentRow, arms: readonly ArmRow[]): ExperimentView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at.toISOString(),
    arms: arms.map(toArmView),
  };
}

/** Runs `work` in one transaction after requireAccess allowed `action` on the study. */
function onStudy<T>(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  action: 'read' | 'manage',
  work: (trx: Db, access: StudyAccess) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, `study:${action}`, { studyId });
    if (action === 'manage' && access.status === 'closed') {
      throw new HavenError(
        'CONFLICT',
        'The study is closed; its experiments can no longer change.',
      );
    }
    return work(trx, access);
  });
}

function checkArm(errors: FieldErrors, at: string, arm: ArmInput): void {
  cleanText(errors, `${at}name`, arm.name, { required: true, maxLength: 120 });
  checkDisplay(errors, `${at}display`, arm.display);
}

function checkExperiment(body: ExperimentInput): void {
  const errors = new FieldErrors();
  cleanText(errors, 'name', body.name, { required: true, maxLength: 120 });
  if (body.description !== undefined && body.description.trim() !== '') {
    cleanProse(errors, 'description', body.description, 2000);
  }
  const names = new Map<string, number>();
  body.arms.forEach((arm, index) => {
    checkArm(errors, `arms.${index}.`, arm);
    const key = arm.name.trim().toLowerCase();
    const first = names.get(key);
    if (first !== undefined) {
      errors.add(`arms.${index}.name`, `repeats the name of arms.${first} (names ignore case)`);
    } else {
      names.set(key, index);
    }
  });
  errors.throwIfAny();
}

export function listExperiments(
  db: Db,
  request: FastifyRequest,
  studyId: string,
): Promise<ExperimentView[]> {
  return onStudy(db, request, studyId, 'read', async (trx, access) => {
    const experiments = await repo.listExperimentRows(trx, access.studyId);
    const arms = await repo.listArmRows(trx, access.studyId);
    return experiments.map((experiment) =>
      toExperimentView(
        experiment,
        arms.filter((arm) => arm.experiment_id === experiment.id),
      ),
    );
  });
}

export function createExperiment(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  body: ExperimentInput,
): Promise<ExperimentView> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    checkExperiment(body);
    const name = body.name.trim();
    if (await repo.findExperimentByName(trx, access.studyId, name)) throw experimentNameTaken();
    const experiment = await repo
      .insertExperiment(trx, {
        studyId: access.studyId,
        name,
        description: body.description?.trim() ?? '',
        createdBy: access.userId,
      })
      .catch(onUniqueViolation(experimentNameTaken));
    for (const arm of body.arms) {
      await repo.insertArm(trx, {
        studyId: access.studyId,
        experimentId: experiment.id,
        name: arm.name.trim(),
        display: arm.display,
      });
    }
    const arms = await repo.listArmRows(trx, access.studyId, experiment.id);
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'review.experiment_created',
      target: { type: 'experiment', id: experiment.id },
      details: { studyId: access.studyId, arms: arms.length },
    });
    return toExperimentView(experiment, arms);
  });
}

export function addArm(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  experimentId: string,
  body: ArmInput,
): Promise<ArmView> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    const experiment = await repo.lockExperiment(trx, access.studyId, experimentId);
    if (!experiment) throw experimentNotFound();
    const errors = new FieldErrors();
    checkArm(errors, '', body);
    errors.throwIfAny();
    const name = body.name.trim();
    const existing = await repo.listArmRows(trx, access.studyId, experiment.id);
    if (existing.length >= MAX_ARMS) {
      throw new HavenError('CONFLICT', `An experiment has at most ${MAX_ARMS} arms.`);
    }
    if (existing.some((arm) => arm.name.toLowerCase() === name.toLowerCase())) {
      throw armNameTaken();
    }
    const armId = await repo
      .insertArm(trx, {
        studyId: access.studyId,
        experimentId: experiment.id,
        name,
        display: body.display,
      })
      .catch(onUniqueViolation(armNameTaken));
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'review.arm_added',
      target: { type: 'experiment_arm', id: armId },
      details: { studyId: access.studyId, experimentId: experiment.id },
    });
    return { id: armId, name, display: body.display, assignments: 0 };
  });
}
