// Load helpers for the benchmarks: autocannon runs that refuse to report numbers built on
// failed requests, the raw argon2id baseline, and a one-off login that yields a cookie.
import { createRequire } from 'node:module';
import type { Options, Result } from 'autocannon';
import {
  MINIMUM_HASHING,
  hashPassword,
  verifyPassword,
} from '../server/src/modules/identity/index.js';

export interface Target {
  readonly appUrl: string;
  readonly bareUrl: string;
  readonly origin: string;
  readonly email: string;
  readonly password: string;
}

export interface LoadResult {
  /** Successful (2xx) responses per second over the run. */
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Requests per second across all connections; unset = as fast as the server answers. */
  readonly overallRate?: number;
  /** Every response body must be exactly this (a 200 with another body counts as a failure). */
  readonly expectBody?: string;
}

// autocannon is CommonJS with `export =` typings; loading it this way keeps it fully typed
// under every compiler setting the repository lints bench files with.
const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: Options,
) => Promise<Result>;

/** Problems seen during the run (non-2xx, socket errors); printed under the table. */
export const notes: string[] = [];

export async function load(label: string, options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    duration: options.seconds,
    connections: options.connections,
    pipelining: 1,
    method: options.method ?? 'GET',
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body ? { body: options.body } : {}),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    ...(options.expectBody ? { expectBody: options.expectBody } : {}),
  });
  const mismatches = options.expectBody ? result.mismatches : 0;
  if (result.non2xx > 0 || result.errors > 0 || mismatches > 0) {
    notes.push(
      `${label}: ${result.non2xx} non-2xx responses, ${mismatches} unexpected bodies, ` +
        `${result.errors} errors (${result.timeouts} timeouts) out of ${result.requests.total}`,
    );
  }
  return {
    perSecond: Math.max(0, result['2xx'] - mismatches) / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
  };
}

export function loginOptions(target: Target, seconds: number, connections: number): LoadOptions {
  return {
    url: `${target.appUrl}/api/auth/session`,
    seconds,
    connections,
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: target.origin },
    body: JSON.stringify({ email: target.email, password: target.password }),
  };
}

/** Signs in once and returns the access cookie as a Cookie header value. */
export async function accessCookie(target: Target): Promise<string> {
  const response = await fetch(`${target.appUrl}/api/auth/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: target.origin },
    body: JSON.stringify({ email: target.email, password: target.password }),
  });
  await response.arrayBuffer();
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((pair) => pair.startsWith('__Host-haven_at='));
  if (response.status !== 200 || !cookie) {
    throw new Error(`login failed: HTTP ${response.status}, no access cookie`);
  }
  return cookie;
}

export interface Argon2Baseline {
  /** verifyPassword calls per second with `concurrency` in flight. */
  readonly perSecond: number;
  /** CPU time (µs, every thread of this process) per verification. */
  readonly cpuMicrosPerVerify: number;
}

/**
 * argon2id verifications per second with `concurrency` in flight, at MINIMUM_HASHING,
 * through verifyPassword (argon2.verify after NFKC, the very call the login route makes):
 * the ceiling a login endpoint could reach if everything around the hash were free.
 */
export async function argon2VerifiesPerSecond(
  concurrency: number,
  seconds: number,
): Promise<Argon2Baseline> {
  const password = 'correct horse battery staple 42';
  const hash = await hashPassword(password, MINIMUM_HASHING);
  const runFor = async (ms: number): Promise<Argon2Baseline> => {
    const deadline = performance.now() + ms;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline) {
        if (!(await verifyPassword(hash, password))) throw new Error('argon2 verify failed');
        done += 1;
      }
    };
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const used = process.cpuUsage(cpu);
    return {
      perSecond: done / ((performance.now() - started) / 1000),
      cpuMicrosPerVerify: (used.user + used.system) / done,
    };
  };
  await runFor(1_000); // warm-up: thread pool spun up, memory touched
  return runFor(seconds * 1000);
}
