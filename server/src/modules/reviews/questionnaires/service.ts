// Questionnaire use cases (Z4, V1, L3): list, draft, read, edit a draft, publish. Each runs in one
// transaction that starts with requireAccess on the study; every query after it is keyed by the
// study access returned, so another study's version is the same 404 as a missing one. A published
// version is immutable: the service answers 409, and the table's trigger refuses any UPDATE of a
// published row should a code path ever forget.
import type { FastifyRequest } from 'fastify';
import { requireAccess, type StudyAccess } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { AttentionCheckView, QuestionView } from '../shared/schemas.js';
import { checkQuestionnaire } from './checks.js';
import * as repo from './repo.js';
import type { Db, VersionRow } from './repo.js';
import type {
  QuestionnaireInput,
  QuestionnaireVersionView,
  VersionSummaryView,
} from './schemas.js';

const versionNotFound = () =>
  new HavenError('NOT_FOUND', 'The questionnaire version was not found.');
const publishedIsImmutable = (version: number) =>
  new HavenError(
    'CONFLICT',
    `Version ${version} is published and can no longer change; create a new version instead.`,
  );
const draftExists = (version: number) =>
  new HavenError(
    'CONFLICT',
    `Version ${version} is still a draft; edit or publish it before starting another.`,
  );
const studyClosed = () =>
  new HavenError('CONFLICT', 'The study is closed; its questionnaire can no longer change.');

function toView(row: VersionRow): QuestionnaireVersionView {
  return {
    id: row.id,
    version: row.version,
    title: row.title,
    status: row.status,
    questions: row.questions as QuestionView[],
    attentionCheck: (row.attention_check as AttentionCheckView | null) ?? null,
    createdAt: row.created_at.toISOString(),
    publishedAt: row.published_at ? row.published_at.toISOString() : null,
  };
}

function toSummary(row: VersionRow): VersionSummaryView {
  return {
    id: row.id,
    version: row.version,
    title: row.title,
    status: row.status,
    questionCount: (row.questions as QuestionView[]).length,
    hasAttentionCheck: row.attention_check !== null,
    createdAt: row.created_at.toISOString(),
    publishedAt: row.published_at ? row.published_at.toISOString() : null,
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
    if (action === 'manage' && access.status === 'closed') throw studyClosed();
    return work(trx, access);
  });
}

async function audit(
  trx: Db,
  request: FastifyRequest,
  access: StudyAccess,
  action: 'review.questionnaire_saved' | 'review.questionnaire_published',
  row: VersionRow,
): Promise<void> {
  await recordUserEvent(trx, access.userId, requestContext(request), {
    action,
    target: { type: 'questionnaire_version', id: row.id },
    details: { studyId: access.studyId, version: row.version },
  });
}

export function listQuestionnaireVersions(
  db: Db,
  request: FastifyRequest,
  studyId: string,
): Promise<VersionSummaryView[]> {
  return onStudy(db, request, studyId, 'read', async (trx, access) =>
    (await repo.listVersions(trx, access.studyId)).map(toSummary),
  );
}

export function readQuestionnaireVersion(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  versionId: string,
): Promise<QuestionnaireVersionView> {
  return onStudy(db, request, studyId, 'read', async (trx, access) => {
    const row = await repo.findVersion(trx, access.studyId, versionId);
    if (!row) throw versionNotFound();
    return toView(row);
  });
}

/**
 * A new draft numbered after the newest version. Two drafts started at once both pick the same
 * number, and the UNIQUE (study_id, version) index turns the second into the same 409.
 */
export function createQuestionnaireDraft(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  body: QuestionnaireInput,
): Promise<QuestionnaireVersionView> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    checkQuestionnaire(body);
    const { newest, draftVersion } = await repo.versionState(trx, access.studyId);
    if (draftVersion !== undefined) throw draftExists(draftVersion);
    const row = await repo
      .insertDraft(trx, {
        studyId: access.studyId,
        version: newest + 1,
        createdBy: access.userId,
        body,
      })
      .catch(onUniqueViolation(() => draftExists(newest + 1)));
    await audit(trx, request, access, 'review.questionnaire_saved', row);
    return toView(row);
  });
}

export function replaceQuestionnaireDraft(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  versionId: string,
  body: QuestionnaireInput,
): Promise<QuestionnaireVersionView> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    const current = await repo.findVersion(trx, access.studyId, versionId, { lock: true });
    if (!current) throw versionNotFound();
    if (current.status === 'published') throw publishedIsImmutable(current.version);
    checkQuestionnaire(body);
    const row = await repo.updateDraft(trx, access.studyId, versionId, body);
    if (!row) throw publishedIsImmutable(current.version);
    await audit(trx, request, access, 'review.questionnaire_saved', row);
    return toView(row);
  });
}

export function publishQuestionnaireVersion(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  versionId: string,
  now: Date,
): Promise<QuestionnaireVersionView> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    const current = await repo.findVersion(trx, access.studyId, versionId, { lock: true });
    if (!current) throw versionNotFound();
    if (current.status === 'published') {
      throw new HavenError('CONFLICT', `Version ${current.version} is already published.`);
    }
    const row = await repo.markPublished(trx, access.studyId, versionId, now);
    if (!row) throw publishedIsImmutable(current.version);
    await audit(trx, request, access, 'review.questionnaire_published', row);
    return toView(row);
  });
}
