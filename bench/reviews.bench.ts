// Research reviews benchmarks (issue 10; informational, not part of npm test). Needs
// PostgreSQL: the baselines are PostgreSQL's own COPY, so without DATABASE_URL it prints
// "skipped" and exits 0.
//   DATABASE_URL=postgres://user@127.0.0.1/postgres node --import tsx bench/reviews.bench.ts
// The server is a forked child (reviews-server.ts) on a fresh database, so its RSS can be read
// from /proc and autocannon and psql do not share its event loop. Every ratio compares figures
// taken in this run on this machine. BENCH_SECONDS sets the next-case phase (default 8),
// BENCH_EXPORT_ROWS the answers exported (default 1,000,000), BENCH_IMPORT_ROWS the sheet's
// assignments (default 100,000), BENCH_ONLY some rows (next, export, import; comma-separated),
// BENCH_DEBUG=1 prints the seeding steps.
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import type { Client, Options, Result } from 'autocannon';
import { pacedLoad, quantile } from './paced-load.js';
import type {
  ExportSeeded,
  TokenSeeded,
  ImportSeeded,
  NextSeeded,
  ReviewsReady,
  SeedRequest,
} from './reviews-server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const EXPORT_ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? 'next,export,import').split(',').map((name) => name.trim()),
);

/** The data for "next case". */
const NEXT_CASES = 10_000;
const NEXT_PARTICIPANTS = 500;
const NEXT_PER_PARTICIPANT = 20;
/** At most this many connections, each request a different one of as many participants. */
const NEXT_CONNECTIONS = 10;
const NEXT_RATE = 200;
/** The largest page the export route serves (MAX_EXPORT_LIMIT). */
const EXPORT_PAGE = 100_000;
/** Import sheets: the 500 participants, each given rows ÷ 500 cases. */
const IMPORT_PARTICIPANTS = 500;
const IMPORT_PATH = 'vitals/heart_rate';
/** Nothing here should take longer; a hung request ends the run instead of the machine's day. */
const REQUEST_TIMEOUT_MS = 15 * 60 * 1000;
const RSS_SAMPLE_MS = 100;

interface Row {
  readonly measure: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}

// autocannon is CommonJS with `export =` typings (see load.ts).
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: Options,
) => Promise<Result>;

/** Problems seen during the run; printed under the table. */
const notes: string[] = [];

function start(): Promise<{ child: ChildProcess; ready: ReviewsReady }> {
  // BENCH_SERVER_FLAGS: more Node flags for the server alone, e.g. "--trace-gc".
  const serverFlags = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = fork(new URL('./reviews-server.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...serverFlags],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`reviews-server.ts exited early (${code})`)));
    child.on('message', (message: { type: string }) => {
      if (message.type === 'ready') resolve({ child, ready: message as ReviewsReady });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}

/** Asks the server to seed one row's data; resolves with its answer. */
function seed<T extends { type: string }>(child: ChildProcess, request: SeedRequest): Promise<T> {
  const answerType = request.type.replace('seed-', 'seeded-');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', listener);
      reject(new Error(`${request.type} took longer than ${REQUEST_TIMEOUT_MS / 60_000} minutes`));
    }, REQUEST_TIMEOUT_MS);
    const listener = (message: { type: string; message?: string }): void => {
      if (message.type === answerType) {
        clearTimeout(timer);
        child.off('message', listener);
        resolve(message as T);
      } else if (message.type === 'seed-failed') {
        clearTimeout(timer);
        child.off('message', listener);
        reject(new Error(`seeding failed: ${message.message}`));
      }
    };
    child.on('message', listener);
    child.send(request);
  });
}

/** The server process's resident memory (bytes) every 100 ms, while `work` runs. */
async function sampleRss<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ result: T; before: number; peak: number }> {
  const read = (): number => {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? Number.NaN) * 1024;
  };
  const before = read();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, read())), RSS_SAMPLE_MS);
  try {
    const result = await work();
    peak = Math.max(peak, read());
    return { result, before, peak };
  } finally {
    clearInterval(timer);
  }
}

/** Line feeds in a stream of bytes (no cell of these CSVs holds one, so lines are rows). */
function countLines(chunk: Uint8Array): number {
  const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let lines = 0;
  for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) lines += 1;
  return lines;
}

