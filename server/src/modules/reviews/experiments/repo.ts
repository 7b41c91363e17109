// Experiments and their arms in the database, always keyed by the study the caller was allowed
// into, so an experiment or arm id of another study finds nothing.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { ArmInput } from './schemas.js';

export type Db = Kysely<DatabaseSchema>;

const EXPERIMENT_COLUMNS = ['id', 'name', 'description', 'created_at'] as const;

export function listExperimentRows(db: Db, studyId: string) {
  return db
    .selectFrom('experiments')
    .select(EXPERIMENT_COLUMNS)
    .where('study_id', '=', studyId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
export type ExperimentRow = Awaited<ReturnType<typeof listExperimentRows>>[number];

/**
 * Arms of the study (or of one experiment) in the order they were added, with how many
 * assignments each has. The name breaks ties between arms added in the same instant.
 */
export function listArmRows(db: Db, studyId: string, experimentId?: string) {
  return db
    .selectFrom('experiment_arms as arm')
    .select((eb) => [
      'arm.id',
      'arm.experiment_id',
      'arm.name',
      'arm.display',
      eb
        .selectFrom('review_assignments as a')
        .select(eb.fn.countAll<string | number>().as('n'))
        .whereRef('a.arm_id', '=', 'arm.id')
        .as('assignments'),
    ])
    .where('arm.study_id', '=', studyId)
    .$if(experimentId !== undefined, (query) =>
      query.where('arm.experiment_id', '=', experimentId!),
    )
    .orderBy('arm.created_at')
    .orderBy(sql`lower(arm.name)`)
    .orderBy('arm.id')
    .execute();
}
export type ArmRow = Awaited<ReturnType<typeof listArmRows>>[number];

/** The study's experiment, locked so arms are added to it one at a time (the 10-arm bound). */
export function lockExperiment(
  db: Db,
  studyId: string,
  experimentId: string,
): Promise<ExperimentRow | undefined> {
  return db
    .selectFrom('experiments')
    .select(EXPERIMENT_COLUMNS)
    .where('study_id', '=', studyId)
    .where('id', '=', experimentId)
    .forUpdate()
    .executeTakeFirst();
}

export async function findExperimentByName(db: Db, studyId: string, name: string) {
  return db
    .selectFrom('experiments')
    .select('id')
    .where('study_id', '=', studyId)
    .where(sql`lower(name)`, '=', name.toLowerCase())
    .executeTakeFirst();
}

export function insertExperiment(
  db: Db,
  experiment: { studyId: string; name: string; description: string; createdBy: string },
): Promise<ExperimentRow> {
  return db
    .insertInto('experiments')
    .values({
      study_id: experiment.studyId,
      name: experiment.name,
      description: experiment.description,
      created_by: experiment.createdBy,
    })
    .returning(EXPERIMENT_COLUMNS)
    .executeTakeFirstOrThrow();
}

/**
 * One arm. Its creation time is the statement's own clock (not the transaction's), so arms
 * created together still list in the order they were given.
 */
export async function insertArm(
  db: Db,
  arm: { studyId: string; experimentId: string } & ArmInput,
): Promise<string> {
  const row = await db
    .insertInto('experiment_arms')
    .values({
      study_id: arm.studyId,
      experiment_id: arm.experimentId,
      name: arm.name,
      display: JSON.stringify(arm.display),
      created_at: sql<Date>`clock_timestamp()`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
