// Audit-log write throughput (issue 9; informational, not part of npm test). Every ratio is
// measured within this one run on this machine, so the machine's speed cancels out.
//   node --import tsx bench/audit.bench.ts        (or: npm run bench)
// BENCH_SECONDS sets the length of each measured phase (default 8), BENCH_WRITERS the
// transactions each node keeps in flight (default 4), BENCH_REQUEST_MS the rest of a request's
// work per transaction in the node-scaling rows (default 10). DATABASE_URL selects PostgreSQL
// (a fresh database is created and dropped; each node is a forked process with its own pool);
// without it, embedded PGlite in this process, and the two-node rows are skipped.
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openDatabase, type Database } from '../server/src/platform/db/database.js';
import { migrateToLatest } from '../server/src/platform/db/migrate.js';
import type { DatabaseSchema } from '../server/src/platform/db/schema.js';
import { sealAuditChain } from '../server/src/platform/audit/seal.js';
import { formatVerification, verifyAuditChain } from '../server/src/platform/audit/verify.js';
import { AUDIT_SEAL_EVERY_MS } from '../server/src/jobs/registry.js';
import { seedPatients, writeLoop, type WriteMode, type WriteResult } from './audit-writes.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 4);
const REQUEST_MS = Number(process.env.BENCH_REQUEST_MS ?? 10);
const PATIENTS = 2_000;
const BASE_URL = process.env.DATABASE_URL;

interface Row {
  readonly measure: string;
  readonly target: string;
  readonly measured: string;
  /** Undefined for informational rows without a target. */
  readonly pass: boolean | undefined;
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
function step(text: string): void {
  process.stdout.write(`  · ${text}\n`);
}

/** One statement on the server DATABASE_URL points at (CREATE/DROP DATABASE). */
async function adminQuery(url: string, text: string): Promise<void> {
  const admin = await openDatabase({ url, embeddedDir: undefined, poolSize: 1 });
  try {
    await sql.raw(text).execute(admin.db);
  } finally {
    await admin.close();
  }
}

/** A node: runs one write phase and reports how many transactions committed. */
type Node = (mode: WriteMode, seconds: number, requestWorkMs: number) => Promise<WriteResult>;

/** Patients the writes pick from (seeded once, sent to the nodes with each run). */
let seeded: { organizationId: string; patients: readonly string[] } = {
  organizationId: '',
  patients: [],
};

function forkNode(url: string): Promise<{ node: Node; stop: () => Promise<void> }> {
  const child: ChildProcess = fork(new URL('./audit-node.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_NODE_DATABASE_URL: url, BENCH_NODE_WRITERS: String(WRITERS) },
  });
  const node: Node = (mode, seconds, requestWorkMs) =>
    new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; result?: WriteResult; error?: string }) => {
        if (message.type === 'done' && message.result) {
          child.off('message', onMessage);
          resolve(message.result);
        } else if (message.type === 'failed') {
          child.off('message', onMessage);
          reject(new Error(message.error));
        }
      };
      child.on('message', onMessage);
      child.send({
        type: 'run',
        run: { mode, seconds, requestWorkMs, writers: WRITERS, ...seeded },
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.removeAllListeners('exit');
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.send({ type: 'stop' });
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench node exited early (code ${code})`)));
    child.once('message', (message: { type: string }) => {
      if (message.type === 'ready') resolve({ node, stop });
    });
  });
}

/**
 * The sealer as the job queue runs it: one call every AUDIT_SEAL_EVERY_MS, on its own handle.
 * Counts what it sealed; `caughtUp` waits until nothing committed is left unsealed.
 */
function startSealer(db: Kysely<DatabaseSchema>) {
  let running = true;
  let sealed = 0;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      sealed += (await sealAuditChain(db)).sealed;
      await sleep(Math.max(0, AUDIT_SEAL_EVERY_MS - (Date.now() - started)));
    }
  })();
  const unsealed = async (): Promise<number> => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from audit_events e
      where not exists (select 1 from audit_seals s where s.seq = e.seq)`.execute(db);
    return rows[0]?.n ?? 0;
  };
  return {
    unsealed,
    async caughtUp(): Promise<{ backlog: number; ms: number }> {
      const started = Date.now();
      const backlog = await unsealed();
      while ((await unsealed()) > 0 && Date.now() - started < 60_000) await sleep(50);
      return { backlog, ms: Date.now() - started };
    },
    get sealed() {
      return sealed;
    },
    async stop(): Promise<void> {
      running = false;
      await loop;
    },
  };
}

