// Fixtures of the reviews module's tests: a research team in an organization, a study, its
// participants, cases, a published questionnaire and assignments, written straight into the
// database (each room's tests prove its own routes; these only set the stage quickly).
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema, StudyRole, StudyStatus } from '../src/platform/db/schema.js';
import type { CaseNode, DisplayConfigView, QuestionView } from '../src/modules/reviews/schemas.js';
import { createActor, createOrganization, type Actor } from './actors.js';

type Db = Kysely<DatabaseSchema>;

/** A small de-identified case: two sections, five features. */
export const SAMPLE_TREE: CaseNode[] = [
  {
    key: 'vitals',
    label: 'Vital signs',
    children: [
      { key: 'heart_rate', label: 'Heart rate', value: 112, unit: 'bpm' },
      { key: 'temperature', label: 'Temperature', value: 38.9, unit: '°C' },
      { key: 'spo2', label: 'Oxygen saturation', value: 91, unit: '%' },
    ],
  },
  {
    key: 'history',
    label: 'History',
    children: [
      { key: 'smoker', label: 'Smoker', value: true },
      { key: 'complaint', label: 'Presenting complaint', value: 'Cough for three days' },
    ],
  },
];

export const SAMPLE_QUESTIONS: QuestionView[] = [
  {
    id: 'diagnosis',
    type: 'single',
    prompt: 'Most likely diagnosis?',
    required: true,
    options: [
      { value: 'pneumonia', label: 'Pneumonia' },
      { value: 'bronchitis', label: 'Bronchitis' },
      { value: 'other', label: 'Other' },
    ],
  },
  {
    id: 'confidence',
    type: 'scale',
    prompt: 'How confident are you?',
    required: true,
    scale: { min: 1, max: 5 },
  },
  { id: 'comment', type: 'paragraph', prompt: 'Anything else?', required: false },
];

export const PLAIN_DISPLAY: DisplayConfigView = { showAiScore: false, features: [] };

/** An attention check every second case: choose "Blue". */
export const ATTENTION_BLUE = {
  every: 2,
  question: {
    id: 'attention',
    type: 'single' as const,
    prompt: 'Choose "Blue".',
    required: true,
    options: [
      { value: 'red', label: 'Red' },
      { value: 'blue', label: 'Blue' },
    ],
  },
  expected: 'blue',
};

export interface StudyWorld {
  readonly organizationId: string;
  /** Owner of the study: a researcher member of the organization. */
  readonly owner: Actor;
  readonly studyId: string;
}

/** A researcher (organization role `researcher`) who owns a new study in a new organization. */
export async function createStudyWorld(
  app: FastifyInstance,
  options: { status?: StudyStatus; title?: string } = {},
): Promise<StudyWorld> {
  const db = app.database.db;
  const owner = await createActor(app, ['researcher'], { displayName: 'Dr Research Owner' });
  const organizationId = await createOrganization(db, {
    members: [{ userId: owner.userId, role: 'researcher' }],
  });
  const studyId = await insertStudy(db, organizationId, owner.userId, options);
  return { organizationId, owner, studyId };
}

