// Audit-log search and verification as an admin uses them: every filter, keyset paging newest
// first, actor display names, the search itself audited, and a clean chain verified.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { sealEverything } from '../../../test/audit-chain.js';

interface Entry {
  seq: string;
  id: string;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  actorDisplayName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  outcome: string;
  requestId: string | null;
  details: Record<string, unknown>;
}
interface Page {
  events: Entry[];
  nextBefore: string | null;
}

describeClinic('audit log administration', (clinic) => {
  let admin: Actor;
  let worker: Actor;
  const t0 = new Date('2030-01-01T10:00:00.000Z');
  const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);

  async function search(query: string): Promise<Page> {
    const res = await clinic.call(admin, 'GET', `/api/admin/audit-events?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page>();
  }

  beforeAll(async () => {
    admin = await clinic.actor(['admin'], { displayName: 'Audit Admin' });
    worker = await clinic.actor(['clinician'], { displayName: 'Casey Worker' });
    // A fixed, recognisable slice of history in the future, so time filters select only it.
    const workerActor = { type: 'user', id: worker.userId } as const;
    const doc = (id: string) => ({ type: 'fixture_doc', id });
    const history: Array<[minute: number, event: Parameters<typeof recordAudit>[1]]> = [
      [
        0,
        {
          actor: workerActor,
          action: 'fixture.read',
          target: doc('doc-1'),
          outcome: 'success',
          requestId: 'req-fixture-1',
          details: { count: 3 },
        },
      ],
      [
        10,
        { actor: workerActor, action: 'fixture.write', target: doc('doc-2'), outcome: 'failure' },
      ],
      [
        20,
        {
          actor: { type: 'system' },
          action: 'fixture.cleanup',
          target: doc('doc-1'),
          outcome: 'success',
        },
      ],
      [
        30,
        {
          actor: { type: 'client', id: 'client-billing' },
          action: 'fixtures.sync',
          outcome: 'denied',
        },
      ],
    ];
    for (const [minute, event] of history) await recordAudit(clinic.db, event, minutes(minute));
  });

  it('returns events newest first with every field and the actor display name', async () => {
    const page = await search('targetType=fixture_doc');
    expect(page.events.map((e) => e.action)).toEqual([
      'fixture.cleanup',
      'fixture.write',
      'fixture.read',
    ]);
    expect(page.nextBefore).toBeNull();
    expect(page.events[2]).toEqual({
      seq: expect.stringMatching(/^\d+$/),
      id: expect.any(String),
      occurredAt: minutes(0).toISOString(),
      actorType: 'user',
      actorId: worker.userId,
      actorDisplayName: 'Casey Worker',
      action: 'fixture.read',
      targetType: 'fixture_doc',
      targetId: 'doc-1',
      // A kind of target Haven does not know has no name to show.
      targetName: null,
      outcome: 'success',
      requestId: 'req-fixture-1',
      details: { count: 3 },
    });
    expect(page.events[0]?.actorDisplayName).toBeNull();
  });

  it('filters by actor, target, exact action, action family and prefix, outcome and time', async () => {
    const actions = async (query: string) => (await search(query)).events.map((e) => e.action);
    expect(await actions(`actorId=${worker.userId}&action=fixture.`)).toEqual([
      'fixture.write',
      'fixture.read',
    ]);
    expect(await actions('targetType=fixture_doc&targetId=doc-1')).toEqual([
      'fixture.cleanup',
      'fixture.read',
    ]);
    expect(await actions('action=fixture.write')).toEqual(['fixture.write']);
    // Without a dot, the family (the first segment): 'fixture' does not match 'fixtures.sync'.
    expect(await actions('action=fixture')).toEqual([
      'fixture.cleanup',
      'fixture.write',
      'fixture.read',
    ]);
    expect(await actions('action=fixture.')).toEqual([
      'fixture.cleanup',
      'fixture.write',
      'fixture.read',
    ]);
    expect(await actions('action=fixtures.')).toEqual(['fixtures.sync']);
    expect(await actions('outcome=denied&from=2030-01-01T00:00:00Z')).toEqual(['fixtures.sync']);
    const from = encodeURIComponent(minutes(10).toISOString());
    const to = encodeURIComponent(minutes(20).toISOString());
    expect(await actions(`from=${from}&to=${to}`)).toEqual(['fixture.cleanup', 'fixture.write']);
    expect(
      await actions(`to=${encodeURIComponent('2030-01-01T10:05:00+00:00')}&action=fixture.`),
    ).toEqual(['fixture.read']);
  });

  it('pages with before and limit, without gaps or overlaps', async () => {
    const all = await search('limit=100');
    const seen: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < 100; i += 1) {
      const page: Page = await search(`limit=2${before ? `&before=${before}` : ''}`);
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.seq));
      before = page.nextBefore;
      if (before === null) break;
      expect(before).toBe(page.events.at(-1)?.seq);
    }
    // Each search adds an audit.searched event, but only after the seqs already listed.
    const listed = all.events.map((e) => e.seq);
    expect(seen.slice(-listed.length)).toEqual(listed);
    expect(new Set(seen).size).toBe(seen.length);
    const seqs = seen.map(Number);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect((await search('limit=3')).events).toHaveLength(3);
    expect((await search('')).events.length).toBeLessThanOrEqual(50);
  });

  it('audits every search with the names of the filters used, never their values', async () => {
    await search(`actorId=${worker.userId}&targetId=doc-2&action=fixture.&limit=5`);
    const [event] = await clinic.db
      .selectFrom('audit_events')
      .select(['actor_id', 'details'])
      .where('action', '=', 'audit.searched')
      .orderBy('seq', 'desc')
      .limit(1)
      .execute();
    expect(event).toEqual({
      actor_id: admin.userId,
      details: { filters: 'actorId,targetId,action', paged: false, results: 1, patientsShown: 0 },
    });
    expect(JSON.stringify(event)).not.toContain(worker.userId);
    expect(JSON.stringify(event)).not.toContain('doc-2');
  });

  it('verifies an intact chain and audits the verification', async () => {
    // What the sealer job (not running in this harness) would have done by now.
    await sealEverything(clinic.db);
    const res = await clinic.call(admin, 'POST', '/api/admin/audit-log/verify', {});
    expect(res.statusCode).toBe(200);
    const body = res.json<{ ok: boolean; checked: number; lastHash: string }>();
    const count = await clinic.db
      .selectFrom('audit_events')
      .select(clinic.db.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(body).toEqual({ ok: true, checked: Number(count.n) - 1, lastHash: expect.any(String) });
    const [event] = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'outcome', 'details'])
      .orderBy('seq', 'desc')
      .limit(1)
      .execute();
    expect(event).toEqual({
      action: 'audit.verified',
      actor_id: admin.userId,
      outcome: 'success',
      details: { ok: true, checked: body.checked },
    });
  });
});
