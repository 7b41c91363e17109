// The database handle: Kysely on PostgreSQL, through PGlite (embedded, directory-backed)
// when DATABASE_URL is unset and through node-postgres when it is set. Same SQL either way.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import {
  DurableNodeFS,
  durableStartParams,
  refuseAfterFatalError,
  type Flushes,
} from './durable-nodefs.js';
import type { DatabaseSchema } from './schema.js';

export type Engine = 'pglite' | 'postgres';

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly engine: Engine;
  /** The embedded instance, when engine is pglite (dumps, direct access in tests). */
  readonly pglite: PGlite | undefined;
  /** Liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; undefined selects embedded PGlite. */
  readonly url: string | undefined;
  /** Folder for PGlite files; undefined keeps PGlite in memory (tests). */
  readonly embeddedDir: string | undefined;
  readonly poolSize?: number;
  /** A PGlite data-directory dump to start from (tests clone one migrated database). */
  readonly embeddedTemplate?: Blob;
  /**
   * PostgreSQL only: longest a statement may run (default 30 s). The server passes a bound below
   * its request timeout, so a blocked query ends in 503 + Retry-After before the socket is cut.
   */
  readonly statementTimeoutMs?: number;
  /**
   * PostgreSQL only: longest a statement waits for a lock (default: the statement timeout). A
   * table locked elsewhere (a long migration, an operator's psql) answers 503 within seconds.
   */
  readonly lockTimeoutMs?: number;
  /** Told about connections that fail outside a query (restart, failover, proxy reset). */
  readonly onConnectionError?: (error: Error) => void;
  /** How the embedded database flushes files and folders to disk (tests count the flushes). */
  readonly embeddedFlushes?: Flushes;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url !== undefined) {
    const statementTimeout = options.statementTimeoutMs ?? 30_000;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // A hung query must not hold a request forever, nor wait forever for a lock.
      statement_timeout: statementTimeout,
      lock_timeout: Math.min(options.lockTimeoutMs ?? statementTimeout, statementTimeout),
      idle_in_transaction_session_timeout: 60_000,
      // A database that is unreachable (not refusing: silent) fails the request in seconds
      // instead of hanging it; the caller gets 503 and retries.
      connectionTimeoutMillis: 5_000,
      // Client-side bound on a query whose server vanished without closing the socket.
      query_timeout: statementTimeout + 5_000,
      keepAlive: true,
    });
    const onConnectionError = options.onConnectionError ?? (() => undefined);
    // node-postgres emits 'error' on a client whose connection drops. The pool listens only
    // while the client is idle; a client checked out for a query has no listener, and an
    // unhandled 'error' event ends the process. So every client gets a listener for life:
    // the query in flight is rejected (the request answers 503), the pool discards the
    // broken client on release, and the next checkout opens a fresh connection.
    pool.on('connect', (client) => {
      client.on('error', onConnectionError);
    });
    pool.on('error', onConnectionError);
    const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
    return wrap(db, 'postgres', undefined);
  }
  let dataDir: string | undefined;
  if (options.embeddedDir !== undefined) {
    mkdirSync(options.embeddedDir, { recursive: true });
    dataDir = path.resolve(options.embeddedDir);
  }
  // A folder-backed database flushes every commit to disk before it is acknowledged
  // (durable-nodefs.ts); an in-memory one (tests) has no disk to flush to.
  const durableFs =
    dataDir === undefined ? undefined : new DurableNodeFS(dataDir, options.embeddedFlushes);
  const pglite = new PGlite({
    ...(durableFs === undefined ? {} : { fs: durableFs, startParams: durableStartParams() }),
    ...(options.embeddedTemplate ? { loadDataDir: options.embeddedTemplate } : {}),
  });
  await pglite.waitReady;
  if (durableFs !== undefined) refuseAfterFatalError(pglite, durableFs);
  const db = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite) });
  return wrap(db, 'pglite', pglite);
}

function wrap(db: Kysely<DatabaseSchema>, engine: Engine, pglite: PGlite | undefined): Database {
  return {
    db,
    engine,
    pglite,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