/** psql running one statement: its stdin fed `input`, its stdout's lines counted. */
function psql(
  databaseUrl: string,
  statement: string,
  input?: string,
): Promise<{ lines: number; stderr: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      'psql',
      ['-X', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, '-c', statement],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let lines = 0;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), REQUEST_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => (lines += countLines(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`psql failed (${code}): ${stderr}`));
      else resolve({ lines, stderr, seconds: (performance.now() - started) / 1000 });
    });
    child.stdin.end(input ?? '');
  });
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const megabytes = (bytes: number): string => `${fixed(bytes / 1024 / 1024, 1)} MB`;
const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');

async function nextCaseRow(child: ChildProcess, ready: ReviewsReady, rows: Row[]): Promise<void> {
  process.stdout.write(
    `  · next case: seeding ${thousands(NEXT_CASES)} cases, ${NEXT_PARTICIPANTS} participants × ` +
      `${NEXT_PER_PARTICIPANT} assignments\n`,
  );
  const seeded = await seed<NextSeeded>(child, {
    type: 'seed-next',
    cases: NEXT_CASES,
    participants: NEXT_PARTICIPANTS,
    perParticipant: NEXT_PER_PARTICIPANT,
    tokens: NEXT_CONNECTIONS,
  });
  process.stdout.write(`    seeded in ${fixed(seeded.seedMs / 1000, 1)} s\n`);
  const url = `${ready.appUrl}/api/reviews/studies/${seeded.studyId}/next`;
  // Each participant must get a case (they all have unanswered ones), not `done`.
  for (const authorization of seeded.authorizations) {
    const response = await fetch(url, { headers: { authorization } });
    const body = (await response.json()) as { done?: boolean };
    if (response.status !== 200 || body.done !== false) {
      throw new Error(
        `next case did not answer with a case: HTTP ${response.status} ${JSON.stringify(body)}`,
      );
    }
  }
  // Participants arrive as independent people do (Poisson, open loop; bench/paced-load.ts says
  // why not autocannon's per-second release), each request a different one of the 10.
  const paced = (seconds: number, seed: number) =>
    pacedLoad({
      url,
      rate: NEXT_RATE,
      seconds,
      connections: NEXT_CONNECTIONS,
      seed,
      headersOf: (index) => ({
        authorization: seeded.authorizations.at(index % seeded.authorizations.length) ?? '',
      }),
    });
  await paced(2, 7); // warm-up: connections, JIT, the study's pages in PostgreSQL's cache
  const result = await paced(SECONDS, 1);
  if (result.non2xx > 0 || result.errors > 0) {
    notes.push(
      `next case: ${result.non2xx} non-2xx responses, ${result.errors} errors out of ${result.sent}`,
    );
  }
  const p99 = quantile(result.latencies, 0.99);
  rows.push({
    measure: `GET /api/reviews/studies/:id/next p99 (${NEXT_RATE} req/s Poisson, ${NEXT_CONNECTIONS} participants)`,
    target: '< 20 ms',
    measured:
      `${fixed(p99, 1)} ms  (p50 ${fixed(quantile(result.latencies, 0.5), 1)} ms, ` +
      `${fixed(result.rate, 0)} req/s)`,
    pass: p99 < 20,
  });
  // For comparison with earlier figures: autocannon's per-connection rate, which releases each
  // connection's requests for a second together (10 at once at the start of every second).
  let connection = 0;
  const burst = await autocannon({
    url,
    duration: SECONDS,
    connections: NEXT_CONNECTIONS,
    overallRate: NEXT_RATE,
    pipelining: 1,
    setupClient: (client: Client) => {
      client.setHeaders({
        authorization: seeded.authorizations[connection % seeded.authorizations.length],
      });
      connection += 1;
    },
  });
  rows.push({
    measure: `(info) the same with autocannon's per-second release (bursts of ${NEXT_CONNECTIONS})`,
    target: '—',
    measured: `${burst.latency.p99} ms  (p50 ${burst.latency.p50} ms)`,
    pass: undefined,
  });
}

/** The answers export's page query for the whole study, as one statement for COPY. */
function rawAnswersSelect(studyId: string): string {
  return `
    select r.seq, r.id, r.assignment_id, r.participant_id, r.case_id, c.external_id, r.arm_id,
           e.name, r.questionnaire_version_id, q.version, r.ai_score_shown,
           (select t.passed from attention_results t where t.assignment_id = r.assignment_id),
           r.submitted_at, r.answers->>'diagnosis', r.answers->>'confidence',
           r.answers->>'comment', r.answers
    from review_answers r
    join review_cases c on c.id = r.case_id
    join questionnaire_versions q on q.id = r.questionnaire_version_id
    left join experiment_arms e on e.id = r.arm_id
    where r.study_id = '${studyId}'
    order by r.seq`.replace(/\s+/g, ' ');
}