async function phase(
  label: string,
  nodes: Node[],
  mode: WriteMode,
  seconds: number,
  requestWorkMs: number,
  warnings: string[],
): Promise<number> {
  const pacing = requestWorkMs > 0 ? `${requestWorkMs} ms request work` : 'back to back';
  step(`${label}: ${nodes.length} node(s) × ${WRITERS} writers, ${mode}, ${pacing}, ${seconds}s`);
  const results = await Promise.all(nodes.map((node) => node(mode, seconds, requestWorkMs)));
  for (const r of results) {
    if (r.errors > 0) warnings.push(`${label}: ${r.errors} failed transactions (${r.firstError})`);
  }
  return results.reduce((n, r) => n + r.writes, 0) / seconds;
}

function printTable(rows: readonly Row[]): void {
  const header: Row = { measure: 'Measure', target: 'Target', measured: 'Measured', pass: true };
  const width = (pick: (row: Row) => string): number =>
    Math.max(...[header, ...rows].map((row) => pick(row).length));
  const [w1, w2, w3] = [width((r) => r.measure), width((r) => r.target), width((r) => r.measured)];
  const line = (row: Row, verdict: string): string =>
    `${row.measure.padEnd(w1)} | ${row.target.padEnd(w2)} | ${row.measured.padEnd(w3)} | ${verdict}`;
  console.log(`\n${line(header, 'Result')}`);
  console.log('-'.repeat(w1 + w2 + w3 + 16));
  const verdict = (row: Row): string =>
    row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'MISS';
  for (const row of rows) console.log(line(row, verdict(row)));
}

