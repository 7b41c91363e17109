// The `haven` command line: serve, worker, migrate, routes, openapi, keys rotate, setup-link, mail,
// audit-log verify, backup and restore (cli/backup-commands.ts), db runtime-role
// (cli/db-commands.ts). Commands that open the embedded database folder lock it first: one process
// at a time (platform/db/data-lock.ts, cli/embedded-folder.ts).
import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { buildApp, createMailer } from './app.js';
import { openFileServices, type FileServices } from './platform/storage/configured.js';
import type { Logger } from 'pino';
import { startupWarnings, type HavenConfig } from './config.js';
import { openDatabase } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { bufferedLogDestination, createLogger } from './platform/logging.js';
import { createWorker, type Worker } from './platform/jobs.js';
import {
  createMetrics,
  startMetricsListener,
  type HavenMetrics,
  type MetricsListener,
} from './platform/metrics/index.js';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from './platform/db/schema.js';
import { jobHandlers, jobLoops, jobSchedules, type JobDependencies } from './jobs/registry.js';
import { auditSealing, runAuditLogVerify } from './platform/audit/configured.js';
import { formatRouteTable } from './platform/http/route-table.js';
import { openApiDocument } from './platform/http/openapi.js';
import { ensureSetupLink, reissueSetupLink } from './modules/identity/index.js';
import { formatMailbox, listDevMailbox } from './platform/mail.js';
import { DATA_LOCK_STALE_MS, DataDirLockedError } from './platform/db/data-lock.js';
import { describeDatabaseFault } from './platform/db/faults.js';
import {
  assertMigrated,
  DatabaseNotMigratedError,
  waitForDatabase,
  warnIfPrivilegedRuntimeRole,
} from './platform/db/startup.js';
import { registerDbCommands } from './cli/db-commands.js';
import { registerAuditCommand } from './cli/audit-command.js';
import { registerBackupCommands } from './cli/backup-commands.js';
import { registerKeysCommands } from './cli/keys-commands.js';
import { configOrExit, lockEmbeddedDir, openConfiguredDatabase } from './cli/embedded-folder.js';

/**
 * How long a stopping process lets running jobs finish before handing them back to the queue:
 * within the 10 s an orchestrator usually waits between SIGTERM and SIGKILL, with room to close.
 */
const JOB_STOP_GRACE_MS = 6_000;

/** How long `serve` waits for a held data-folder lock: past its stale time, with room to spare. */
const SERVE_LOCK_WAIT_MS = DATA_LOCK_STALE_MS + 3_000;

/** Exit status when the data folder is held by another process: try again later (EX_TEMPFAIL). */
const EXIT_FOLDER_IN_USE = 75;

function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

/** Writes a setup link to stdout only: never the log, which may be shipped elsewhere. */
function writeSetupLink(heading: string, link: string): void {
  const rule = '='.repeat(72);
  process.stdout.write(
    `\n${rule}\n  ${heading}\n` +
      `  (valid 24 hours, works once; keep it private):\n\n  ${link}\n${rule}\n\n`,
  );
}

/**
 * On a fresh installation, prints the one-time link that creates the first admin. The database
 * keeps only its hash.
 */
async function printSetupLink(app: FastifyInstance): Promise<void> {
  if (!app.identity) return;
  const embedded = app.config.databaseUrl === undefined;
  const link = await ensureSetupLink(app.identity, {
    onPending: (expiresAt) =>
      process.stdout.write(
        `No users yet, and a setup link was already issued (valid until ${expiresAt.toISOString()}).\n` +
          'It is shown only once; if it is lost, `npx haven setup-link` issues a new one and voids ' +
          `the old${embedded ? ' (stop the server first: it holds the data folder)' : ''}.\n`,
      ),
  });
  if (link) {
    writeSetupLink('FIRST START: create the first admin account with this one-time link', link);
  }
}

/**
 * What the jobs need in this process besides the database: the storage and scanner of the files
 * jobs, and mail (scan results to owners, password-reset links).
 */
function jobDependencies(config: HavenConfig, services: FileServices, logger: Logger) {
  const mailer = createMailer(config, logger);
  return {
    ...auditSealing(config, logger),
    files: {
      storage: services.storage,
      buckets: services.buckets,
      scanner: services.scanner,
      mailer,
      publicOrigin: config.publicOrigin,
    },
    identity: { mailer, publicOrigin: config.publicOrigin, now: () => new Date() },
  };
}

/**
 * Every job this process runs, in worker loops of their own (jobs/registry.ts, jobLoops): a scan
 * waiting on a hung clamd holds only the scan loop, never audit sealing or the other jobs.
 */