/** Every page of the answers export as CSV, following the Link header; rows and seconds. */
async function exportThroughApi(
  child: ChildProcess,
  ready: ReviewsReady,
  seeded: ExportSeeded,
): Promise<{ rows: number; pages: number; seconds: number }> {
  const started = performance.now();
  let path: string | undefined =
    `/api/studies/${seeded.studyId}/exports/answers?format=csv&limit=${EXPORT_PAGE}`;
  let rows = 0;
  let pages = 0;
  const maxPages = Math.ceil(seeded.rows / EXPORT_PAGE) + 1;
  while (path !== undefined && pages < maxPages) {
    // A fresh token per page: on a busy machine the export outlives one 5-minute token.
    const { authorization } = await seed<TokenSeeded>(child, {
      type: 'seed-token',
      owner: seeded.owner,
    });
    const response: Response = await fetch(`${ready.appUrl}${path}`, {
      headers: { authorization },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (response.status !== 200 || !response.body) {
      throw new Error(`export page ${pages + 1}: HTTP ${response.status} ${await response.text()}`);
    }
    let lines = 0;
    const reader = response.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      lines += countLines(read.value);
    }
    rows += lines - 1; // every page starts with the header
    pages += 1;
    path = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  }
  return { rows, pages, seconds: (performance.now() - started) / 1000 };
}

async function exportRow(child: ChildProcess, ready: ReviewsReady, rows: Row[]): Promise<void> {
  process.stdout.write(`  · export: seeding ${thousands(EXPORT_ROWS)} answered assignments\n`);
  const seeded = await seed<ExportSeeded>(child, { type: 'seed-export', rows: EXPORT_ROWS });
  process.stdout.write(`    seeded in ${fixed(seeded.seedMs / 1000, 1)} s\n`);
  const copy = `COPY (${rawAnswersSelect(seeded.studyId)}) TO STDOUT (FORMAT csv, HEADER)`;
  // Raw COPY before and after the API export, so both see the same cache and machine load.
  const rawRuns: number[] = [];
  const rawCopy = async (): Promise<void> => {
    const raw = await psql(ready.databaseUrl, copy);
    if (raw.lines - 1 !== seeded.rows) {
      notes.push(`export: raw COPY gave ${raw.lines - 1} rows, expected ${seeded.rows}`);
    }
    rawRuns.push(seeded.rows / raw.seconds);
    process.stdout.write(`    raw COPY: ${fixed(raw.seconds, 1)} s\n`);
  };
  await rawCopy();
  const { result, before, peak } = await sampleRss(child.pid ?? 0, () =>
    exportThroughApi(child, ready, seeded),
  );
  process.stdout.write(`    API export: ${fixed(result.seconds, 1)} s in ${result.pages} pages\n`);
  await rawCopy();
  if (result.rows !== seeded.rows) {
    notes.push(`export: the API gave ${result.rows} rows, expected ${seeded.rows}`);
  }
  const apiRate = result.rows / result.seconds;
  const rawRate = rawRuns.reduce((sum, rate) => sum + rate, 0) / rawRuns.length;
  const ratio = apiRate / rawRate;
  rows.push({
    measure: `Export ${thousands(seeded.rows)} answers (CSV, ${thousands(EXPORT_PAGE)}-row pages) ÷ raw COPY TO STDOUT`,
    target: '≥ 0.5',
    measured: `${fixed(ratio)}  (${thousands(apiRate)} vs ${thousands(rawRate)} rows/s)`,
    pass: ratio >= 0.5,
  });
  const growth = peak - before;
  rows.push({
    measure: 'Server RSS growth during the export',
    target: '< 100 MB',
    measured: `${megabytes(growth)}  (${megabytes(before)} → peak ${megabytes(peak)})`,
    pass: growth < 100 * 1024 * 1024,
  });
}

/** CSV-quotes one cell (only the display JSON needs it). */
const csvCell = (text: string): string => `"${text.replace(/"/g, '""')}"`;

async function importRow(child: ChildProcess, ready: ReviewsReady, rows: Row[]): Promise<void> {
  const cases = Math.ceil(IMPORT_ROWS / IMPORT_PARTICIPANTS);
  const total = cases * IMPORT_PARTICIPANTS;
  process.stdout.write(
    `  · import: seeding 2 studies, ${IMPORT_PARTICIPANTS} participants, ${cases} cases each\n`,
  );
  const seeded = await seed<ImportSeeded>(child, {
    type: 'seed-import',
    participants: IMPORT_PARTICIPANTS,
    cases,
  });
  process.stdout.write(`    seeded in ${fixed(seeded.seedMs / 1000, 1)} s\n`);
  // One row per (participant, case): one highlighted, pinned feature each, as AugMed's sheets do.
  const sheet = ['participant_email,case_id,path,collapse,highlight,top'];
  const copyRows: string[] = [];
  const display = csvCell(
    JSON.stringify({
      showAiScore: false,
      features: [{ path: IMPORT_PATH, collapsed: false, highlighted: true, top: 1 }],
    }),
  );
  for (const participant of seeded.participants) {
    for (let index = 0; index < cases; index += 1) {
      sheet.push(
        `${participant.email},${seeded.caseExternalIds[index]},${IMPORT_PATH},false,true,1`,
      );
      copyRows.push(
        `${seeded.baselineStudyId},${participant.id},${seeded.baselineCaseIds[index]},` +
          `${display},${index + 1},csv`,
      );
    }
  }
  const body = `${sheet.join('\n')}\n`;
  const copyInput = `${copyRows.join('\n')}\n`;

  const upload = async () => {
    const started = performance.now();
    const response = await fetch(
      `${ready.appUrl}/api/studies/${seeded.studyId}/assignments/import`,
      {
        method: 'POST',
        headers: { authorization: seeded.authorization, 'content-type': 'text/csv' },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      },
    );
    const text = await response.text();
    return { status: response.status, text, seconds: (performance.now() - started) / 1000 };
  };
  const { result, before, peak } = await sampleRss(child.pid ?? 0, upload);
  process.stdout.write(
    `    API import: HTTP ${result.status} in ${fixed(result.seconds, 1)} s ` +
      `(${megabytes(Buffer.byteLength(body))} sheet)\n`,
  );
  const raw = await psql(
    ready.databaseUrl,
    'COPY review_assignments (study_id, participant_id, case_id, display, position, source) ' +
      'FROM STDIN (FORMAT csv)',
    copyInput,
  );
  process.stdout.write(`    raw COPY FROM STDIN: ${fixed(raw.seconds, 1)} s\n`);
  const created =
    result.status === 201 ? (JSON.parse(result.text) as { created?: number }).created : 0;
  if (result.status !== 201 || created !== total) {
    notes.push(
      `import: POST /api/studies/:id/assignments/import answered HTTP ${result.status} ` +
        `(${created ?? 0} of ${total} created): ${result.text.slice(0, 500)}`,
    );
  }
  const apiRate = result.status === 201 ? total / result.seconds : 0;
  const rawRate = total / raw.seconds;
  const ratio = apiRate / rawRate;
  rows.push({
    measure: `CSV import of ${thousands(total)} assignments, one upload ÷ raw COPY FROM STDIN`,
    target: '≥ 0.3',
    measured: `${fixed(ratio)}  (${thousands(apiRate)} vs ${thousands(rawRate)} rows/s)`,
    pass: ratio >= 0.3,
  });
  rows.push({
    measure: '(info) server RSS growth during the import',
    target: '—',
    measured: `${megabytes(peak - before)}  (${megabytes(before)} → peak ${megabytes(peak)})`,
    pass: undefined,
  });
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
  for (const row of rows) {
    console.log(line(row, row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'MISS'));
  }
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log('reviews benchmarks: skipped (needs DATABASE_URL: the baselines are COPY)');
    return;
  }
  const loadBefore = loadavg()[0]?.toFixed(2) ?? '?';
  const { child, ready } = await start();
  const rows: Row[] = [];
  try {
    console.log('Research reviews (informational; exit code is 0 either way)');
    console.log(
      `  PostgreSQL, a fresh database · node ${process.version} · ${availableParallelism()} ` +
        `cores · log level ${ready.logLevel}`,
    );
    if (ONLY.has('next')) await nextCaseRow(child, ready, rows);
    if (ONLY.has('export')) await exportRow(child, ready, rows);
    if (ONLY.has('import')) await importRow(child, ready, rows);
  } finally {
    await stop(child);
  }
  printTable(rows);
  console.log(
    `\nMachine load average (1 min): ${loadBefore} before the run, ` +
      `${loadavg()[0]?.toFixed(2) ?? '?'} after.`,
  );
  if (Number(loadBefore) > availableParallelism() / 2) {
    notes.push('the machine was already busy before the run: figures are noisy');
  }
  if (notes.length > 0) {
    console.log('\nWarnings (figures built on failed requests are suspect):');
    for (const note of notes) console.log(`  - ${note}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
