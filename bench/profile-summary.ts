// Self time by function from V8 .cpuprofile files (profile.ts with PROFILE_OUT=<dir>, or
// `node --cpu-prof`), and the difference between two of them. Frames of minified packages
// (PGlite ships one-line bundles whose functions are called `fn`, `n`, `h`…) are named by the
// package's own source map, so `fn @electric-sql/pglite` reads `parseResults (src/parse.ts:15)`.
//   node --import tsx bench/profile-summary.ts me-pglite.cpuprofile [bare-pglite.cpuprofile]
// Figures are µs per request when the profile.ts summary (<name>.txt beside the profile, whose
// first line says "N requests") is there, else ms in the whole profile. With two profiles the
// rows are sorted by the difference, first minus second. PROFILE_TOP (default 30) rows.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const TOP = Number(process.env.PROFILE_TOP ?? 30);
const maps = new Map<string, SourceMap | null>();

/** The source map next to a bundled node_modules file, if it ships one. */
function mapFor(url: string): SourceMap | null {
  if (!url.startsWith('file://') || !url.includes('/node_modules/')) return null;
  const cached = maps.get(url);
  if (cached !== undefined) return cached;
  let map: SourceMap | null = null;
  const file = `${fileURLToPath(url)}.map`;
  if (existsSync(file)) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as never);
    } catch {
      map = null;
    }
  }
  maps.set(url, map);
  return map;
}

function frameName(frame: ProfileNode['callFrame']): string {
  const { functionName, url, lineNumber, columnNumber } = frame;
  const name = functionName || '(anonymous)';
  if (url === '') return name;
  const entry = mapFor(url)?.findEntry(lineNumber, columnNumber);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (entry && 'originalSource' in entry) {
    const source = entry.originalSource.replace(/^(\.\.\/)+/, '');
    return `${name} ${pkg ?? ''} (${source}:${entry.originalLine + 1})`;
  }
  if (pkg) return `${name} ${pkg}:${lineNumber + 1}`;
  const ours = /\/((?:server|bench)\/.*)$/.exec(url)?.[1];
  return `${name} ${ours ?? url}:${lineNumber + 1}`;
}

/** Self time (µs) by function, and the requests the profile served (NaN if unknown). */
function selfTimes(path: string): { times: Map<string, number>; requests: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const name = frameName(node.callFrame);
    times.set(name, (times.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const summary = path.replace(/\.cpuprofile$/, '.txt');
  const requests = existsSync(summary)
    ? Number(/(\d+) requests/.exec(readFileSync(summary, 'utf8'))?.[1] ?? Number.NaN)
    : Number.NaN;
  return { times, requests };
}

function main(): void {
  const paths = process.argv.slice(2);
  if (paths.length < 1 || paths.length > 2) {
    console.error('usage: profile-summary.ts <a.cpuprofile> [<b.cpuprofile>]');
    process.exitCode = 2;
    return;
  }
  const profiles = paths.map(selfTimes);
  const perRequest = profiles.every((p) => Number.isFinite(p.requests));
  const unit = perRequest ? 'µs/request' : 'ms';
  const scale = (micros: number, requests: number): number =>
    perRequest ? micros / requests : micros / 1000;
  const names = new Set<string>();
  for (const { times } of profiles) times.forEach((_, name) => names.add(name));
  const rows: Array<{ name: string; values: number[] }> = [];
  names.forEach((name) => {
    if (name.startsWith('(idle)')) return;
    rows.push({
      name,
      values: profiles.map(({ times, requests }) => scale(times.get(name) ?? 0, requests)),
    });
  });
  const key = (values: number[]): number =>
    values.length === 2 ? Math.abs((values[0] ?? 0) - (values[1] ?? 0)) : (values[0] ?? 0);
  rows.sort((a, b) => key(b.values) - key(a.values));
  const totals = profiles.map(({ times, requests }) => {
    let sum = 0;
    times.forEach((micros, name) => {
      if (!name.startsWith('(idle)')) sum += micros;
    });
    return scale(sum, requests);
  });
  const cell = (value: number): string => value.toFixed(1).padStart(9);
  const header =
    paths.length === 2
      ? `${unit}: first, second, first − second (sorted by the difference)`
      : `${unit}, self time`;
  console.log(header);
  console.log(
    `${totals.map(cell).join(' ')}${totals.length === 2 ? cell((totals[0] ?? 0) - (totals[1] ?? 0)) : ''}  busy (all frames)`,
  );
  for (const { name, values } of rows.slice(0, TOP)) {
    const diff = values.length === 2 ? cell((values[0] ?? 0) - (values[1] ?? 0)) : '';
    console.log(`${values.map(cell).join(' ')}${diff}  ${name}`);
  }
}

main();
