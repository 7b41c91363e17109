// `npm run mutation`: removes each catalogue control in turn (a mutant from mutants.ts) and runs
// the tests the security map names for it; a control whose removal no test notices is a survivor
// and fails the run. Written here rather than with Stryker because a mutant must be a *control*
// removed (a chosen line, a chosen replacement), not every operator flipped: Stryker's thousands
// of generic mutants would take hours on two cores and still not name the control.
//
// Each worker gets its own copy of the repository's files (node_modules linked, not copied), so
// mutants never touch the checkout and two run side by side. Runs on the embedded defaults, and
// the mutants of PostgreSQL-only controls against the servers MUTATION_DATABASE_URL and
// MUTATION_REDIS_URL name (each test makes a database of its own there).
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { withRemovalColumn } from './map.js';
import { MUTANTS, type Mutant } from './mutants.js';

const root = resolve(import.meta.dirname, '../..');

interface Outcome {
  readonly mutant: Mutant;
  readonly verdict: 'killed' | 'survived' | 'broken';
  /** Names of the tests that failed with the control removed. */
  readonly caughtBy: readonly string[];
  readonly seconds: number;
  readonly note?: string;
}

/** Every mutant's text must occur exactly once, or the mutant would change nothing or too much. */
export function checkMutantsApply(mutants: readonly Mutant[], base = root): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const mutant of mutants) {
    if (ids.has(mutant.id)) problems.push(`${mutant.id}: the id is used twice`);
    ids.add(mutant.id);
    const path = join(base, mutant.file);
    if (!existsSync(path)) {
      problems.push(`${mutant.id}: ${mutant.file} does not exist`);
      continue;
    }
    const source = readFileSync(path, 'utf8');
    const count = source.split(mutant.find).length - 1;
    if (count !== 1) {
      problems.push(
        `${mutant.id}: the text to remove occurs ${count} times in ${mutant.file} (must be once)`,
      );
    }
    if (mutant.find === mutant.replace) {
      problems.push(`${mutant.id}: the replacement equals the original`);
    }
    for (const test of mutant.tests) {
      if (!existsSync(join(base, test))) {
        problems.push(`${mutant.id}: test file ${test} does not exist`);
      }
    }
  }
  return problems;
}

const MODULE_FOLDERS = ['node_modules', 'server/node_modules', 'web/node_modules'];

function makeWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'haven-mutation-'));
  // In a git worktree whose node_modules are symlinks, git lists the links as untracked files
  // (.gitignore's `node_modules/` matches folders only): they are linked below, not copied.
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root })
    .toString()
    .split('\0')
    .filter(
      (file) => file !== '' && !MODULE_FOLDERS.includes(file) && existsSync(join(root, file)),
    );
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(root, file), join(dir, file));
  }
  for (const modules of MODULE_FOLDERS) {
    if (existsSync(join(root, modules))) {
      symlinkSync(join(root, modules), join(dir, modules), 'dir');
    }
  }
  return dir;
}

interface VitestReport {
  readonly numFailedTests: number;
  readonly testResults: readonly {
    readonly assertionResults: readonly { readonly fullName: string; readonly status: string }[];
  }[];
}

/** The servers a PostgreSQL-only mutant is judged against, or undefined when none are given. */
function postgresServers(): { databaseUrl: string; redisUrl: string | undefined } | undefined {
  const databaseUrl = process.env.MUTATION_DATABASE_URL;
  return databaseUrl ? { databaseUrl, redisUrl: process.env.MUTATION_REDIS_URL } : undefined;
}

function runTests(
  workspace: string,
  tests: readonly string[],
  engine: Mutant['engine'],
): Promise<{ failedTests: string[]; failedCount: number; exitCode: number }> {
  const reportFile = join(workspace, `.mutation-report-${process.hrtime.bigint()}.json`);
  const env = { ...process.env };
  // The embedded defaults, as the first `npm test` of CI: mutants are judged without servers,
  // except those of controls that only PostgreSQL and Redis have, judged as CI's second run.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const servers = engine === 'postgres' ? postgresServers() : undefined;
  if (servers) {
    env.DATABASE_URL = servers.databaseUrl;
    if (servers.redisUrl) env.REDIS_URL = servers.redisUrl;
    env.HAVEN_TEST_ENGINES = 'postgres';
  }
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--project',
        'server',
        '--reporter=json',
        `--outputFile=${reportFile}`,
        '--bail=1',
        ...tests,
      ],
      { cwd: workspace, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('error', fail);
    child.on('close', (code) => {
      let failedTests: string[] = [];
      let failedCount = 0;
      if (existsSync(reportFile)) {
        const report = JSON.parse(readFileSync(reportFile, 'utf8')) as VitestReport;
        failedCount = report.numFailedTests;
        failedTests = report.testResults.flatMap((file) =>
          file.assertionResults
            .filter((test) => test.status === 'failed')
            .map((test) => test.fullName),
        );
        rmSync(reportFile);
      } else if (code !== 0) {
        failedTests = [`(no report) ${stderr.trim().split('\n').slice(-3).join(' | ')}`];
      }
      done({ failedTests, failedCount, exitCode: code ?? 1 });
    });
  });
}

