// CPU profile of the bench server under load (not a benchmark: prints no target, runs on
// demand). Forks identity-server.ts, warms the route up, then records a V8 CPU profile of
// the server process only while autocannon drives one route, and prints where the time goes:
// self time by frame, by area (our files, each package, Node internals, GC) and the
// inclusive time of our own request-path functions.
//   node --import tsx bench/profile.ts [me|bare|login]     (default: me)
//   DATABASE_URL=postgres://… node --import tsx bench/profile.ts me
// PROFILE_SECONDS (default 10) sets the recorded phase; PROFILE_OUT=<dir> also writes the
// .cpuprofile (open it in Chrome DevTools or speedscope) and folded stacks for flame graphs.
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { ServerReady } from './identity-server.js';
import { accessCookie, load, loginOptions, notes, type LoadOptions, type Target } from './load.js';

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const ROUTE = (process.argv[2] ?? 'me') as 'me' | 'bare' | 'login';
const CONNECTIONS = ROUTE === 'login' ? Number(process.env.UV_THREADPOOL_SIZE ?? 4) : 10;

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}
type Message = ServerReady | { type: 'profiling' } | { type: 'profile'; profile: string };

function startServer(): Promise<{ child: ChildProcess; ready: ServerReady }> {
  const child = fork(new URL('./identity-server.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited early (code ${code})`)));
    child.on('message', (message: Message) => {
      if (message.type === 'ready') resolve({ child, ready: message });
    });
  });
}

function nextMessage<T extends Message['type']>(
  child: ChildProcess,
  type: T,
): Promise<Extract<Message, { type: T }>> {
  return new Promise((resolve) => {
    const listener = (message: Message): void => {
      if (message.type !== type) return;
      child.off('message', listener);
      resolve(message as Extract<Message, { type: T }>);
    };
    child.on('message', listener);
  });
}

/** Where a frame's code lives: one of our files, a package, Node itself, or V8. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native/V8 builtins)';
  if (url.startsWith('node:')) {
    return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0] ?? url;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const ours = /\/(server\/src\/.*|bench\/.*)$/.exec(url);
  return ours?.[1] ?? url;
}

const frameName = (node: ProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${areaOf(url, functionName)}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
};

function summarize(profile: CpuProfile, requests: number): { text: string; folded: string } {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const nodeOf = (id: number): ProfileNode => {
    const node = byId.get(id);
    if (!node) throw new Error(`profile node ${id} missing`);
    return node;
  };
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  let idle = 0;
  const frames = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const folded = new Map<string, number>();
  // forEach rather than for…of: bench files are linted without the iterable lib.
  selfTime.forEach((micros, id) => {
    const node = nodeOf(id);
    if (node.callFrame.functionName === '(idle)') {
      idle += micros;
      return;
    }
    total += micros;
    const name = frameName(node);
    frames.set(name, (frames.get(name) ?? 0) + micros);
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + micros);
    const stack: string[] = [];
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = nodeOf(at);
      const label = frameName(frame);
      if (frame.callFrame.functionName !== '(root)') stack.push(label);
      if (/server\/src\//.test(frame.callFrame.url) && !seen.has(label)) {
        seen.add(label);
        inclusive.set(label, (inclusive.get(label) ?? 0) + micros);
      }
    }
    const key = stack.reverse().join(';');
    folded.set(key, (folded.get(key) ?? 0) + micros);
  });
  const entries = (map: Map<string, number>): Array<[string, number]> => {
    const list: Array<[string, number]> = [];
    map.forEach((value, key) => list.push([key, value]));
    return list;
  };
  const pct = (micros: number): string =>
    `${((100 * micros) / total).toFixed(1).padStart(5)} % ${(micros / requests).toFixed(1).padStart(6)} µs`;
  const top = (map: Map<string, number>, n: number): string[] =>
    entries(map)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => `  ${pct(micros)}  ${name}`);
  const text = [
    `busy ${(total / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s, ${requests} requests: ` +
      `${(total / requests).toFixed(1)} µs busy per request; columns: % of busy time, µs per request`,
    'Self time by area:',
    ...top(areas, 18),
    'Top self-time frames:',
    ...top(frames, 30),
    'Inclusive time of our own functions (server/src):',
    ...top(inclusive, 30),
  ].join('\n');
  return {
    text,
    folded: entries(folded)
      .map(([stack, micros]) => `${stack} ${micros}`)
      .join('\n'),
  };
}

async function main(): Promise<void> {
  const { child, ready } = await startServer();
  const target: Target = ready;
  const options: LoadOptions =
    ROUTE === 'login'
      ? loginOptions(target, SECONDS, CONNECTIONS)
      : ROUTE === 'bare'
        ? { url: `${target.bareUrl}/bare`, seconds: SECONDS, connections: CONNECTIONS }
        : {
            url: `${target.appUrl}/api/auth/me`,
            seconds: SECONDS,
            connections: CONNECTIONS,
            headers: { cookie: await accessCookie(target) },
          };
  console.log(
    `profile of ${ROUTE} on ${ready.engine}, ${CONNECTIONS} connections, ${SECONDS}s ` +
      `(load average ${loadavg()[0]?.toFixed(2)})`,
  );
  await load('warm-up', { ...options, seconds: 3 });
  const profiling = nextMessage(child, 'profiling');
  child.send('profile-start');
  await profiling;
  const result = await load(ROUTE, options);
  const done = nextMessage(child, 'profile');
  child.send('profile-stop');
  const profile = JSON.parse((await done).profile) as CpuProfile;
  await new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.send('stop');
  });
  console.log(`${result.perSecond.toFixed(0)} req/s during the profile (profiler on)`);
  const { text, folded } = summarize(profile, result.requests);
  console.log(text);
  const out = process.env.PROFILE_OUT;
  if (out) {
    mkdirSync(out, { recursive: true });
    const engine = ready.engine.startsWith('PGlite') ? 'pglite' : 'postgres';
    writeFileSync(join(out, `${ROUTE}-${engine}.cpuprofile`), JSON.stringify(profile));
    writeFileSync(join(out, `${ROUTE}-${engine}.folded`), folded);
    writeFileSync(join(out, `${ROUTE}-${engine}.txt`), text);
  }
  for (const note of notes) console.log(`warning: ${note}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
