// D3 (issue 13, item 3): `haven audit` checks the live configuration, route table, headers of a
// real in-process request, database role and audit chain, and exits 1 on FAIL. Threat: a
// deployment that quietly lost a control (a header, the least-privileged role, a retired signing
// key) keeps running as if nothing were wrong; the self-audit must say FAIL, not PASS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/platform/logging.js';
import {
  headerFindings,
  runSelfAudit,
  type AuditReport,
} from '../../src/platform/self-audit/index.js';
import { installSecurityHeaders } from '../../src/platform/http/security-headers.js';
import { haven } from '../cli-process.js';
import { createTestDatabase, describeEachEngine, ENGINES } from '../databases.js';
import { testEnv } from '../app-harness.js';

const folders: string[] = [];
const folder = (prefix: string): string => {
  const made = mkdtempSync(path.join(tmpdir(), prefix));
  folders.push(made);
  return made;
};
afterEach(() => {
  for (const made of folders.splice(0)) rmSync(made, { recursive: true, force: true });
});

const verdictOf = (report: AuditReport, check: string) =>
  report.findings.find((item) => item.check === check)?.verdict;

it('D3/dev defaults: haven audit passes the embedded defaults with warnings, as text and as JSON', async () => {
  const env = { HAVEN_DATA_DIR: folder('haven-audit-cli-') };
  const text = await haven(['audit'], env);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toMatch(/^WARN {2}S1 {3}master key/m);
  expect(text.stdout).toMatch(/^PASS {2}T3 {3}security headers \(GET \/api\)/m);
  expect(text.stdout).toMatch(/\d+ passed, \d+ warnings, 0 failed\.\n$/);

  const json = await haven(['audit', '--json'], env);
  expect(json.code, json.stderr).toBe(0);
  const report = JSON.parse(json.stdout) as AuditReport;
  expect(report.exitCode).toBe(0);
  expect(report.summary.FAIL).toBe(0);
  expect(verdictOf(report, 'audit chain verifies')).toBe('PASS');
  expect(verdictOf(report, 'rate class on every route')).toBe('PASS');
}, 180_000);

describe('D3: headers of a real response', () => {
  it('D3/T3/T2: a response without the security headers is a FAIL for each, naming what is missing', async () => {
    const bare = Fastify();
    bare.get('/readyz', () => ({ ok: true }));
    const response = await bare.inject({ method: 'GET', url: '/readyz' });
    const [headers, hsts] = headerFindings(response, 'bare');
    expect(headers?.verdict).toBe('FAIL');
    expect(headers?.evidence).toContain('x-frame-options');
    expect(headers?.evidence).toContain("CSP default-src 'self'");
    expect(hsts?.verdict).toBe('FAIL');
    await bare.close();
  });

  it('D3/T3: the same route with Haven’s header hook passes, and a weakened CSP fails again', async () => {
    const app = Fastify();
    await installSecurityHeaders(app, null);
    app.get('/readyz', () => ({ ok: true }));
    const good = await app.inject({ method: 'GET', url: '/readyz' });
    expect(headerFindings(good, 'haven').map((item) => item.verdict)).toEqual(['PASS', 'PASS']);
    const weakened = {
      ...good,
      headers: {
        ...good.headers,
        'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'",
      },
    } as typeof good;
    const [headers] = headerFindings(weakened, 'weakened');
    expect(headers?.verdict).toBe('FAIL');
    expect(headers?.evidence).toContain('unsafe-inline');
    await app.close();
  });
});

describeEachEngine('D3: the live database', (engine) => {
  it('D3/A4: with every signing key retired the audit FAILs (exit 1): the JWKS would be empty', async () => {
    const database = await createTestDatabase(engine);
    const config = loadConfig(testEnv({ HAVEN_DATA_DIR: folder('haven-audit-keys-') }));
    const app = await buildApp(config, { database, logger: createLogger({ level: 'silent' }) });
    try {
      await app.ready();
      const before = await runSelfAudit(config, app, database);
      expect(verdictOf(before, 'signing key age')).toBe('PASS');
      await database.db.updateTable('signing_keys').set({ retired_at: new Date() }).execute();
      const after = await runSelfAudit(config, app, database);
      expect(verdictOf(after, 'signing key')).toBe('FAIL');
      expect(after.exitCode).toBe(1);
    } finally {
      await app.close();
      await database.close();
    }
  });
});

// Production needs Redis too: the PostgreSQL runs have REDIS_URL (.ci/run, README).
describe.runIf(ENGINES.includes('postgres') && process.env.REDIS_URL !== undefined)(
  'D3: the database role (PostgreSQL)',
  () => {
    it('D3/L3: production served as the owner role FAILs: it could drop the triggers and rewrite the log', async () => {
      const database = await createTestDatabase('postgres');
      const config = loadConfig(
        testEnv({
          HAVEN_ENV: 'production',
          HAVEN_DATA_DIR: folder('haven-audit-role-'),
          HAVEN_PUBLIC_URL: 'https://haven.example',
          HAVEN_TRUSTED_PROXIES: '127.0.0.1',
          HAVEN_SMTP_URL: 'smtp://127.0.0.1:2525',
          DATABASE_URL: database.url,
          REDIS_URL: process.env.REDIS_URL,
        }),
      );
      const app = await buildApp(config, { database, logger: createLogger({ level: 'silent' }) });
      try {
        await app.ready();
        const report = await runSelfAudit(config, app, database);
        expect(verdictOf(report, 'runtime role cannot rewrite the audit log')).toBe('FAIL');
        expect(verdictOf(report, 'plain HTTP refused')).toBe('PASS');
        expect(report.exitCode).toBe(1);
      } finally {
        await app.close();
        await database.close();
      }
    });
  },
);
