// Runs the `haven` CLI from source in real child processes: one-shot commands, and a running
// `haven serve` that tests can stop (SIGTERM) or kill (SIGKILL).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ENTRY = path.resolve(import.meta.dirname, 'cli-entry.ts');
const NODE_ARGS = ['--import', 'tsx', ENTRY];

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const baseEnv = (env: Record<string, string>): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HAVEN_ENV: 'development',
  HAVEN_LOG_LEVEL: 'silent',
  ...env,
});

/** Runs `haven <args>` to completion. */
export async function haven(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...NODE_ARGS, ...args], {
      env: baseEnv(env),
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

export interface RunningServer {
  readonly child: ChildProcess;
  /** http://127.0.0.1:<port>, answering /readyz. */
  readonly origin: string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>;
  stdout(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<number | string>;
}

/** Starts `haven serve` on a free port and waits until /readyz answers 200. */
export async function startServe(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<RunningServer> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'serve'], {
    env: baseEnv({ PORT: '0', HAVEN_WEB_DIR: path.join(ENTRY, 'no-web'), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + timeoutMs;
  let origin: string | undefined;
  while (Date.now() < deadline && !ended) {
    origin ??= /listening on (http:\/\/[^\s]+)/.exec(out)?.[1];
    if (origin) {
      const ready = await fetch(`${origin}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!origin || ended || Date.now() >= deadline) {
    child.kill('SIGKILL');
    throw new Error(`haven serve did not become ready.\nstdout: ${out}\nstderr: ${err}`);
  }
  return {
    child,
    origin,
    exited,
    stdout: () => out,
    async stop() {
      if (!ended) child.kill('SIGTERM');
      return exited;
    },
  };
}
