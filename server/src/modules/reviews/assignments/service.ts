// Assignment use cases (Z4, V1, L3): the list and uploads by API (JSON) and as an AugMed sheet.
// Each runs in one transaction that starts with requireAccess on the study (batch.ts onStudy);
// every later query is keyed by the study the access names, so a participant, case or arm of
// another study in a body is refused exactly like an unknown one.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { FieldErrors } from '../../../platform/text.js';
import { checkDisplay } from '../experiments/display.js';
import type { FeatureDisplayView } from '../shared/schemas.js';
import { onStudy, resolveDrafts, unique, writeBatch, type Draft } from './batch.js';
import {
  readAssignmentSheet,
  throwUploadErrors,
  type SheetAssignment,
  type SheetFeature,
} from './csv-sheet.js';
import * as repo from './repo.js';
import type { ArmRow, Db } from './repo.js';
import {
  DEFAULT_PAGE,
  MAX_PAGE,
  type AssignmentInput,
  type AssignmentListFilter,
  type AssignmentSummaryView,
} from './schemas.js';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A sheet feature as stored: the line it came from stays in the sheet. */
function withoutLine(feature: SheetFeature): FeatureDisplayView {
  const { path, hidden, collapsed, highlighted, top } = feature;
  return {
    path,
    ...(hidden !== undefined ? { hidden } : {}),
    ...(collapsed !== undefined ? { collapsed } : {}),
    ...(highlighted !== undefined ? { highlighted } : {}),
    ...(top !== undefined ? { top } : {}),
  };
}

/** POST /assignments: up to 1,000 assignments by id, all or nothing. */
export function createAssignments(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  body: AssignmentInput,
): Promise<number> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    const errors = new FieldErrors();
    const drafts = body.assignments.map((item, index): Draft => {
      const at = `assignments.${index}`;
      if (item.display) checkDisplay(errors, `${at}.display`, item.display);
      const fields = { participant: 'participantId', case: 'caseId', arm: 'armId' } as const;
      return {
        label: at,
        participantId: item.participantId,
        caseId: item.caseId,
        armId: item.armId,
        features: item.display?.features,
        showAiScore: item.display?.showAiScore,
        field: (name) => `${at}.${fields[name]}`,
        featureField: (featureIndex, name) => `${at}.display.features.${featureIndex}.${name}`,
      };
    });
    const rows = await resolveDrafts(trx, access.studyId, drafts, errors);
    throwUploadErrors(errors);
    await writeBatch(trx, request, access, 'api', rows, null);
    return rows.length;
  });
}

/** The arm a sheet names: its id, or its name when only one arm of the study has that name. */
function armResolver(arms: readonly ArmRow[]) {
  const byId = new Set(arms.map((arm) => arm.id));
  const byName = new Map<string, string[]>();
  for (const arm of arms) {
    const key = arm.name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), arm.id]);
  }
  return (reference: string): { armId: string } | { problem: string } => {
    if (UUID_SHAPE.test(reference) && byId.has(reference.toLowerCase())) {
      return { armId: reference.toLowerCase() };
    }
    const named = byName.get(reference.toLowerCase()) ?? [];
    if (named.length === 1) return { armId: named[0]! };
    return {
      problem:
        named.length > 1
          ? 'names arms of several experiments; give the arm id instead'
          : 'is not an arm of this study',
    };
  };
}

function sheetDraft(
  assignment: SheetAssignment,
  refs: { participantId?: string; caseId?: string; armId?: string },
): Draft {
  const { line, features, arm } = assignment;
  const columns = { participant: 'participant_email', case: 'case_id', arm: 'arm' } as const;
  return {
    label: `line ${line}`,
    participantId: refs.participantId,
    caseId: refs.caseId,
    armId: refs.armId,
    features: features.length === 0 && arm !== undefined ? undefined : features.map(withoutLine),
    showAiScore: assignment.showAiScore?.value,
    field: (name) => `line ${name === 'arm' ? (arm?.line ?? line) : line}: ${columns[name]}`,
    featureField: (index, name) => `line ${features[index]?.line ?? line}: ${name}`,
  };
}

/** POST /assignments/import: an AugMed sheet, all or nothing. */
export function importAssignmentSheet(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  sheet: string,
): Promise<{ created: number; participants: number; cases: number }> {
  return onStudy(db, request, studyId, 'manage', async (trx, access) => {
    const assignments = readAssignmentSheet(sheet);
    const emails = unique(assignments.map((a) => a.email));
    const participantOf = new Map(
      (await repo.participantsByEmail(trx, access.studyId, emails)).map((row) => [
        row.email_normalized,
        row.user_id,
      ]),
    );
    const caseOf = new Map(
      (
        await repo.casesByExternalIds(
          trx,
          access.studyId,
          unique(assignments.map((a) => a.caseExternalId)),
        )
      ).map((row) => [row.external_id, row.id]),
    );
    const needsArms = assignments.some((a) => a.arm !== undefined);
    const resolveArm = armResolver(needsArms ? await repo.studyArms(trx, access.studyId) : []);

    const errors = new FieldErrors();
    const drafts = assignments.map((assignment) => {
      const participantId = participantOf.get(assignment.email);
      const caseId = caseOf.get(assignment.caseExternalId);
      // A formula-looking cell (`=HYPERLINK(...)`) is only text here: it matches no participant.
      if (participantId === undefined) {
        errors.add(
          `line ${assignment.line}: participant_email`,
          'is not a participant of this study',
        );
      }
      if (caseId === undefined) {
        errors.add(`line ${assignment.line}: case_id`, 'is not a case of this study');
      }
      let armId: string | undefined;
      if (assignment.arm) {
        const resolved = resolveArm(assignment.arm.value);
        if ('problem' in resolved) errors.add(`line ${assignment.arm.line}: arm`, resolved.problem);
        else armId = resolved.armId;
      }
      return sheetDraft(assignment, { participantId, caseId, armId });
    });
    const rows = await resolveDrafts(trx, access.studyId, drafts, errors);
    throwUploadErrors(errors);
    await writeBatch(trx, request, access, 'csv', rows, null);
    return {
      created: rows.length,
      participants: new Set(rows.map((row) => row.participantId)).size,
      cases: new Set(rows.map((row) => row.caseId)).size,
    };
  });
}

function toSummary(row: repo.AssignmentRow): AssignmentSummaryView {
  return {
    id: row.id,
    participantId: row.participant_id,
    participantName: row.display_name,
    caseId: row.case_id,
    caseExternalId: row.external_id,
    armId: row.arm_id,
    armName: row.arm_name,
    position: row.position,
    source: row.source,
    answered: Boolean(row.answered),
    createdAt: row.created_at.toISOString(),
  };
}

/** One page of the study's assignments in creation order; `next` continues after it. */
export function listAssignments(
  db: Db,
  request: FastifyRequest,
  studyId: string,
  filter: AssignmentListFilter,
): Promise<{ assignments: AssignmentSummaryView[]; next: string | null }> {
  return onStudy(db, request, studyId, 'read', async (trx, access) => {
    const limit = Math.min(filter.limit ?? DEFAULT_PAGE, MAX_PAGE);
    // Another study's assignment as a cursor is as unknown as a missing one.
    if (
      filter.after !== undefined &&
      !(await repo.isStudyAssignment(trx, access.studyId, filter.after))
    ) {
      throw new HavenError('NOT_FOUND', 'The cursor does not name an assignment of this study.');
    }
    const rows = await repo.listAssignments(trx, access.studyId, { ...filter, limit });
    const page = rows.slice(0, limit);
    return {
      assignments: page.map(toSummary),
      next: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
    };
  });
}
