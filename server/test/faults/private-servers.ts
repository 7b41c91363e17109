// Real PostgreSQL servers and Haven processes on private ports, for fault tests that stop,
// restart and cut what the shared machine services must never lose. Each server lives in a
// temporary folder and is removed at the end; the machine's own PostgreSQL is never touched.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PG_ROOT = '/usr/lib/postgresql';

function postgresBinDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(PG_ROOT, version, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/** Why a private PostgreSQL cannot be started here, or undefined when it can. */
export function privatePostgresUnavailable(): string | undefined {
  return postgresBinDir() === undefined
    ? `no PostgreSQL server binaries under ${PG_ROOT}`
    : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user. */
async function asPostgres(
  command: string,
  args: string[],
): Promise<{ stdout: string; stderr: string }> {
  const isRoot = process.getuid?.() === 0;
  return isRoot
    ? run('runuser', ['-u', 'postgres', '--', command, ...args], { timeout: 60_000 })
    : run(command, args, { timeout: 60_000 });
}

async function postgresUid(): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

export interface PrivatePostgres {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** Fast shutdown: every connection is closed, as in a planned restart or failover. */
  stop(): Promise<void>;
  /** Crash-like: the postmaster and every backend die at once (recovery on next start). */
  kill(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(privatePostgresUnavailable());
  const folder = mkdtempSync(path.join(tmpdir(), 'haven-pg-'));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresUid();
    chownSync(folder, uid, gid);
  }
  const dataDir = path.join(folder, 'data');
  const logFile = path.join(folder, 'server.log');
  const port = await freePort();
  await asPostgres(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--no-sync',
  ]);
  const pgCtl = (args: string[]) => asPostgres(path.join(bin, 'pg_ctl'), ['-D', dataDir, ...args]);
  const options = `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const server: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgCtl(['-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
    },
    async stop() {
      await pgCtl(['-m', 'fast', '-w', '-t', '60', 'stop']);
    },
    async kill() {
      await pgCtl(['-m', 'immediate', '-w', '-t', '60', 'stop']);
    },
    async restart() {
      await pgCtl(['-m', 'fast', '-l', logFile, '-o', options, '-w', '-t', '60', 'restart']);
    },
    async destroy() {
      await server.kill().catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

const CLI_ENTRY = path.resolve(import.meta.dirname, '../cli-entry.ts');

export interface HavenProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves when the output contains the text; rejects on exit or timeout. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  exited(): boolean;
  stop(): Promise<void>;
}

/** `haven <args>` from source, as a separate process with only the given environment. */
export function spawnHaven(args: string[], env: Record<string, string>): HavenProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const check of waiters) check();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.on('exit', () => {
    for (const check of waiters) check();
  });
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      const matches = (): boolean =>
        typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${String(pattern)}; output:\n${text}`));
        }, timeoutMs);
        const check = (): void => {
          if (matches()) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          } else if (exited()) {
            clearTimeout(timer);
            waiters.delete(check);
            reject(
              new Error(
                `exited (${child.exitCode ?? child.signalCode}) before ${String(pattern)}; output:\n${text}`,
              ),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (exited()) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
