// Start-up against a database that may not be there yet (a container starting before its
// database, a restart during a deploy) or not migrated yet (a new release started before
// `haven migrate`). The first waits with a log line per attempt; the second is refused with
// the command to run, not a stack trace.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { describeDatabaseFault, isDatabaseUnavailable } from './faults.js';
import { pendingMigrations } from './migrate.js';
import { describeRuntimePrivileges } from './runtime-privileges.js';

export class DatabaseNotMigratedError extends Error {
  constructor(readonly pending: readonly string[]) {
    super(
      `The database is missing ${pending.length} migration(s) (${pending.join(', ')}). ` +
        'Run `npx haven migrate` against it, then start Haven again.',
    );
    this.name = 'DatabaseNotMigratedError';
  }
}

export interface WaitOptions {
  /** First delay between attempts; doubles up to maxDelayMs. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Stop waiting (tests, shutdown). */
  readonly signal?: AbortSignal;
}

/**
 * Resolves once the database answers. Unreachable: logs and retries with capped backoff,
 * forever (an orchestrator restarting us would only add noise). Any other error (bad
 * credentials, unknown database) is not transient and is thrown.
 */
export async function waitForDatabase(
  database: Database,
  log: Logger,
  options: WaitOptions = {},
): Promise<void> {
  let delay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await database.ping();
      if (attempt > 1) log.info({ attempt }, 'database reachable; continuing start-up');
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      log.warn(
        { attempt, retryInMs: delay, cause: describeDatabaseFault(error) },
        `database unreachable; waiting for it (retrying in ${Math.round(delay / 100) / 10} s)`,
      );
      await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
      delay = Math.min(maxDelay, delay * 2);
    }
  }
}

/** Throws DatabaseNotMigratedError when this build knows migrations the database lacks. */
export async function assertMigrated(database: Database): Promise<void> {
  const pending = await pendingMigrations(database.db);
  if (pending.length > 0) throw new DatabaseNotMigratedError(pending);
}

/**
 * L3 (issue 16): warns, once, when Haven serves PostgreSQL as a role that could rewrite or cut
 * the audit log (its owner, a superuser, or a role holding UPDATE/DELETE on it): the usual sign
 * that DATABASE_URL still names the migration role. A warning and not a refusal, in production
 * too: the append-only triggers still hold against the application's own queries, and an
 * installation upgraded in place must keep starting until the operator creates the role. A
 * failed check is logged and never stops start-up.
 */
export async function warnIfPrivilegedRuntimeRole(database: Database, log: Logger): Promise<void> {
  if (database.engine !== 'postgres') return;
  try {
    const privileges = await describeRuntimePrivileges(database.db);
    if (privileges.safe) return;
    log.warn(
      { dbRole: privileges.role, problems: privileges.problems },
      `database role ${privileges.role} could rewrite or cut the audit log ` +
        `(${privileges.problems.join('; ')}). Serve with a least-privileged runtime role: run ` +
        '`npx haven db runtime-role --role haven_app` as this role and set DATABASE_URL to ' +
        'haven_app (docs/database-roles.md).',
    );
  } catch (error) {
    log.warn(
      { cause: describeDatabaseFault(error) },
      'could not check the privileges of the database role (docs/database-roles.md)',
    );
  }
}
