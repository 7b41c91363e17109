// The study dashboard (issue 10): progress per participant and arm, the attention-check pass
// rate, median and IQR of the review durations, and inter-rater agreement on every single-choice
// question of the newest published questionnaire, over all arms and per arm.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { requireAccess } from '../../../platform/access/index.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { QuestionView } from '../shared/schemas.js';
import {
  cohensKappa,
  fleissKappa,
  krippendorffAlphaNominal,
  type CategoryCounts,
} from './agreement.js';
import * as repo from './repo.js';
import type { AgreementView, DashboardView, DurationsView } from './schemas.js';

type Db = Kysely<DatabaseSchema>;
type Context = ModuleContext<Record<string, never>>;

const toNumber = (value: number | string | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);

function durationsOf(row: repo.DurationRow): DurationsView {
  const q1 = toNumber(row.q1);
  const q3 = toNumber(row.q3);
  return {
    count: Number(row.count),
    medianMs: toNumber(row.median),
    q1Ms: q1,
    q3Ms: q3,
    iqrMs: q1 !== null && q3 !== null ? q3 - q1 : null,
  };
}

type CaseCounts = Map<string, Map<string, number>>;

function addCount(cases: CaseCounts, caseId: string, value: string, n: number): void {
  let counts = cases.get(caseId);
  if (!counts) {
    counts = new Map();
    cases.set(caseId, counts);
  }
  counts.set(value, (counts.get(value) ?? 0) + n);
}

const ratingsOf = (counts: CategoryCounts): number =>
  [...counts.values()].reduce((sum, n) => sum + n, 0);

/**
 * Agreement in one scope (every arm, or one arm). Kappa needs a fixed number of raters per case,
 * so it uses the cases of the most common rater count (ties: the larger count): Cohen's kappa
 * when that count is two, Fleiss' kappa when it is more. Krippendorff's alpha takes every case
 * rated two or more times.
 */
async function agreementIn(
  db: Db,
  studyId: string,
  question: QuestionView,
  arm: { id: string; name: string | null } | null,
  cases: CaseCounts,
): Promise<AgreementView> {
  const several = [...cases.values()].filter((counts) => ratingsOf(counts) >= 2);
  const base = {
    questionId: question.id,
    prompt: question.prompt,
    armId: arm?.id ?? null,
    armName: arm?.name ?? null,
    casesRatedBySeveral: several.length,
    alpha: krippendorffAlphaNominal(several).value,
  };
  if (several.length === 0) {
    return {
      ...base,
      method: null,
      kappa: null,
      cases: 0,
      ratersPerCase: null,
      reason: 'No case was answered by two or more participants yet.',
    };
  }
  const bySize = new Map<number, CategoryCounts[]>();
  for (const counts of several) {
    const size = ratingsOf(counts);
    bySize.set(size, [...(bySize.get(size) ?? []), counts]);
  }
  const [raters, group] = [...bySize.entries()].sort(
    ([sizeA, a], [sizeB, b]) => b.length - a.length || sizeB - sizeA,
  )[0]!;
  if (raters === 2) {
    const pairs = await repo.ratingPairs(db, studyId, question.id, arm?.id);
    const kappa = cohensKappa(
      pairs.map((pair) => ({ first: pair.first, second: pair.second, count: Number(pair.count) })),
    );
    return {
      ...base,
      method: 'cohen',
      kappa: kappa.value,
      cases: group.length,
      ratersPerCase: 2,
      reason: kappa.reason,
    };
  }
  const kappa = fleissKappa(group);
  return {
    ...base,
    method: 'fleiss',
    kappa: kappa.value,
    cases: group.length,
    ratersPerCase: raters,
    reason: kappa.reason,
  };
}

async function agreementOf(
  db: Db,
  studyId: string,
  question: QuestionView,
  armNames: ReadonlyMap<string, string | null>,
): Promise<AgreementView[]> {
  const rows = await repo.categoryCounts(db, studyId, question.id);
  const all: CaseCounts = new Map();
  const perArm = new Map<string, CaseCounts>();
  for (const row of rows) {
    const n = Number(row.n);
    addCount(all, row.case_id, row.value, n);
    if (row.arm_id !== null) {
      let armCases = perArm.get(row.arm_id);
      if (!armCases) {
        armCases = new Map();
        perArm.set(row.arm_id, armCases);
      }
      addCount(armCases, row.case_id, row.value, n);
    }
  }
  const results = [await agreementIn(db, studyId, question, null, all)];
  for (const [armId, name] of armNames) {
    results.push(
      await agreementIn(
        db,
        studyId,
        question,
        { id: armId, name },
        perArm.get(armId) ?? (new Map() as CaseCounts),
      ),
    );
  }
  return results;
}

export async function studyDashboard(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<DashboardView> {
  // One read-only transaction: every figure describes the same moment of the study.
  return ctx.db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const access = await requireAccess(trx, request, 'study:read', { studyId });
      const participants = await repo.participantProgress(trx, access.studyId);
      const arms = await repo.armProgress(trx, access.studyId);
      const attention = await repo.attentionTotals(trx, access.studyId);
      const total = await repo.durationTotals(trx, access.studyId, 'total_ms');
      const reading = await repo.durationTotals(trx, access.studyId, 'reading_ms');
      const answering = await repo.durationTotals(trx, access.studyId, 'answering_ms');
      const questions = await repo.newestPublishedQuestions(trx, access.studyId);

      const armNames = new Map<string, string | null>();
      for (const arm of arms) if (arm.arm_id !== null) armNames.set(arm.arm_id, arm.arm_name);
      const agreement: AgreementView[] = [];
      for (const question of questions.filter((q) => q.type === 'single')) {
        agreement.push(...(await agreementOf(trx, access.studyId, question, armNames)));
      }

      const passed = Number(attention.passed);
      const failed = Number(attention.failed);
      return {
        participants: participants.map((row) => ({
          participantId: row.user_id,
          displayName: row.display_name,
          removed: row.removed_at !== null,
          assigned: Number(row.assigned ?? 0),
          answered: Number(row.answered ?? 0),
          attentionPassed: Number(row.attention_passed ?? 0),
          attentionFailed: Number(row.attention_failed ?? 0),
        })),
        arms: arms.map((row) => ({
          armId: row.arm_id,
          armName: row.arm_name,
          assigned: Number(row.assigned),
          answered: Number(row.answered),
          durations: durationsOf(row as unknown as repo.DurationRow),
        })),
        attention: {
          passed,
          failed,
          passRate: passed + failed === 0 ? null : passed / (passed + failed),
        },
        durations: {
          total: durationsOf(total),
          reading: durationsOf(reading),
          answering: durationsOf(answering),
        },
        agreement,
      };
    });
}
