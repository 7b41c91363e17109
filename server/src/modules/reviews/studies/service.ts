// Studies (Z4, L3): a researcher of an organization starts a study and owns it; the owner and the
// study's researchers run it; only the owner changes its status. The team is in team-service.ts.
// Every change is audited with ids only.
import type { FastifyRequest } from 'fastify';
import { requireAccess, requireUser, type StudyAccess } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { FieldErrors, cleanProse, cleanText } from '../../../platform/text.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import * as repo from './repo.js';
import type { Db } from './repo.js';
import {
  STUDY_DESCRIPTION_LENGTH,
  STUDY_TITLE_LENGTH,
  type StudyCreateBody,
  type StudyPatchBody,
  type StudySummary,
  type StudyView,
} from './schemas.js';

type Context = ModuleContext<Record<string, never>>;

async function studyView(db: Db, studyId: string, userId: string): Promise<StudyView> {
  const study = await repo.findStudy(db, studyId, userId);
  if (!study) throw new HavenError('NOT_FOUND', 'The study was not found.');
  return study;
}

/**
 * Closed studies take no writes in any room (docs/api/reviews.md): their title, description and
 * team stay as they were when the study closed, until its owner reopens it. Removing a member is
 * still allowed (it only takes access away).
 */
export function refuseIfClosed(access: { status: string }, what: string): void {
  if (access.status === 'closed') {
    throw new HavenError('CONFLICT', `The study is closed; reopen it to ${what}.`);
  }
}

/**
 * `study:administer` (the owner), with a 403 naming the reason for the study's researchers: they
 * can see the study, so refusing them reveals nothing; anyone else gets the 404 of `manage`.
 */
export async function requireOwner(
  trx: Db,
  request: FastifyRequest,
  studyId: string,
  what: string,
): Promise<StudyAccess> {
  try {
    return await requireAccess(trx, request, 'study:administer', { studyId });
  } catch (error) {
    if (!(error instanceof HavenError) || error.code !== 'NOT_FOUND') throw error;
    await requireAccess(trx, request, 'study:manage', { studyId });
    throw new HavenError('FORBIDDEN', `Only the study's owner can ${what}.`);
  }
}

function cleanTitle(errors: FieldErrors, title: string): string | undefined {
  return cleanText(errors, 'title', title, { required: true, maxLength: STUDY_TITLE_LENGTH });
}

/** A description may be empty; otherwise prose without invisible characters. */
function cleanDescription(errors: FieldErrors, description: string): string | undefined {
  if (description.trim() === '') return '';
  return cleanProse(errors, 'description', description, STUDY_DESCRIPTION_LENGTH);
}

export async function listStudies(
  ctx: Context,
  request: FastifyRequest,
): Promise<{ studies: StudySummary[]; organizations: Array<{ id: string; name: string }> }> {
  const { userId } = requireUser(request);
  return {
    studies: await repo.listStudiesOf(ctx.db, userId),
    organizations: await repo.researchOrganizationsOf(ctx.db, userId),
  };
}

export async function createStudy(
  ctx: Context,
  request: FastifyRequest,
  body: StudyCreateBody,
): Promise<StudyView> {
  const errors = new FieldErrors();
  const title = cleanTitle(errors, body.title);
  const description = cleanDescription(errors, body.description ?? '');
  errors.throwIfAny();
  return ctx.db.transaction().execute(async (trx) => {
    const { userId, organizationId } = await requireAccess(
      trx,
      request,
      'organization:run_studies',
      {
        organizationId: body.organizationId,
      },
    );
    const studyId = await repo.insertStudy(trx, {
      organizationId,
      title: title ?? '',
      description: description ?? '',
      createdBy: userId,
    });
    await repo.insertMembership(trx, { studyId, userId, addedBy: userId }, { role: 'owner' });
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'study.created',
      target: { type: 'study', id: studyId },
      details: { studyId, organizationId },
    });
    return studyView(trx, studyId, userId);
  });
}

export async function readStudy(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<StudyView> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:read', { studyId });
    return studyView(trx, access.studyId, access.userId);
  });
}

export async function updateStudy(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  body: StudyPatchBody,
): Promise<StudyView> {
  const errors = new FieldErrors();
  const changes: { title?: string; description?: string } = {};
  if (body.title !== undefined) changes.title = cleanTitle(errors, body.title);
  if (body.description !== undefined) {
    changes.description = cleanDescription(errors, body.description);
  }
  errors.throwIfAny();
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:manage', { studyId });
    refuseIfClosed(access, 'change its title or description');
    await repo.updateStudy(trx, access.studyId, changes);
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'study.updated',
      target: { type: 'study', id: access.studyId },
      details: { studyId: access.studyId, fields: Object.keys(changes).sort().join(',') },
    });
    return studyView(trx, access.studyId, access.userId);
  });
}

/** The transitions a study may make; anything else is refused with the reason. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = Object.freeze({
  draft: ['active'],
  active: ['closed'],
  closed: ['active'],
});

export async function changeStatus(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  status: 'active' | 'closed',
): Promise<StudyView> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireOwner(trx, request, studyId, 'change its status');
    const current = await repo.lockStudy(trx, access.studyId);
    if (!current) throw new HavenError('NOT_FOUND', 'The study was not found.');
    // Asking for the status the study already has changes nothing (a retried request).
    if (current.status === status) return studyView(trx, access.studyId, access.userId);
    if (!ALLOWED[current.status]?.includes(status)) {
      throw new HavenError(
        'CONFLICT',
        'A draft study cannot be closed; activate it first, or leave it as a draft.',
      );
    }
    if (status === 'active') {
      const ready = await repo.readiness(trx, access.studyId);
      const missing = [
        ...(ready.cases === 0 ? ['at least one case'] : []),
        ...(ready.published ? [] : ['a published questionnaire version']),
      ];
      if (missing.length > 0) {
        throw new HavenError(
          'CONFLICT',
          `The study cannot be activated yet: it needs ${missing.join(' and ')}.`,
        );
      }
    }
    await repo.updateStudy(trx, access.studyId, { status });
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'study.status_changed',
      target: { type: 'study', id: access.studyId },
      details: { studyId: access.studyId, status, previous: current.status },
    });
    return studyView(trx, access.studyId, access.userId);
  });
}
