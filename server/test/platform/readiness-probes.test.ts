// /readyz with a hung malware scanner (F5, L4; left open by probe "faults2"): the scanner is only
// reported, never a reason to be unready, yet a clamd that takes the connection and never answers
// held every /readyz for the probe's whole 2 s, after the other checks' own waits. A load
// balancer that gives its probe one second took such a node out though nothing it needs was
// wrong. Now the checks run at once, a reported check gets REPORTED_PROBE_MS, and concurrent or
// repeated requests within SCANNER_PROBE_REUSE_MS share one probe: /readyz is public, and each
// probe is a connection to clamd.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPORTED_PROBE_MS, SCANNER_PROBE_REUSE_MS } from '../../src/platform/http/health.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { startHungClamd, type HungClamd } from '../hung-clamd.js';

describeEachEngine('readiness with a hung scanner', (engine) => {
  let clamd: HungClamd;
  let harness: TestApp;

  beforeAll(async () => {
    clamd = await startHungClamd();
    harness = await createTestApp(engine, {
      env: { HAVEN_CLAMD_URL: `tcp://127.0.0.1:${clamd.port}` },
    });
  });
  afterAll(async () => {
    await harness?.close();
    await clamd?.close();
  });

  const readyz = () => harness.app.inject({ method: 'GET', url: '/readyz' });

  it('F5/hung scanner vs readiness: /readyz answers ready within a load balancer’s second, the scanner reported as failed', async () => {
    const started = performance.now();
    const answer = await readyz();
    const took = performance.now() - started;
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      status: 'ready',
      checks: { database: 'ok', scanner: 'failed' },
    });
    expect(clamd.connections()).toBeGreaterThan(0);
    // Bounded by the reported checks' wait (750 ms), not the scanner's own 2 s probe timeout;
    // the old sequential checks took at least 2 s here.
    expect(REPORTED_PROBE_MS).toBeLessThan(1000);
    expect(took).toBeLessThan(1500);
  });

  it('F5/readiness as a clamd amplifier: concurrent and repeated /readyz share one scanner probe', async () => {
    // A fresh window: the probe of the test before is older than the reuse period.
    await new Promise((resolve) => setTimeout(resolve, SCANNER_PROBE_REUSE_MS));
    const before = clamd.connections();
    const answers = await Promise.all(Array.from({ length: 20 }, () => readyz()));
    expect(answers.map((answer) => answer.json().checks.scanner)).toEqual(Array(20).fill('failed'));
    expect(clamd.connections() - before).toBe(1);
  });
});
