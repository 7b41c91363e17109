// The write loop of audit.bench.ts, shared by the in-process run (PGlite) and the forked
// nodes (audit-node.ts): the transaction of PATCH /api/patients/:id (read the record, update
// it, record the audit event, read it back), with or without the audit event.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../server/src/platform/db/schema.js';
import { recordAudit } from '../server/src/platform/audit/audit.js';

/**
 * plain: the change alone. audited: the change and its audit event (recordAudit), as every
 * PHI write does. locked: audited the way it was before sealing existed, one global advisory
 * lock held to commit plus a read of the chain's tail (for comparison only).
 */
export type WriteMode = 'plain' | 'audited' | 'locked';

export interface WriteRun {
  readonly mode: WriteMode;
  readonly seconds: number;
  /** Transactions in flight at once (the node's pool is this size). */
  readonly writers: number;
  /**
   * Time each writer spends between transactions: the rest of the request (HTTP, session,
   * validation, response), which a real node does on its own CPU. Slept here, because the
   * bench's nodes share one machine with the database; 0 runs transactions back to back.
   */
  readonly requestWorkMs: number;
  readonly organizationId: string;
  readonly patients: readonly string[];
}

export interface WriteResult {
  readonly writes: number;
  readonly errors: number;
  readonly firstError?: string;
}

/** The chain lock of the previous design ('hvnaudit' as a bigint). */
const PREVIOUS_CHAIN_LOCK_KEY = '7527325192056760692';

/** One organization and `count` patients to update. */
export async function seedPatients(
  db: Kysely<DatabaseSchema>,
  count: number,
): Promise<{ organizationId: string; patients: string[] }> {
  const org = await db
    .insertInto('organizations')
    .values({ name: `Bench ${Date.now()}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  const rows = await sql<{ id: string }>`
    insert into patients (organization_id, mrn, given_name, family_name, birth_date, sex)
    select ${org.id}::uuid, 'B' || n, 'Given' || n, 'Family' || n, date '1980-01-01' + n, 'unknown'
    from generate_series(1, ${count}::int) as n
    returning id`.execute(db);
  return { organizationId: org.id, patients: rows.rows.map((r) => r.id) };
}

export async function writeLoop(db: Kysely<DatabaseSchema>, run: WriteRun): Promise<WriteResult> {
  const end = Date.now() + run.seconds * 1000;
  let writes = 0;
  let errors = 0;
  let firstError: string | undefined;
  const patient = (trx: Kysely<DatabaseSchema>, patientId: string) =>
    trx
      .selectFrom('patients')
      .selectAll()
      .where('id', '=', patientId)
      .where('organization_id', '=', run.organizationId)
      .where('archived_at', 'is', null)
      .executeTakeFirstOrThrow();
  const one = async (patientId: string, n: number): Promise<void> => {
    await db.transaction().execute(async (trx) => {
      await patient(trx, patientId);
      await trx
        .updateTable('patients')
        .set({
          contact_methods: JSON.stringify([{ kind: 'sms', value: `+1555000${n % 10_000}` }]),
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', patientId)
        .where('organization_id', '=', run.organizationId)
        .execute();
      if (run.mode !== 'plain') {
        if (run.mode === 'locked') {
          await sql`select pg_advisory_xact_lock(${PREVIOUS_CHAIN_LOCK_KEY}::bigint)`.execute(trx);
          await trx
            .selectFrom('audit_events')
            .select('seq')
            .orderBy('seq', 'desc')
            .limit(1)
            .execute();
        }
        await recordAudit(trx, {
          actor: { type: 'user', id: 'bench-user' },
          action: 'patient.updated',
          target: { type: 'patient', id: patientId },
          outcome: 'success',
          requestId: `bench-${n}`,
          clientAddress: '127.0.0.1',
          details: { fields: 'contactMethods' },
        });
      }
      await patient(trx, patientId);
    });
  };
  const pause = (): Promise<void> =>
    run.requestWorkMs > 0
      ? new Promise((resolve) => setTimeout(resolve, run.requestWorkMs))
      : Promise.resolve();
  await Promise.all(
    Array.from({ length: run.writers }, async (_, worker) => {
      for (let n = worker; Date.now() < end; n += run.writers) {
        const patientId = run.patients[Math.floor(Math.random() * run.patients.length)];
        if (patientId === undefined) throw new Error('no patients seeded');
        try {
          await one(patientId, n);
          writes += 1;
        } catch (error) {
          errors += 1;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        await pause();
      }
    }),
  );
  return { writes, errors, ...(firstError === undefined ? {} : { firstError }) };
}
