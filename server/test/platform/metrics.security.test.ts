// L4: Prometheus metrics on a listener of their own, never on the public port. Request latency is
// labelled by route pattern (no ids, no query strings); sign-in failures, lockouts and 429s are
// counted; the job queue and the audit chain's backlog are read from the database at scrape
// time; and a scrape still answers when the database is gone.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { enqueueJob } from '../../src/platform/jobs.js';
import { createLogger } from '../../src/platform/logging.js';
import { startMetricsListener, type MetricsListener } from '../../src/platform/metrics/index.js';
import { countAuditEvent } from '../../src/platform/metrics/audit-counters.js';
import { defineMetrics } from '../../src/platform/metrics/registry.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { createTestDatabase, describeEachEngine, type TestDatabase } from '../databases.js';

const silent = createLogger({ level: 'silent' });

/** The value of the one sample of `name` whose labels include `labels`; undefined if none. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? '';
    const present = labelText === '' ? [] : labelText.split(/,(?=[a-z_]+=")/);
    if (wanted.every((label) => present.includes(label))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

async function scrape(listener: MetricsListener): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
  return { status: response.status, text: await response.text() };
}

describeEachEngine('L4 metrics', (engine) => {
  let database: TestDatabase;
  let node: TestApp;
  let listener: MetricsListener;
  let origin: string;

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    node = await createTestApp(engine, {
      database,
      env: { HAVEN_RATE_AUTH: '1000/60', HAVEN_RATE_PUBLIC: '1000/60' },
    });
    origin = node.config.publicOrigin;
    listener = await startMetricsListener({
      metrics: node.app.metrics,
      host: '127.0.0.1',
      port: 0,
      log: silent,
    });
  });
  afterAll(async () => {
    await listener.close();
    await node.close();
    await database.close();
  });

  it('L4/not public: the public app answers /metrics with 404, whatever the method', async () => {
    for (const method of ['GET', 'HEAD', 'POST'] as const) {
      const response = await node.app.inject({ method, url: '/metrics', headers: { origin } });
      expect(response.statusCode, method).toBe(404);
    }
    const json = (await node.app.inject({ method: 'GET', url: '/metrics' })).json();
    expect(json).toMatchObject({ code: 'NOT_FOUND' });
    // The listener itself serves /metrics only.
    const other = await fetch(`http://127.0.0.1:${listener.port}/api/auth/me`);
    expect(other.status).toBe(404);
  });

  it('L4/not public: with the web app built, /metrics is a 404, not the app page', async () => {
    const webDir = mkdtempSync(path.join(tmpdir(), 'haven-web-'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Haven</title>');
    const withSpa = await createTestApp(engine, { database, env: { HAVEN_WEB_DIR: webDir } });
    try {
      // The app's own pages fall back to the SPA, so the 404s below are not for want of one.
      expect((await withSpa.app.inject({ method: 'GET', url: '/patients' })).statusCode).toBe(200);
      for (const url of ['/metrics', '/metrics/', '/metrics?name[]=x']) {
        const response = await withSpa.app.inject({ method: 'GET', url });
        expect(response.statusCode, url).toBe(404);
        expect(response.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      }
    } finally {
      await withSpa.close();
      rmSync(webDir, { recursive: true, force: true });
    }
  });

  it('L4/route label: latency is labelled by the route pattern, never by the raw id or query', async () => {
    const id = randomUUID();
    const response = await node.app.inject({
      method: 'GET',
      url: `/api/patients/${id}?secret=query-value`,
    });
    expect(response.statusCode).toBe(401);
    await node.app.inject({ method: 'GET', url: `/no/such/${id}` });
    const { status, text } = await scrape(listener);
    expect(status).toBe(200);
    expect(
      sample(text, 'haven_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/patients/:patientId',
        status_class: '4xx',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'haven_http_request_duration_seconds_count', { route: 'unmatched' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'haven_http_errors_total', { code: 'UNAUTHENTICATED' })).toBeGreaterThan(0);
    expect(text).not.toContain(id);
    expect(text).not.toContain('query-value');
    // Process metrics come with the listener.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('L4/auth failures: a failed sign-in and a lockout raise their counters, with no email in any label', async () => {
    const email = `metrics-${randomUUID().slice(0, 8)}@example.org`;
    const before = (await scrape(listener)).text;
    const failures = (text: string) =>
      sample(text, 'haven_auth_failures_total', { action: 'auth.login', outcome: 'failure' }) ?? 0;
    const lockouts = (text: string) =>
      sample(text, 'haven_auth_lockouts_total', { action: 'auth.login' }) ?? 0;
    const signIn = () =>
      node.app.inject({
        method: 'POST',
        url: '/api/auth/session',
        headers: { origin },
        payload: { email, password: 'not the password at all' },
      });
    expect((await signIn()).statusCode).toBe(401);
    const afterOne = (await scrape(listener)).text;
    expect(failures(afterOne)).toBe(failures(before) + 1);
    expect(lockouts(afterOne)).toBe(lockouts(before));
    // From the fifth failure the address backs off: the next attempt is a lockout.
    for (let i = 0; i < 4; i++) expect((await signIn()).statusCode).toBe(401);
    const locked = await signIn();
    expect(locked.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
    const after = (await scrape(listener)).text;
    expect(failures(after)).toBe(failures(before) + 5);
    expect(lockouts(after)).toBe(lockouts(before) + 1);
    expect(
      sample(after, 'haven_audit_events_total', { action: 'auth.login', outcome: 'denied' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'haven_http_errors_total', { code: 'LOGIN_BACKOFF' })).toBeGreaterThan(0);
    expect(after).not.toContain(email);
  });

  it('L4/rate limit: a 429 raises the rate-limit counter of its class', async () => {
    const limited = await createTestApp(engine, { database, env: { HAVEN_RATE_PUBLIC: '2/60' } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await limited.app.inject({
          method: 'GET',
          url: '/healthz',
          remoteAddress: '192.0.2.44',
        });
        codes.push(response.statusCode);
      }
      expect(codes).toEqual([200, 200, 429]);
      const text = await limited.app.metrics.scrape();
      expect(sample(text, 'haven_rate_limit_hits_total', { rate_class: 'public' })).toBe(1);
      expect(sample(text, 'haven_http_errors_total', { code: 'RATE_LIMITED' })).toBe(1);
      // Each app counts on its own registry: the other app saw no 429.
      const other = (await scrape(listener)).text;
      expect(sample(other, 'haven_rate_limit_hits_total', { rate_class: 'public' })).toBe(
        undefined,
      );
    } finally {
      await limited.close();
    }
  });

  it('L4/gauges: the queue depth and age reflect an enqueued job; the audit backlog is read', async () => {
    const queue = `metrics.test.${randomUUID().slice(0, 8)}`;
    const before = (await scrape(listener)).text;
    expect(sample(before, 'haven_job_queue_depth', { queue })).toBe(undefined);
    await enqueueJob(database.db, queue, {});
    await enqueueJob(database.db, queue, {});
    // A job scheduled for later is not waiting yet.
    await enqueueJob(database.db, queue, {}, { runAt: new Date(Date.now() + 3_600_000) });
    const { text } = await scrape(listener);
    expect(sample(text, 'haven_job_queue_depth', { queue, status: 'pending' })).toBe(2);
    expect(sample(text, 'haven_job_queue_oldest_age_seconds', { queue })).toBeGreaterThanOrEqual(0);
    // Earlier tests audited sign-ins and no sealer runs here: they wait in the backlog.
    expect(sample(text, 'haven_audit_unsealed_events')).toBeGreaterThan(0);
    expect(sample(text, 'haven_audit_oldest_unsealed_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'haven_metrics_collect_errors_total', { collector: 'jobs' })).toBe(
      undefined,
    );
  });

  it('L4/database down: a scrape still answers when the database is closed, counting the failed gauges', async () => {
    const own = await createTestDatabase(engine);
    const app = await createTestApp(engine, { database: own });
    const ownListener = await startMetricsListener({
      metrics: app.app.metrics,
      host: '127.0.0.1',
      port: 0,
      log: silent,
    });
    try {
      await enqueueJob(own.db, 'metrics.down', {});
      expect(
        sample((await scrape(ownListener)).text, 'haven_job_queue_depth', {
          queue: 'metrics.down',
        }),
      ).toBe(1);
      await own.close();
      const { status, text } = await scrape(ownListener);
      expect(status).toBe(200);
      expect(sample(text, 'haven_metrics_collect_errors_total', { collector: 'jobs' })).toBe(1);
      expect(sample(text, 'haven_metrics_collect_errors_total', { collector: 'audit_chain' })).toBe(
        1,
      );
      // The stale readings are left out, not reported as if current.
      expect(sample(text, 'haven_job_queue_depth', { queue: 'metrics.down' })).toBe(undefined);
      expect(sample(text, 'haven_audit_unsealed_events')).toBe(undefined);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      await ownListener.close();
      await app.app.close();
    }
  });
});

describe('L4 alert rules and dashboard', () => {
  it.each([
    ['deploy/prometheus/alerts.yml', 8],
    ['deploy/grafana/haven-dashboard.json', 12],
  ])('L4/alert rules: every metric %s names is one Haven declares', async (file, atLeast) => {
    const rules = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    const registry = new Registry();
    defineMetrics(registry);
    const declared = new Set(
      (await registry.getMetricsAsJSON()).flatMap((metric) =>
        String(metric.type) === 'histogram'
          ? ['_bucket', '_sum', '_count'].map((suffix) => `${metric.name}${suffix}`)
          : [metric.name],
      ),
    );
    const named = [...new Set(rules.match(/\bhaven_[a-z_]+/g) ?? [])];
    expect(named.length).toBeGreaterThanOrEqual(atLeast);
    expect(named.filter((name) => !declared.has(name))).toEqual([]);
  });
});

describe('L4 counters from audit events', () => {
  it('L4/audit counters: refresh reuse, break-glass grants and scan results are counted from their events', async () => {
    const registry = new Registry();
    const set = defineMetrics(registry);
    const system = { type: 'system' as const };
    const events = [
      { actor: system, action: 'auth.refresh_reuse', outcome: 'denied' as const },
      { actor: system, action: 'breakglass.granted', outcome: 'success' as const },
      { actor: system, action: 'file.scan.clean', outcome: 'success' as const },
      {
        actor: system,
        action: 'file.quarantine',
        outcome: 'success' as const,
        details: { reason: 'malware:Eicar-Signature' },
      },
      {
        actor: system,
        action: 'file.quarantine',
        outcome: 'success' as const,
        details: { reason: 'not_scannable:size limit' },
      },
      {
        actor: system,
        action: 'file.quarantine',
        outcome: 'success' as const,
        details: { reason: 'type_mismatch:zip' },
      },
      {
        actor: system,
        action: 'auth.step_up',
        outcome: 'denied' as const,
        details: { reason: 'backoff' },
      },
    ];
    for (const event of events) countAuditEvent(set, event);
    const text = await registry.metrics();
    expect(sample(text, 'haven_auth_refresh_reuse_total')).toBe(1);
    expect(sample(text, 'haven_breakglass_grants_total')).toBe(1);
    for (const result of ['clean', 'infected', 'error', 'rejected']) {
      expect(sample(text, 'haven_file_scans_total', { result }), result).toBe(1);
    }
    expect(sample(text, 'haven_auth_lockouts_total', { action: 'auth.step_up' })).toBe(1);
    expect(sample(text, 'haven_audit_events_total', { action: 'file.quarantine' })).toBe(3);
    // The signature is a detail, never a label.
    expect(text).not.toContain('Eicar');
  });
});
