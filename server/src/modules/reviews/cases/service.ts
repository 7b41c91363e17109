// Cases of a study (V1, Z4, L3): loaded by JSON or CSV, all or nothing in one transaction, after
// every case passed its bounds, the de-identification guard and the duplicate checks. A refused
// upload names every problem (up to 50) by JSON path or CSV line, and writes nothing.
//
// Duplicate external ids, whether repeated in the upload or already in the study, are one rule:
// 400 VALIDATION_FAILED naming the case's path or line, so a single answer lists everything to
// fix. Only a concurrent upload that adds the same id between our check and our insert meets
// the database's unique constraint, and gets 409 (try again).
import type { FastifyRequest } from 'fastify';
import { requireAccess } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import {
  checkCases,
  jsonLocator,
  UploadErrors,
  type CaseDraft,
  type UploadLocator,
} from './checks.js';
import { readCaseFile } from './csv.js';
import * as repo from './repo.js';
import {
  DEFAULT_PAGE,
  type CaseSummary,
  type CaseUploadBody,
  type CaseView,
  type ImportAnswerView,
} from './schemas.js';

type Context = ModuleContext<Record<string, never>>;

async function importDrafts(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  upload: { drafts: readonly CaseDraft[]; locator: UploadLocator; errors: UploadErrors },
  source: 'json' | 'csv',
): Promise<ImportAnswerView> {
  const { drafts, locator, errors } = upload;
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:manage', { studyId });
    if (access.status === 'closed') {
      throw new HavenError(
        'CONFLICT',
        'The study is closed and takes no new cases; reopen it first.',
      );
    }
    const nodeCounts = checkCases(drafts, locator, errors);
    if (!errors.full) {
      const existing = await repo.existingExternalIds(
        trx,
        access.studyId,
        drafts.map((draft) => draft.externalId),
      );
      for (const [index, draft] of drafts.entries()) {
        if (existing.has(draft.externalId)) {
          errors.add(
            locator.caseField(index, 'externalId'),
            'the study already has a case with this external id',
          );
        }
      }
    }
    errors.throwIfAny();
    if (drafts.length === 0) {
      throw new HavenError('VALIDATION_FAILED', 'The upload holds no cases.', {
        errors: [
          { field: source === 'csv' ? 'line 2' : 'cases', message: 'must hold at least one case' },
        ],
      });
    }
    const cases = await repo
      .insertCases(
        trx,
        access.studyId,
        access.userId,
        drafts.map((draft, index) => ({
          externalId: draft.externalId,
          tree: draft.tree,
          nodeCount: nodeCounts[index] ?? 0,
          aiScore: draft.aiScore ?? null,
          aiExplanation: draft.aiExplanation ?? null,
        })),
      )
      .catch(
        onUniqueViolation(
          () =>
            new HavenError(
              'CONFLICT',
              'Another upload added a case with one of these external ids meanwhile; nothing was imported. Try again.',
            ),
        ),
      );
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'review.cases_imported',
      target: { type: 'study', id: access.studyId },
      details: { studyId: access.studyId, count: cases.length, source },
    });
    return { imported: cases.length, cases };
  });
}

export function importJsonCases(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  body: CaseUploadBody,
): Promise<ImportAnswerView> {
  const drafts: CaseDraft[] = body.cases.map((item) => ({
    externalId: item.externalId,
    tree: item.tree as CaseDraft['tree'],
    aiScore: item.aiScore,
    aiExplanation: item.aiExplanation,
  }));
  return importDrafts(
    ctx,
    request,
    studyId,
    { drafts, locator: jsonLocator, errors: new UploadErrors() },
    'json',
  );
}

export async function importCsvCases(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  text: string,
): Promise<ImportAnswerView> {
  // Access first: a stranger's upload is a 404 before the file is even read.
  await ctx.db
    .transaction()
    .execute((trx) => requireAccess(trx, request, 'study:manage', { studyId }));
  const errors = new UploadErrors();
  const { drafts, locator } = readCaseFile(text, errors);
  return importDrafts(ctx, request, studyId, { drafts, locator, errors }, 'csv');
}

export async function listCases(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  query: { after?: string | undefined; limit?: number | undefined },
): Promise<{ cases: CaseSummary[]; next: string | null }> {
  const limit = query.limit ?? DEFAULT_PAGE;
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:read', { studyId });
    // One more than the page: whether a next page exists without a count.
    const rows = await repo.listCases(trx, access.studyId, {
      after: query.after,
      limit: limit + 1,
    });
    if (!rows) {
      throw new HavenError('VALIDATION_FAILED', 'The cursor does not name a case of this study.', {
        errors: [{ field: 'querystring.after', message: 'is not a case of this study' }],
      });
    }
    const cases = rows.slice(0, limit);
    const last = cases.at(-1);
    return { cases, next: rows.length > limit && last ? last.id : null };
  });
}

export async function readCase(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  caseId: string,
): Promise<CaseView> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:read', { studyId });
    const found = await repo.findCase(trx, access.studyId, caseId);
    if (!found) throw new HavenError('NOT_FOUND', 'The case was not found.');
    return found;
  });
}