async function runMutant(workspace: string, mutant: Mutant): Promise<Outcome> {
  const path = join(workspace, mutant.file);
  const original = readFileSync(path, 'utf8');
  writeFileSync(
    path,
    original.replace(mutant.find, () => mutant.replace),
  );
  const started = Date.now();
  try {
    const result = await runTests(workspace, mutant.tests, mutant.engine);
    const seconds = Math.round((Date.now() - started) / 1000);
    if (result.exitCode === 0) return { mutant, verdict: 'survived', caughtBy: [], seconds };
    // A mutant that stops the files from loading proves nothing about the control: only a
    // failing test (an assertion that noticed) counts as catching it.
    if (result.failedCount === 0) {
      return {
        mutant,
        verdict: 'broken',
        caughtBy: [],
        seconds,
        note: result.failedTests.join('; ') || 'the test files did not load',
      };
    }
    return { mutant, verdict: 'killed', caughtBy: result.failedTests, seconds };
  } finally {
    writeFileSync(path, original);
  }
}

/** Rewrites the security map's "removal caught by" column from mutants.ts. */
function writeMap(): void {
  const file = join(root, 'docs/security.md');
  writeFileSync(file, withRemovalColumn(readFileSync(file, 'utf8'), MUTANTS));
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--write', file],
    { stdio: 'ignore' },
  );
  console.log('mutation: docs/security.md now lists the mutants of every control');
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--write-map')) {
    writeMap();
    return 0;
  }
  const only = argv.filter((arg) => !arg.startsWith('--'));
  const workers = Number(process.env.MUTATION_WORKERS ?? 2);
  const selected =
    only.length === 0
      ? MUTANTS
      : MUTANTS.filter((m) =>
          only.some((prefix) => m.id.startsWith(prefix) || m.control === prefix),
        );
  const problems = checkMutantsApply(selected);
  if (problems.length > 0) {
    console.error(
      `mutation: ${problems.length} mutant(s) no longer match the code:\n  ${problems.join('\n  ')}`,
    );
    return 2;
  }
  if (selected.length === 0) {
    console.error(`mutation: no mutant matches ${only.join(', ')}`);
    return 2;
  }
  // CI's time limit (`.ci/run` sets MUTATION_DEADLINE, epoch seconds): no mutant starts after
  // it, and those left are reported as not run, never as caught. Each day the run starts at a
  // different place in the catalogue, so a machine too slow for all of it still covers the whole
  // catalogue over a few runs; without a deadline the order is the catalogue's.
  const deadlineMs = Number(process.env.MUTATION_DEADLINE ?? 0) * 1000;
  const withoutServers = postgresServers()
    ? []
    : selected.filter((mutant) => mutant.engine === 'postgres');
  const queue = selected.filter((mutant) => !withoutServers.includes(mutant));
  const runnable = queue.length;
  if (deadlineMs > 0) {
    const day = Math.floor(Date.now() / 86_400_000);
    queue.push(...queue.splice(0, (day * 131) % queue.length));
  }
  if (withoutServers.length > 0) {
    console.log(
      `mutation: ${withoutServers.length} mutants of PostgreSQL-only controls are not run ` +
        '(set MUTATION_DATABASE_URL, and MUTATION_REDIS_URL for the Redis ones)',
    );
  }
  console.log(
    `mutation: ${queue.length} mutants, ${workers} at a time, on the embedded defaults` +
      (postgresServers() ? ' (PostgreSQL-only controls on MUTATION_DATABASE_URL)' : '') +
      (deadlineMs > 0 ? `; none starts after ${new Date(deadlineMs).toISOString()}` : ''),
  );
  const outcomes: Outcome[] = [];
  const workspaces: string[] = [];
  try {
    await Promise.all(
      Array.from({ length: Math.min(workers, runnable) }, async () => {
        const workspace = makeWorkspace();
        workspaces.push(workspace);
        const next = () => (deadlineMs > 0 && Date.now() >= deadlineMs ? undefined : queue.shift());
        for (let mutant = next(); mutant !== undefined; mutant = next()) {
          const outcome = await runMutant(workspace, mutant);
          outcomes.push(outcome);
          const detail =
            outcome.verdict === 'killed'
              ? `caught by ${outcome.caughtBy[0] ?? '?'}`
              : (outcome.note ?? 'NO TEST FAILED');
          console.log(`${outcome.verdict.padEnd(8)} ${mutant.id} (${outcome.seconds}s): ${detail}`);
        }
      }),
    );
  } finally {
    for (const workspace of workspaces) rmSync(workspace, { recursive: true, force: true });
  }
  const survivors = outcomes.filter((o) => o.verdict !== 'killed');
  console.log(
    `\nmutation: ${outcomes.length - survivors.length} of ${outcomes.length} control removals caught`,
  );
  if (queue.length > 0) {
    console.log(
      `mutation: the deadline came before ${queue.length} of ${runnable} mutants could run; ` +
        `they were not judged in this run (first not run: ${queue[0]?.id ?? '?'})`,
    );
  }
  if (survivors.length > 0) {
    console.log('survivors (a control whose removal no named test notices):');
    for (const s of survivors) {
      console.log(`  ${s.mutant.id} [${s.verdict}] ${s.mutant.file}: ${s.mutant.removes}`);
    }
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  process.exitCode = await main(process.argv.slice(2));
}
