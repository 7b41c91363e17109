// `haven audit` (D3): builds the app exactly as `serve` would from this configuration, on the
// configured database (the embedded folder under its lock), runs the self-audit, prints it.
import type { Command } from 'commander';
import { buildApp } from '../app.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { createLogger } from '../platform/logging.js';
import { formatReport, runSelfAudit } from '../platform/self-audit/index.js';
import { configOrExit, openConfiguredDatabase } from './embedded-folder.js';

async function selfAudit(options: { json?: boolean }): Promise<void> {
  const config = configOrExit();
  const database = await openConfiguredDatabase(config);
  let output: string;
  let exitCode: number;
  try {
    // The embedded mode migrates at start (as `serve` does); PostgreSQL is migrated by the
    // operator as the owner role, and a pending migration is a finding.
    if (database.engine === 'pglite') await migrateToLatest(database.db);
    const app = await buildApp(config, { database, logger: createLogger({ level: 'silent' }) });
    try {
      await app.ready();
      const report = await runSelfAudit(config, app, database);
      output =
        options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report);
      exitCode = report.exitCode;
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
  // Set after closing: PGlite's WebAssembly runtime resets process.exitCode when it shuts down.
  process.stdout.write(output);
  process.exitCode = exitCode;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'self-audit of the live configuration, routes, headers, database role and audit chain (D3); exits 1 on FAIL',
    )
    .option('--json', 'print the findings as JSON')
    .action(selfAudit);
}
