// Imported first by every benchmark entry point: runs the benchmark, and the servers it forks
// (they inherit the environment), with the glibc malloc settings the container image and
// `npm start` give Haven (server/src/platform/allocator.ts), so the figures are those of Haven
// as it is deployed. glibc reads GLIBC_TUNABLES only at process start, so without it the
// script starts itself again with it and exits with that run's code.
// BENCH_MALLOC=default measures with glibc's defaults instead (as the figures before
// 2026-12-05 were).
import { spawnSync } from 'node:child_process';
import { MALLOC_TUNABLES } from '../server/src/platform/allocator.js';

export const mallocSettings =
  process.env.BENCH_MALLOC === 'default' ? 'glibc defaults' : 'GLIBC_TUNABLES as deployed';

if (
  process.platform === 'linux' &&
  process.env.BENCH_MALLOC !== 'default' &&
  process.env.GLIBC_TUNABLES === undefined
) {
  const run = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, GLIBC_TUNABLES: MALLOC_TUNABLES },
  });
  process.exit(run.status ?? 1);
}