export async function insertStudy(
  db: Db,
  organizationId: string,
  ownerId: string,
  options: { status?: StudyStatus; title?: string } = {},
): Promise<string> {
  const study = await db
    .insertInto('studies')
    .values({
      organization_id: organizationId,
      title: options.title ?? 'Pneumonia triage study',
      status: options.status ?? 'active',
      created_by: ownerId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await addStudyMember(db, study.id, ownerId, 'owner');
  return study.id;
}

export async function addStudyMember(
  db: Db,
  studyId: string,
  userId: string,
  role: StudyRole,
): Promise<void> {
  await db
    .insertInto('study_members')
    .values({ study_id: studyId, user_id: userId, role })
    .execute();
}

/**
 * An existing account invited to take part in the study, as a researcher's add records it (a
 * team row with the role 'invited', open for an hour unless `answerBy` says otherwise).
 */
export async function inviteToStudy(
  db: Db,
  studyId: string,
  userId: string,
  options: {
    shownName?: string;
    shownEmail?: string;
    accountHeldByOwner?: boolean;
    answerBy?: Date;
  } = {},
): Promise<void> {
  await db
    .insertInto('study_members')
    .values({
      study_id: studyId,
      user_id: userId,
      role: 'invited',
      shown_name: options.shownName ?? 'Invited participant',
      shown_email: options.shownEmail ?? 'invited.participant@example.org',
      answer_by: options.answerBy ?? new Date(Date.now() + 3_600_000),
      account_held_by_owner: options.accountHeldByOwner ?? true,
    })
    .execute();
}

/** A participant-role account on the study's team. */
export async function addParticipant(
  app: FastifyInstance,
  studyId: string,
  displayName = 'Dr Participant',
): Promise<Actor> {
  const participant = await createActor(app, ['participant'], { displayName });
  await addStudyMember(app.database.db, studyId, participant.userId, 'participant');
  return participant;
}

export async function insertCase(
  db: Db,
  studyId: string,
  externalId: string,
  options: { tree?: CaseNode[]; aiScore?: number; aiExplanation?: string } = {},
): Promise<string> {
  const tree = options.tree ?? SAMPLE_TREE;
  const row = await db
    .insertInto('review_cases')
    .values({
      study_id: studyId,
      external_id: externalId,
      tree: JSON.stringify(tree),
      node_count: countNodes(tree),
      ai_score: options.aiScore ?? null,
      ai_explanation: options.aiExplanation ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

function countNodes(nodes: readonly CaseNode[]): number {
  return nodes.reduce((sum, node) => sum + 1 + countNodes(node.children ?? []), 0);
}

/** A published questionnaire version (newest version + 1). */
export function insertPublishedQuestionnaire(
  db: Db,
  studyId: string,
  options: Omit<VersionOptions, 'status'> = {},
): Promise<string> {
  return insertQuestionnaireVersion(db, studyId, { ...options, status: 'published' });
}

export interface VersionOptions {
  questions?: QuestionView[];
  attentionCheck?: { every: number; question: QuestionView; expected: string };
  status?: 'draft' | 'published';
  title?: string;
}

/** A questionnaire version numbered after the study's newest (a draft unless told otherwise). */
export async function insertQuestionnaireVersion(
  db: Db,
  studyId: string,
  options: VersionOptions = {},
): Promise<string> {
  const last = await db
    .selectFrom('questionnaire_versions')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('study_id', '=', studyId)
    .executeTakeFirst();
  const published = options.status === 'published';
  const row = await db
    .insertInto('questionnaire_versions')
    .values({
      study_id: studyId,
      version: Number(last?.version ?? 0) + 1,
      title: options.title ?? 'Case questionnaire',
      questions: JSON.stringify(options.questions ?? SAMPLE_QUESTIONS),
      attention_check: options.attentionCheck ? JSON.stringify(options.attentionCheck) : null,
      status: published ? 'published' : 'draft',
      published_at: published ? new Date() : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** An assignment at the participant's next position. */
export async function insertAssignment(
  db: Db,
  studyId: string,
  participantId: string,
  caseId: string,
  options: { display?: DisplayConfigView; armId?: string } = {},
): Promise<string> {
  const last = await db
    .selectFrom('review_assignments')
    .select((eb) => eb.fn.max('position').as('position'))
    .where('study_id', '=', studyId)
    .where('participant_id', '=', participantId)
    .executeTakeFirst();
  const row = await db
    .insertInto('review_assignments')
    .values({
      study_id: studyId,
      participant_id: participantId,
      case_id: caseId,
      arm_id: options.armId ?? null,
      display: JSON.stringify(options.display ?? PLAIN_DISPLAY),
      position: Number(last?.position ?? 0) + 1,
      source: 'api',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