function startJobWorkers(options: {
  db: Kysely<DatabaseSchema>;
  dependencies: JobDependencies;
  logger: Logger;
  pollIntervalMs: number;
  onJobFinished: (queue: string, outcome: 'done' | 'retry' | 'failed') => void;
}): Pick<Worker, 'stop'> {
  const workers = jobLoops(jobHandlers(options.dependencies), jobSchedules()).map((loop) =>
    createWorker({
      db: options.db,
      handlers: loop.handlers,
      schedules: loop.schedules,
      log: options.logger.child({ component: 'worker', loop: loop.name }),
      pollIntervalMs: options.pollIntervalMs,
      onJobFinished: options.onJobFinished,
    }),
  );
  for (const worker of workers) worker.start();
  return {
    async stop(stopOptions) {
      await Promise.all(workers.map((worker) => worker.stop(stopOptions)));
    },
  };
}

/** The separate metrics listener (L4) when HAVEN_METRICS_PORT is set; never the public port. */
async function serveMetrics(
  config: HavenConfig,
  metrics: HavenMetrics,
  logger: Logger,
): Promise<MetricsListener | undefined> {
  if (!config.metrics) return undefined;
  return startMetricsListener({ metrics, ...config.metrics, log: logger });
}

async function serve(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger({
    level: config.logLevel,
    destination: bufferedLogDestination(process.stdout.fd),
  });
  for (const warning of startupWarnings(config)) logger.warn(warning);
  // buildApp opens the embedded folder itself; the lock is taken first and held until shutdown.
  // A server restarted right after a crash finds the dead process's lock not yet stale: it waits
  // for that (as long as the stale time and a little more) instead of failing at once.
  const lock = await lockEmbeddedDir(config).catch(async (error: unknown) => {
    if (!(error instanceof DataDirLockedError)) throw error;
    logger.warn(
      `the data folder is locked by another Haven process; waiting up to ${SERVE_LOCK_WAIT_MS / 1000} s in case that process is gone and its lock only has to expire`,
    );
    return lockEmbeddedDir(config, { waitMs: SERVE_LOCK_WAIT_MS });
  });
  let app: FastifyInstance;
  try {
    app = await buildApp(config, { logger });
  } catch (error) {
    await lock?.release();
    throw error;
  }
  await app.listen({ host: config.host, port: config.port });
  const worker = config.jobs.embeddedWorker
    ? startJobWorkers({
        db: app.database.db,
        dependencies: jobDependencies(config, app.fileServices, logger),
        logger,
        pollIntervalMs: config.jobs.pollIntervalMs,
        onJobFinished: app.metrics.jobFinished,
      })
    : undefined;
  const metricsListener = await serveMetrics(config, app.metrics, logger);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  process.stdout.write(
    `Haven is listening on ${config.tls ? 'https' : 'http'}://${config.host}:${port}\n`,
  );
  // The node already serves: a database that fails this check now (a lock held by a migration, a
  // failover) must not end the process. `npx haven setup-link` issues a link at any time.
  await printSetupLink(app).catch((error: unknown) => {
    logger.warn(
      { cause: describeDatabaseFault(error) },
      'could not check for a first-start setup link; `npx haven setup-link` issues one if needed',
    );
  });
  onShutdown(async () => {
    await metricsListener?.close();
    const jobsStopped = worker?.stop({ graceMs: JOB_STOP_GRACE_MS });
    await app.drain.stop(config.limits.shutdownDrainMs, jobsStopped);
    await lock?.release();
  });
}

async function work(): Promise<void> {
  const config = configOrExit();
  if (config.databaseUrl === undefined) {
    process.stderr.write(
      'haven worker: the embedded database belongs to the server process, which runs jobs itself.\n' +
        'Set DATABASE_URL to run separate workers.\n',
    );
    process.exit(2);
  }
  const logger = createLogger({
    level: config.logLevel,
    destination: bufferedLogDestination(process.stdout.fd),
  });
  const database = await openConfiguredDatabase(config);
  // Like serve: wait for a database that is not up yet, refuse one a release behind.
  await waitForDatabase(database, logger);
  await assertMigrated(database);
  await warnIfPrivilegedRuntimeRole(database, logger);
  // The worker's own metrics: its job runs, the scan results it audits, the shared gauges.
  const metrics = createMetrics({ db: database.db, log: logger });
  const worker = startJobWorkers({
    db: database.db,
    dependencies: jobDependencies(config, await openFileServices(config), logger),
    logger,
    pollIntervalMs: config.jobs.pollIntervalMs,
    onJobFinished: metrics.jobFinished,
  });
  const metricsListener = await serveMetrics(config, metrics, logger);
  logger.info('worker started');
  // The worker's poll timers are unref()ed; this keeps the process alive until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  onShutdown(async () => {
    clearInterval(keepAlive);
    await metricsListener?.close();
    await worker.stop({ graceMs: JOB_STOP_GRACE_MS });
    metrics.close();
    await database.close();
  });
}

