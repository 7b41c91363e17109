// D3 (with L3): `haven audit` must notice the audit log itself losing its protection. Threats:
// someone with the owner role disables the append-only triggers (so events can be edited),
// or rewrites a sealed event; a self-audit that still says PASS lets CI pass that deployment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig, type HavenConfig } from '../../src/config.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import { deriveAuditChainKey } from '../../src/platform/audit/chain-key.js';
import type { Database } from '../../src/platform/db/database.js';
import { createLogger } from '../../src/platform/logging.js';
import { runSelfAudit, type AuditReport } from '../../src/platform/self-audit/index.js';
import { testEnv } from '../app-harness.js';
import { sealEverything } from '../audit-chain.js';
import { createTestDatabase, describeEachEngine } from '../databases.js';
import { tamperWithAudit } from '../tampering.js';

const folders: string[] = [];
afterEach(() => {
  for (const made of folders.splice(0)) rmSync(made, { recursive: true, force: true });
});

const verdictOf = (report: AuditReport, check: string) =>
  report.findings.find((item) => item.check === check)?.verdict;

describeEachEngine('D3 (r3): the audit log as haven audit sees it', (engine) => {
  /** An app on a fresh database, handed to `work`, closed afterwards. */
  async function withApp(
    work: (
      config: HavenConfig,
      app: Awaited<ReturnType<typeof buildApp>>,
      database: Database,
    ) => Promise<void>,
  ): Promise<void> {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-audit-r3-'));
    folders.push(dataDir);
    const database = await createTestDatabase(engine);
    const config = loadConfig(testEnv({ HAVEN_DATA_DIR: dataDir }));
    const app = await buildApp(config, { database, logger: createLogger({ level: 'silent' }) });
    try {
      await app.ready();
      await work(config, app, database);
    } finally {
      await app.close();
      await database.close();
    }
  }

  it("D3/L3: audit_events' append-only triggers disabled are a FAIL (exit 1)", async () => {
    await withApp(async (config, app, database) => {
      const before = await runSelfAudit(config, app, database);
      expect(verdictOf(before, 'append-only triggers')).toBe('PASS');
      await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(database.db);
      try {
        const after = await runSelfAudit(config, app, database);
        expect(verdictOf(after, 'append-only triggers')).toBe('FAIL');
        expect(after.exitCode).toBe(1);
      } finally {
        await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(database.db);
      }
    });
  });

  it('D3/L3: a sealed audit event rewritten afterwards makes the chain check a FAIL (exit 1)', async () => {
    await withApp(async (config, app, database) => {
      for (const outcome of ['success', 'denied', 'success'] as const) {
        await recordAudit(database.db, {
          actor: { type: 'user', id: 'u-r3' },
          action: 'record.view',
          outcome,
        });
      }
      await sealEverything(database.db, { key: deriveAuditChainKey(config.masterKey) });
      const before = await runSelfAudit(config, app, database);
      expect(verdictOf(before, 'audit chain verifies')).toBe('PASS');
      // The denied access is made to look granted.
      await tamperWithAudit(database.db, async (db) => {
        await db
          .updateTable('audit_events')
          .set({ outcome: 'success' })
          .where('outcome', '=', 'denied')
          .where('actor_id', '=', 'u-r3')
          .execute();
      });
      const after = await runSelfAudit(config, app, database);
      expect(verdictOf(after, 'audit chain verifies')).toBe('FAIL');
      expect(after.exitCode).toBe(1);
    });
  });
});
