// An open-loop load generator: requests arrive at random (Poisson) times at a given mean rate, as
// independent people's requests do, whatever the server's answers. Each latency is counted from
// when the request was due, not from when it was sent, so a server that falls behind is charged
// for the wait (no coordinated omission).
//
// Why not autocannon here: its per-connection rate (`overallRate` ÷ connections) releases each
// connection's requests for the second at the start of that second, so at 200 req/s over 10
// connections the server gets 10 requests at once and the p99 measures that synchronized burst's
// queue rather than what a participant waits. autocannon stays the tool for closed-loop
// throughput rows, where sending as fast as answers come back is the point.
import { Agent, request } from 'node:http';

export interface PacedOptions {
  readonly url: string;
  /** Mean arrivals per second. */
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections at most (requests beyond wait for one, and the wait counts). */
  readonly connections: number;
  /** Request i carries headersOf(i) (e.g. a different participant per request). */
  readonly headersOf: (index: number) => Record<string, string>;
  /** The same arrival times in every run with the same seed. */
  readonly seed?: number;
}

export interface PacedResult {
  readonly sent: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Milliseconds from due to answered, ascending. */
  readonly latencies: readonly number[];
  /** Answers per second over the run. */
  readonly rate: number;
}

/** mulberry32: a small seeded PRNG, so runs share their arrival pattern. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The value at quantile q (0..1) of ascending values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export async function pacedLoad(options: PacedOptions): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const random = seededRandom(options.seed ?? 1);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const inFlight: Array<Promise<void>> = [];
  const started = performance.now();
  const end = started + options.seconds * 1000;
  let due = started;
  let index = 0;

  const send = (dueAt: number, headers: Record<string, string>): Promise<void> =>
    new Promise((resolve) => {
      const req = request(options.url, { agent, headers }, (response) => {
        response.resume();
        response.on('end', () => {
          latencies.push(performance.now() - dueAt);
          if ((response.statusCode ?? 0) >= 300) non2xx += 1;
          resolve();
        });
      });
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end();
    });

  for (;;) {
    due += (-Math.log(1 - random()) / options.rate) * 1000;
    if (due >= end) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(due, options.headersOf(index)));
    index += 1;
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    sent: index,
    non2xx,
    errors,
    latencies: latencies.sort((a, b) => a - b),
    rate: latencies.length / elapsed,
  };
}