async function migrate(): Promise<void> {
  const config = configOrExit();
  const database = await openConfiguredDatabase(config);
  try {
    const result = await migrateToLatest(database.db);
    const applied = result.results ?? [];
    process.stdout.write(
      applied.length === 0
        ? 'Database is up to date.\n'
        : applied
            .map((r) => `${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}\n`)
            .join(''),
    );
  } finally {
    await database.close();
  }
}

/**
 * Builds the app only to read what it declares (routes, their schemas): no port is opened, and
 * an in-memory database, since no data is needed, keeps this usable while the server runs.
 */
async function readDeclaredApp<T>(read: (app: FastifyInstance) => T): Promise<T> {
  const config = configOrExit();
  const database = await openDatabase({ url: undefined, embeddedDir: undefined });
  // A throwaway in-memory database, migrated so the app starts as it would in service (identity
  // reads its cookie-key generations before it is ready).
  await migrateToLatest(database.db);
  const app = await buildApp(config, { database, logger: createLogger({ level: 'silent' }) });
  try {
    await app.ready();
    return read(app);
  } finally {
    await app.close();
    await database.close();
  }
}

async function routes(): Promise<void> {
  process.stdout.write(await readDeclaredApp((app) => formatRouteTable(app.routeTable)));
}

async function openapi(options: { out?: string }): Promise<void> {
  const document = await readDeclaredApp(openApiDocument);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (options.out === undefined) {
    process.stdout.write(text);
    return;
  }
  await writeFile(options.out, text);
  process.stdout.write(`OpenAPI ${document.openapi} document written to ${options.out}\n`);
}

async function verifyAuditLog(options: { anchors?: string }): Promise<void> {
  const config = configOrExit();
  const outcome = await runAuditLogVerify(config, options.anchors, () =>
    openConfiguredDatabase(config),
  );
  process.stdout.write(outcome.stdout);
  process.stderr.write(outcome.stderr);
  // Set after closing: PGlite's WebAssembly runtime resets process.exitCode when it shuts down.
  process.exitCode = outcome.exitCode;
}

async function newSetupLink(): Promise<void> {
  const config = configOrExit();
  const database = await openConfiguredDatabase(config);
  let link: string | null;
  try {
    // The embedded mode migrates at start, so a folder the server never opened works too.
    if (database.engine === 'pglite') await migrateToLatest(database.db);
    link = await reissueSetupLink({ db: database.db, config, now: () => new Date() });
  } finally {
    await database.close();
  }
  if (link === null) {
    process.stderr.write(
      'haven setup-link: Haven already has users, so no setup link was issued: it only creates ' +
        'the first admin. Admins invite people from the admin pages; someone who lost access ' +
        'resets their password, or an admin sends a new invitation.\n',
    );
    // Set after closing: PGlite's WebAssembly runtime resets process.exitCode when it shuts down.
    process.exitCode = 1;
    return;
  }
  writeSetupLink('NEW SETUP LINK: any earlier setup link no longer works', link);
}

async function showMailbox(): Promise<void> {
  const config = configOrExit();
  process.stdout.write(formatMailbox(await listDevMailbox(config.dataDir)));
}

export function createCli(): Command {
  const program = new Command('haven')
    .description('Haven: secure clinical data, case reviews and medical file uploads.')
    .showHelpAfterError();
  program.command('serve').description('serve the API and the web app').action(serve);
  program.command('worker').description('run background jobs (needs DATABASE_URL)').action(work);
  program.command('migrate').description('apply database migrations').action(migrate);
  program
    .command('routes')
    .description('print the route table: method, path, access, scopes, rate class')
    .action(routes);
  program
    .command('openapi')
    .description('print the OpenAPI 3.1 document of the API, generated from the route table')
    .option('-o, --out <file>', 'write the document to this file instead of stdout')
    .action(openapi);
  registerKeysCommands(program);
  program
    .command('setup-link')
    .description(
      'issue a new first-admin setup link and void the old one (only while there are no users)',
    )
    .action(newSetupLink);
  program
    .command('mail')
    .description('list the development mailbox (embedded mode)')
    .action(showMailbox);
  const audit = program.command('audit-log').description('audit log tools');
  audit
    .command('verify')
    .description('verify the audit hash chain and its anchors; exits 1 on tampering')
    .option('--anchors <file>', 'anchors to check against (default <data dir>/audit-anchors.jsonl)')
    .action(verifyAuditLog);
  registerBackupCommands(program);
  registerAuditCommand(program);
  registerDbCommands(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await createCli().parseAsync([...argv]);
  } catch (error) {
    // Expected refusals: one paragraph for the operator, no stack trace.
    if (error instanceof DataDirLockedError) {
      process.stderr.write(`haven: ${error.message}\n`);
      process.exitCode = EXIT_FOLDER_IN_USE;
    } else if (error instanceof DatabaseNotMigratedError) {
      process.stderr.write(`haven: refusing to start. ${error.message}\n`);
      process.exitCode = 78; // EX_CONFIG: the operator must act before a restart can help
    } else {
      throw error;
    }
  }
}
