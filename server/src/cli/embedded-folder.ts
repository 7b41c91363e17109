// What every command that opens the database shares: the configuration or a clear refusal,
// and the embedded folder opened under its lock (one process at a time, platform/db/data-lock.ts).
import { ConfigError, loadConfig, type HavenConfig } from '../config.js';
import { openDatabase, type Database } from '../platform/db/database.js';
import { lockDataDir, type DataDirLock } from '../platform/db/data-lock.js';

export function configOrExit(): HavenConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`haven: refusing to start.\n${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** The embedded database folder, or undefined when DATABASE_URL selects PostgreSQL. */
export const embeddedDirOf = (config: HavenConfig): string | undefined =>
  config.databaseUrl === undefined ? `${config.dataDir}/db` : undefined;

/**
 * Locks the embedded folder for this process (nothing to lock on PostgreSQL). Throws
 * DataDirLockedError, reported by main(), while another process holds it.
 */
export async function lockEmbeddedDir(
  config: HavenConfig,
  options: { readonly waitMs?: number } = {},
): Promise<DataDirLock | undefined> {
  const dir = embeddedDirOf(config);
  if (dir === undefined) return undefined;
  return lockDataDir(dir, {
    ...options,
    // Lost only if the lock directory was removed or another process took it over: stop at once
    // rather than write the folder beside another process.
    onCompromised: (error) => {
      process.stderr.write(
        `haven: lost the lock on the data folder ${dir} (${error.message}); stopping so that ` +
          'two processes never use the embedded database at once.\n',
      );
      process.exit(1);
    },
  });
}

/** Opens the configured database; an embedded folder is locked until close(). */
export async function openConfiguredDatabase(config: HavenConfig): Promise<Database> {
  const lock = await lockEmbeddedDir(config);
  try {
    const database = await openDatabase({
      url: config.databaseUrl,
      embeddedDir: embeddedDirOf(config),
    });
    return {
      ...database,
      async close() {
        try {
          await database.close();
        } finally {
          await lock?.release();
        }
      },
    };
  } catch (error) {
    await lock?.release();
    throw error;
  }
}
