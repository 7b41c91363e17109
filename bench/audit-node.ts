// One "node" of audit.bench.ts, run as a forked child: its own process and its own pool on
// the PostgreSQL database the parent created, running write phases on command over IPC.
import { openDatabase } from '../server/src/platform/db/database.js';
import { writeLoop, type WriteRun } from './audit-writes.js';

type Command = { type: 'run'; run: WriteRun } | { type: 'stop' };

const url = process.env.BENCH_NODE_DATABASE_URL;
const writers = Number(process.env.BENCH_NODE_WRITERS ?? 4);
if (!url) throw new Error('BENCH_NODE_DATABASE_URL is required');
const database = await openDatabase({ url, embeddedDir: undefined, poolSize: writers });

process.on('message', (command: Command) => {
  if (command.type === 'stop') {
    void database.close().finally(() => process.exit(0));
    return;
  }
  void writeLoop(database.db, command.run).then(
    (result) => process.send?.({ type: 'done', result }),
    (error: unknown) =>
      process.send?.({
        type: 'failed',
        error: error instanceof Error ? error.message : 'write loop failed',
      }),
  );
});
process.send?.({ type: 'ready' });
