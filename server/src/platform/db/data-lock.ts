// One process at a time in the embedded database folder. PGlite has no lock of its own, and two
// processes writing one folder (a running `haven serve` and `haven migrate`, say) can corrupt it.
// Every command that opens the folder takes this lock first: a directory `<folder>.lock` created
// atomically (proper-lockfile), whose mtime the holder refreshes. A holder killed without cleanup
// (SIGKILL, power loss) stops refreshing, and after DATA_LOCK_STALE_MS the lock counts as stale
// and the next process takes it over. A normal exit or a signal removes it (signal-exit).
// PostgreSQL (DATABASE_URL) and the in-memory database need no lock and take none.
import { mkdirSync, realpathSync } from 'node:fs';
import { lock } from 'proper-lockfile';

/** A lock not refreshed for this long belongs to a process that is gone. */
export const DATA_LOCK_STALE_MS = 10_000;
/** How often the holder refreshes the lock. */
const DATA_LOCK_UPDATE_MS = 2_000;

/** Another process holds the folder. The message is meant for the operator as it stands. */
export class DataDirLockedError extends Error {
  constructor(readonly dir: string) {
    super(
      `The data folder ${dir} is in use by another Haven process (a running \`haven serve\`, ` +
        'or another command). Two processes using the embedded database at once can corrupt it, ' +
        'so this command did not open it. Stop the server first and run the command again, or ' +
        'run Haven on PostgreSQL (DATABASE_URL), where commands can run beside the servers. If ' +
        `no Haven process is running any more, its lock (${dir}.lock) expires by itself within ` +
        `${DATA_LOCK_STALE_MS / 1000} seconds.`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** The folder's real path (symlinks resolved: two paths to one folder share one lock). */
  readonly dir: string;
  /** Removes the lock; safe to call more than once. */
  release(): Promise<void>;
}

export interface DataDirLockOptions {
  /**
   * Called when the lock was lost while held: its directory was removed, or another process took
   * it over after this one stalled for longer than the stale time. The holder must stop using
   * the folder; the default throws, which ends the process.
   */
  readonly onCompromised?: (error: Error) => void;
  /**
   * How long to keep trying while another process holds the lock (default: not at all). A
   * server restarted right after a crash (a supervisor's restart, within the stale time) waits
   * for the dead process's lock to go stale instead of failing every attempt meanwhile.
   */
  readonly waitMs?: number;
}

/** Between two tries while waiting for a held lock. */
const DATA_LOCK_RETRY_MS = 1_000;

/** Takes the folder's lock (creating the folder if needed) or throws DataDirLockedError. */
export async function lockDataDir(
  folder: string,
  options: DataDirLockOptions = {},
): Promise<DataDirLock> {
  mkdirSync(folder, { recursive: true });
  const dir = realpathSync(folder);
  let unlock: () => Promise<void>;
  try {
    unlock = await lock(dir, {
      stale: DATA_LOCK_STALE_MS,
      update: DATA_LOCK_UPDATE_MS,
      realpath: false,
      retries: {
        retries: Math.ceil((options.waitMs ?? 0) / DATA_LOCK_RETRY_MS),
        factor: 1,
        minTimeout: DATA_LOCK_RETRY_MS,
        maxTimeout: DATA_LOCK_RETRY_MS,
      },
      onCompromised:
        options.onCompromised ??
        ((error) => {
          throw error;
        }),
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ELOCKED') throw new DataDirLockedError(dir);
    throw error;
  }
  let released: Promise<void> | undefined;
  return {
    dir,
    release() {
      // A lock already lost (compromised) has nothing left to remove.
      released ??= unlock().catch((error: { code?: unknown }) => {
        if (error.code !== 'ERELEASED' && error.code !== 'ENOTACQUIRED') throw error;
      });
      return released;
    },
  };
}
