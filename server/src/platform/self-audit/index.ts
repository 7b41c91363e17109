// D3: `haven audit`, a self-audit of the live configuration, route table, database and audit
// chain against the catalogue (SPEC.md), PASS / WARN / FAIL with evidence, exit 1 on any FAIL.
import type { FastifyInstance } from 'fastify';
import type { HavenConfig } from '../../config.js';
import { runAuditLogVerify } from '../audit/configured.js';
import type { Database } from '../db/database.js';
import { configFindings } from './config-checks.js';
import { finding, toReport, type AuditReport } from './findings.js';
import { liveFindings } from './live-checks.js';

export { formatReport, type AuditReport, type Finding, type Verdict } from './findings.js';
export { headerFindings } from './live-checks.js';

/** Runs every check against an app built (and ready) from `config` on `database`. */
export async function runSelfAudit(
  config: HavenConfig,
  app: FastifyInstance,
  database: Database,
  now: Date = new Date(),
): Promise<AuditReport> {
  const chain = await runAuditLogVerify(config, undefined, () =>
    // The caller owns the connection: verification must not close it.
    Promise.resolve({ db: database.db, close: () => Promise.resolve() }),
  );
  const chainReport = `${chain.stdout}${chain.stderr}`.trim().split('\n');
  return toReport([
    ...configFindings(config),
    ...(await liveFindings(app, config, database, now)),
    finding(
      'L3',
      'audit chain verifies',
      chain.exitCode === 0 ? 'PASS' : 'FAIL',
      chainReport.join(' '),
    ),
  ]);
}
