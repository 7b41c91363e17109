// The batched PHI audit (L3): a request that lists or exports many patient records writes one
// event naming them (ids up to a cap, and the count), inside the caller's transaction.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../test/databases.js';
import type { Principal } from '../auth/principal.js';
import { PHI_BATCH_ID_CAP, auditPhiBatch } from './phi-audit.js';

const USER_ID = randomUUID();
const ORGANIZATION_ID = randomUUID();

/**
 * The three things the audit reads from a request: who, which request, from where. Each test
 * has its own request id and reads back only its own events.
 */
function requestOf(principal: Principal | null, id: string): FastifyRequest {
  const request = { principal, id, ip: '203.0.113.9' };
  return request as unknown as FastifyRequest;
}

const clinician: Principal = {
  kind: 'user',
  subject: USER_ID,
  scopes: new Set(['patients:read']),
  sessionId: randomUUID(),
  amr: ['pwd', 'otp'],
  mfaAt: undefined,
  via: 'bearer',
};

const ids = (count: number): string[] => Array.from({ length: count }, () => randomUUID());

describeEachEngine('auditPhiBatch', (engine) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await database.close();
  });

  const events = (requestId: string) =>
    database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'actor_id', 'target_type', 'target_id', 'details'])
      .select(['request_id', 'client_address'])
      .where('request_id', '=', requestId)
      .orderBy('seq')
      .execute();

  it('L3: a listing of many records is one event with their ids and count, not one per row', async () => {
    const listed = ids(12);
    await auditPhiBatch(database.db, requestOf(clinician, 'req-batch-1'), {
      action: 'patient.listed',
      patientIds: listed,
      organizationId: ORGANIZATION_ID,
      details: { paged: false },
    });
    const rows = await events('req-batch-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      action: 'patient.listed',
      actor_type: 'user',
      actor_id: USER_ID,
      target_type: 'organization',
      target_id: ORGANIZATION_ID,
      request_id: 'req-batch-1',
      client_address: '203.0.113.9',
      details: {
        paged: false,
        count: 12,
        part: 1,
        parts: 1,
        patientIds1: listed.slice(0, 5).join(','),
        patientIds2: listed.slice(5, 10).join(','),
        patientIds3: listed.slice(10).join(','),
      },
    });
  });

  it('L3/accounting of disclosures: a listing longer than one event can name is split into parts, and every record is named once', async () => {
    const exported = ids(PHI_BATCH_ID_CAP + 7);
    await auditPhiBatch(database.db, requestOf(clinician, 'req-batch-2'), {
      action: 'patient.exported',
      patientIds: [...exported, exported[0] ?? ''],
    });
    const rows = await events('req-batch-2');
    expect(rows).toHaveLength(2);
    expect(
      rows.map((row) => [row.target_type, row.details.count, row.details.part, row.details.parts]),
    ).toEqual([
      [null, PHI_BATCH_ID_CAP + 7, 1, 2],
      [null, PHI_BATCH_ID_CAP + 7, 2, 2],
    ]);
    const named = rows.flatMap((row) =>
      Object.entries(row.details)
        .filter(([key]) => key.startsWith('patientIds'))
        .flatMap(([, value]) => String(value).split(',')),
    );
    expect(named).toEqual(exported);
  });

  it('L3: a listing that returned no record writes no event', async () => {
    await auditPhiBatch(database.db, requestOf(clinician, 'req-batch-3'), {
      action: 'patient.listed',
      patientIds: [],
    });
    expect(await events('req-batch-3')).toEqual([]);
  });

  it('L3: the event commits or rolls back with the caller’s transaction', async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await auditPhiBatch(trx, requestOf(clinician, 'req-batch-4'), {
          action: 'patient.listed',
          patientIds: ids(3),
        });
        throw new Error('the listing failed');
      }),
    ).rejects.toThrow('the listing failed');
    expect(await events('req-batch-4')).toEqual([]);
  });
});
