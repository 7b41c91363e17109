// A database that blinks must never take Haven down (issue 9, defect 1). Real processes on a
// private PostgreSQL: two `haven serve` nodes and a `haven worker` under write load while the
// busy backends are terminated and the server is restarted and stopped. Every node and the
// worker stay up, requests during the outage get 503 + Retry-After (never 500), service comes
// back by itself, and no acknowledged write is lost.
// Runs in the PostgreSQL pass of the suite (DATABASE_URL set), where the server binaries are
// known to be installed; elsewhere it reports as skipped.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createActor, createOrganization, type Actor } from '../actors.js';
import { freePort, privatePostgresUnavailable } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

const skipReason = !process.env.DATABASE_URL
  ? 'fault tests run in the PostgreSQL pass (set DATABASE_URL)'
  : privatePostgresUnavailable();

interface Outcome {
  readonly status: number | 'connection-error';
  readonly code?: string;
  readonly retryAfter?: string | null;
  readonly mrn: string;
}

async function createPatient(port: number, actor: Actor, mrn: string): Promise<Outcome> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/api/patients`, {
      method: 'POST',
      headers: { authorization: actor.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({
        mrn,
        givenName: 'Fault',
        familyName: 'Tolerant',
        birthDate: '1970-01-01',
        sex: 'unknown',
      }),
      signal: AbortSignal.timeout(40_000),
    });
    const body = (await response.json().catch(() => ({}))) as { code?: string };
    return {
      status: response.status,
      ...(body.code ? { code: body.code } : {}),
      retryAfter: response.headers.get('retry-after'),
      mrn,
    };
  } catch {
    return { status: 'connection-error', mrn };
  }
}

async function readyStatus(port: number): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
      signal: AbortSignal.timeout(5_000),
    });
    return response.status;
  } catch {
    return 0;
  }
}

async function terminateClientBackends(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const result = await client.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    return result.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

describe.skipIf(skipReason !== undefined)('database faults on real processes', () => {
  const lab = useFaultLab({ postgres: true });

  it('defect 1/availability: two nodes and a worker survive terminated backends, a restart and an outage under write load, answer 503 + Retry-After meanwhile, resume by themselves and lose no acknowledged write', async () => {
    const ports = [await freePort(), await freePort()];
    const nodes = ports.map((port) => lab.spawn(['serve'], lab.env({ PORT: String(port) })));
    const worker = lab.spawn(['worker'], lab.env({ HAVEN_LOG_LEVEL: 'info' }));
    await Promise.all(nodes.map((node) => node.waitFor('Haven is listening')));
    await worker.waitFor('worker started');
    // Each node's authorization server is built before the faults (as after any first use).
    for (const port of ports) {
      expect(
        (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).status,
      ).toBe(200);
    }

    // A clinician with a session, minted by an app in this process on the same database and
    // master key (so the nodes verify its token); this process must survive the faults too.
    const minter = await lab.minter(lab.env());
    const clinician = await createActor(minter, ['clinician']);
    await createOrganization(minter.database.db, {
      members: [{ userId: clinician.userId, role: 'clinician' }],
    });

    const outcomes: Outcome[] = [];
    let loading = true;
    const writers = [0, 1, 2, 3].map(async (writer) => {
      for (let i = 0; loading; i++) {
        const port = ports[(writer + i) % 2]!;
        outcomes.push(
          await createPatient(port, clinician, `F-${writer}-${i}-${randomUUID().slice(0, 6)}`),
        );
      }
    });

    await sleep(1_500);
    const terminated = await terminateClientBackends(lab.postgres.url);
    await sleep(1_500);
    await lab.postgres.restart();
    await sleep(1_500);
    // An outage long enough to be seen: requests meanwhile must be 503, and so must /readyz.
    await lab.postgres.stop();
    await sleep(1_000);
    const readyDuringOutage = await Promise.all(ports.map(readyStatus));
    // The OAuth endpoints oidc-provider answers say "not now" too (A12), not server_error 500.
    const oauthDuringOutage = await Promise.all([
      fetch(`http://127.0.0.1:${ports[0]}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('outageprobeclient01:secret').toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      }),
      fetch(
        `http://127.0.0.1:${ports[1]}/oauth/authorize?response_type=code&client_id=outageprobeclient01` +
          '&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=portal%3Aread' +
          '&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256',
        { redirect: 'manual' },
      ),
    ]);
    const oauthOutage = await Promise.all(
      oauthDuringOutage.map(async (response) => ({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: await response.text(),
      })),
    );
    await sleep(1_000);
    await lab.postgres.start();
    const backAt = Date.now();
    // Both nodes ready again, measured from the moment the database accepts connections.
    const resumedAfterMs = await Promise.all(
      ports.map(async (port) => {
        while ((await readyStatus(port)) !== 200) {
          if (Date.now() - backAt > 30_000) return Number.POSITIVE_INFINITY;
          await sleep(50);
        }
        return Date.now() - backAt;
      }),
    );
    await sleep(1_500);
    loading = false;
    await Promise.all(writers);

    // Nothing exited: not a node, not the worker.
    expect(
      nodes.map((n) => n.exited()),
      nodes.map((n) => n.output()).join('\n'),
    ).toEqual([false, false]);
    expect(worker.exited(), worker.output()).toBe(false);
    expect(terminated).toBeGreaterThan(0);

    // During the outage: 503 SERVICE_UNAVAILABLE with Retry-After, never a 500.
    expect(readyDuringOutage).toEqual([503, 503]);
    for (const answer of oauthOutage) {
      expect(answer.status, answer.body).toBe(503);
      expect(answer.retryAfter).toMatch(/^\d+$/);
      expect(answer.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack/);
    }
    const statuses = new Set(outcomes.map((o) => o.status));
    const histogram = new Map<string, number>();
    for (const outcome of outcomes) {
      const key = `${outcome.status} ${outcome.code ?? ''}`.trim();
      histogram.set(key, (histogram.get(key) ?? 0) + 1);
    }
    console.info('write outcomes during the faults:', Object.fromEntries(histogram));
    const unavailable = outcomes.filter((o) => o.status === 503);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const outcome of unavailable) {
      expect(outcome.code).toBe('SERVICE_UNAVAILABLE');
      expect(outcome.retryAfter).toMatch(/^\d+$/);
    }
    expect([...statuses].filter((s) => s !== 201 && s !== 503)).toEqual([]);

    // Back by itself, promptly (the issue asks for a second; the bound leaves room for a
    // loaded CI machine, and the measurement is printed).
    console.info(`nodes ready again ${resumedAfterMs.join(' ms, ')} ms after PostgreSQL came back`);
    for (const ms of resumedAfterMs) expect(ms).toBeLessThan(5_000);
    const afterwards = await createPatient(
      ports[0]!,
      clinician,
      `F-after-${randomUUID().slice(0, 6)}`,
    );
    expect(afterwards.status).toBe(201);

    // No acknowledged write lost.
    const acknowledged = outcomes.filter((o) => o.status === 201).map((o) => o.mrn);
    expect(acknowledged.length).toBeGreaterThan(10);
    const client = new pg.Client({ connectionString: lab.postgres.url });
    await client.connect();
    const stored = await client.query<{ mrn: string }>(
      'select mrn from patients where mrn = any($1)',
      [acknowledged],
    );
    await client.end();
    expect(new Set(stored.rows.map((r) => r.mrn))).toEqual(new Set(acknowledged));
  }, 180_000);

  it('defect 1/availability: serve started while PostgreSQL is down waits with a clear log line, then starts by itself', async () => {
    await lab.postgres.stop();
    const port = await freePort();
    const node = lab.spawn(['serve'], lab.env({ PORT: String(port) }));
    try {
      await node.waitFor('database unreachable; waiting for it');
      expect(node.output()).not.toContain('Haven is listening');
      await sleep(1_500);
      expect(node.exited(), node.output()).toBe(false);
    } finally {
      await lab.postgres.start();
    }
    await node.waitFor('Haven is listening', 60_000);
    expect(await readyStatus(port)).toBe(200);
    await node.stop();
  }, 120_000);

  it('defect 1/operability: serve against an unmigrated database says to run `npx haven migrate`, without a stack trace', async () => {
    const client = new pg.Client({ connectionString: lab.postgres.url });
    await client.connect();
    await client.query('create database unmigrated');
    await client.end();
    const port = await freePort();
    const url = lab.postgres.url.replace(/\/postgres$/, '/unmigrated');
    const node = lab.spawn(['serve'], lab.env({ DATABASE_URL: url, PORT: String(port) }));
    await new Promise<void>((resolve) => {
      if (node.exited()) resolve();
      else node.child.once('exit', () => resolve());
    });
    expect(node.child.exitCode).not.toBe(0);
    expect(node.output()).toContain('npx haven migrate');
    expect(node.output()).not.toMatch(/\n\s+at /);
    expect(node.output()).not.toContain('Haven is listening');
  }, 60_000);
});
