// Cases in the database (Z4). Every query takes the study id requireAccess returned and names it
// in its WHERE clause, so a case of another study is the same 404 as a missing one.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { CaseNode } from '../shared/schemas.js';
import type { CaseSummary, CaseView } from './schemas.js';

export type Db = Kysely<DatabaseSchema>;

/** Rows per INSERT statement: large enough to be quick, small enough for any parameter limit. */
const INSERT_BATCH = 100;

/** Which of the external ids the study already has. */
export async function existingExternalIds(
  db: Db,
  studyId: string,
  externalIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (let start = 0; start < externalIds.length; start += INSERT_BATCH) {
    const batch = externalIds.slice(start, start + INSERT_BATCH);
    const rows = await db
      .selectFrom('review_cases')
      .select('external_id')
      .where('study_id', '=', studyId)
      .where('external_id', 'in', batch)
      .execute();
    for (const row of rows) found.add(row.external_id);
  }
  return found;
}

export interface NewCase {
  readonly externalId: string;
  readonly tree: readonly CaseNode[];
  readonly nodeCount: number;
  readonly aiScore: number | null;
  readonly aiExplanation: string | null;
}

/** Inserts the cases; answers their ids in the order given. Fails on a duplicate external id. */
export async function insertCases(
  db: Db,
  studyId: string,
  createdBy: string,
  cases: readonly NewCase[],
): Promise<Array<{ id: string; externalId: string }>> {
  const idOf = new Map<string, string>();
  for (let start = 0; start < cases.length; start += INSERT_BATCH) {
    const rows = await db
      .insertInto('review_cases')
      .values(
        cases.slice(start, start + INSERT_BATCH).map((item) => ({
          study_id: studyId,
          external_id: item.externalId,
          tree: JSON.stringify(item.tree),
          node_count: item.nodeCount,
          ai_score: item.aiScore,
          ai_explanation: item.aiExplanation,
          created_by: createdBy,
        })),
      )
      .returning(['id', 'external_id'])
      .execute();
    for (const row of rows) idOf.set(row.external_id, row.id);
  }
  return cases.map((item) => ({
    id: idOf.get(item.externalId) ?? '',
    externalId: item.externalId,
  }));
}

/**
 * One page of the study's cases in external-id order (unique in a study, and indexed with it),
 * after the case `after` names; undefined when `after` is not a case of this study.
 */
export async function listCases(
  db: Db,
  studyId: string,
  page: { after: string | undefined; limit: number },
): Promise<CaseSummary[] | undefined> {
  let query = db
    .selectFrom('review_cases as c')
    .select([
      'c.id',
      'c.external_id',
      'c.node_count',
      'c.ai_score',
      'c.created_at',
      sql<number>`(select count(*)::int from review_assignments a where a.case_id = c.id)`.as(
        'assignment_count',
      ),
    ])
    .where('c.study_id', '=', studyId);
  if (page.after !== undefined) {
    const cursor = await db
      .selectFrom('review_cases')
      .select('external_id')
      .where('study_id', '=', studyId)
      .where('id', '=', page.after)
      .executeTakeFirst();
    if (!cursor) return undefined;
    query = query.where('c.external_id', '>', cursor.external_id);
  }
  const rows = await query.orderBy('c.external_id').limit(page.limit).execute();
  return rows.map((row) => ({
    id: row.id,
    externalId: row.external_id,
    nodeCount: row.node_count,
    aiScore: row.ai_score,
    createdAt: row.created_at.toISOString(),
    assignments: Number(row.assignment_count),
  }));
}

export async function findCase(
  db: Db,
  studyId: string,
  caseId: string,
): Promise<CaseView | undefined> {
  const row = await db
    .selectFrom('review_cases')
    .select(['id', 'external_id', 'tree', 'ai_score', 'ai_explanation', 'node_count', 'created_at'])
    .where('study_id', '=', studyId)
    .where('id', '=', caseId)
    .executeTakeFirst();
  return (
    row && {
      id: row.id,
      externalId: row.external_id,
      tree: row.tree as CaseNode[],
      aiScore: row.ai_score,
      aiExplanation: row.ai_explanation,
      nodeCount: row.node_count,
      createdAt: row.created_at.toISOString(),
    }
  );
}