async function main(): Promise<void> {
  const engine = BASE_URL ? 'postgres' : 'pglite';
  console.log('Haven audit-log benchmarks (informational; exit code is 0 either way)');
  console.log(
    `  engine: ${engine} · node ${process.version} · ${availableParallelism()} cores · ` +
      `${SECONDS}s per measured phase (two alternating rounds) · ${WRITERS} writers per node · ` +
      `${REQUEST_MS} ms request work · sealer every ${AUDIT_SEAL_EVERY_MS} ms`,
  );
  const loadBefore = loadavg()[0]?.toFixed(2) ?? '?';
  const warnings: string[] = [];
  const rows: Row[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  let dataDir: string | undefined;
  try {
    let database: Database;
    let nodes: Node[];
    let url: string | undefined;
    if (BASE_URL) {
      const name = `haven_bench_${randomBytes(6).toString('hex')}`;
      await adminQuery(BASE_URL, `CREATE DATABASE ${name}`);
      cleanups.push(() => adminQuery(BASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      const u = new URL(BASE_URL);
      u.pathname = `/${name}`;
      url = u.toString();
      database = await openDatabase({ url, embeddedDir: undefined, poolSize: 2 });
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'haven-audit-bench-'));
      database = await openDatabase({ url: undefined, embeddedDir: join(dataDir, 'db') });
    }
    cleanups.unshift(() => database.close());
    await migrateToLatest(database.db);
    seeded = await seedPatients(database.db, PATIENTS);
    if (url !== undefined) {
      const forked = await Promise.all([forkNode(url), forkNode(url)]);
      for (const f of forked) cleanups.unshift(f.stop);
      nodes = forked.map((f) => f.node);
    } else {
      const db = database.db;
      nodes = [
        (mode, seconds, requestWorkMs) =>
          writeLoop(db, { mode, seconds, requestWorkMs, writers: WRITERS, ...seeded }),
      ];
    }
    const [one] = nodes;
    if (one === undefined) throw new Error('no node');
    const sealer = startSealer(database.db);
    cleanups.unshift(() => sealer.stop());

    step('warm-up: 2s plain, 2s audited');
    await phase('warm-up', [one], 'plain', 2, 0, warnings);
    await phase('warm-up', [one], 'audited', 2, 0, warnings);
    await sealer.caughtUp();

    const half = Math.max(2, Math.round(SECONDS / 2));
    const two = nodes.length > 1;
    const m = {
      plain: [] as number[],
      audited: [] as number[],
      flat2: [] as number[],
      paced1: [] as number[],
      paced2: [] as number[],
      locked1: [] as number[],
      locked2: [] as number[],
    };
    const catchUps: Array<{ backlog: number; ms: number }> = [];
    for (let round = 0; round < 2; round += 1) {
      // Back to back: the audit event's whole cost, and what one machine can do.
      m.plain.push(await phase('no audit event', [one], 'plain', half, 0, warnings));
      m.audited.push(await phase('audited', [one], 'audited', half, 0, warnings));
      await sealer.caughtUp();
      if (!two) continue;
      m.flat2.push(await phase('audited', nodes, 'audited', half, 0, warnings));
      catchUps.push(await sealer.caughtUp());
      // Paced like a node serving requests: does a second node add throughput?
      m.paced1.push(await phase('audited', [one], 'audited', half, REQUEST_MS, warnings));
      m.paced2.push(await phase('audited', nodes, 'audited', half, REQUEST_MS, warnings));
      await sealer.caughtUp();
      m.locked1.push(await phase('previous design', [one], 'locked', half, REQUEST_MS, warnings));
      m.locked2.push(await phase('previous design', nodes, 'locked', half, REQUEST_MS, warnings));
      await sealer.caughtUp();
    }

    const versus = (a: number[], b: number[]): string =>
      `${fixed(mean(a) / mean(b))}  (${fixed(mean(a), 0)} vs ${fixed(mean(b), 0)}/s)`;
    if (two) {
      const ratio = mean(m.paced2) / mean(m.paced1);
      rows.push({
        measure: `Audited writes/s, 2 nodes ÷ 1 node (${REQUEST_MS} ms request work)`,
        target: '≥ 1.6',
        measured: versus(m.paced2, m.paced1),
        pass: ratio >= 1.6,
      });
    } else {
      rows.push({
        measure: 'Audited writes/s, 2 nodes ÷ 1 node',
        target: '≥ 1.6',
        measured: 'skipped (needs DATABASE_URL: PGlite is one process)',
        pass: undefined,
      });
    }
    const overhead = mean(m.audited) / mean(m.plain);
    rows.push({
      measure: 'Audited writes/s ÷ same writes, no audit event',
      target: '≥ 0.70',
      measured: `${versus(m.audited, m.plain)}, 1 node, back to back`,
      pass: overhead >= 0.7,
    });
    if (two) {
      rows.push({
        measure: '(info) previous design (global chain lock), 2 nodes ÷ 1 node',
        target: '—',
        measured: `${versus(m.locked2, m.locked1)}, same pacing`,
        pass: undefined,
      });
      rows.push({
        measure: '(info) back to back, 2 nodes ÷ 1 node',
        target: '—',
        measured: `${versus(m.flat2, m.audited)}: the machine's limit`,
        pass: undefined,
      });
      const worst = catchUps.reduce((a, b) => (b.ms > a.ms ? b : a));
      rows.push({
        measure: '(info) sealer catch-up after a 2-node phase',
        target: '—',
        measured: `${worst.ms} ms  (${worst.backlog} events unsealed when writing stopped)`,
        pass: undefined,
      });
    }
    await sealer.caughtUp();
    await sealer.stop();
    cleanups.shift();
    const verification = await verifyAuditChain(database.db);
    rows.push({
      measure: '(info) chain after the run (haven audit-log verify)',
      target: '—',
      measured: formatVerification(verification).replace(/, last hash \w+/, ''),
      pass: undefined,
    });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(rows);
  console.log(
    `\n  load average (1 min): ${loadBefore} before, ${loadavg()[0]?.toFixed(2) ?? '?'} after ` +
      `(${availableParallelism()} cores; other work on the machine changes the figures)`,
  );
  if (warnings.length > 0) {
    console.log('\nWarnings:');
    for (const warning of warnings) console.log(`  - ${warning}`);
  }
}

await main();
