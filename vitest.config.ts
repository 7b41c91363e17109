import { chmodSync, mkdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Scratch folders of the tests (os.tmpdir(): embedded databases, data folders of spawned
 * servers and CLI commands) in memory where the machine has a tmpfs. Every commit of an
 * embedded database is flushed to disk (server/src/platform/db/durable-nodefs.ts), and a new
 * folder flushes its ~500 files once; on a disk shared by two test runs that made the tests that
 * create folders 5–10× slower, beyond their timeouts. The flushes still happen on tmpfs (the
 * durability tests count them, they do not time them), they just cost nothing there.
 */
function scratchFolder(): Record<string, string> {
  try {
    mkdirSync('/dev/shm/haven-tests', { recursive: true });
    // Others may pass through but not list it: the fault tests' private PostgreSQL runs as the
    // postgres user in a folder of its own inside (server/test/faults/private-servers.ts).
    chmodSync('/dev/shm/haven-tests', 0o711);
    return { TMPDIR: '/dev/shm/haven-tests' };
  } catch {
    return {};
  }
}
const scratch = scratchFolder();

// Two projects: the server suite (npm test) and the Chromium suite (npm run test:browser).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts', 'server/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          env: scratch,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['web/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          env: scratch,
        },
      },
    ],
  },
});
