// `haven backup` and `haven restore` for the embedded mode (issue 13, item 6); the archive format
// and the moves are in platform/backup/embedded-backup.ts. PostgreSQL deployments use pg_dump
// (docs/operations.md).
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import {
  BackupError,
  backupEmbedded,
  restoreEmbedded,
} from '../platform/backup/embedded-backup.js';
import { runAuditLogVerify } from '../platform/audit/configured.js';
import { openDatabase } from '../platform/db/database.js';
import {
  configOrExit,
  embeddedDirOf,
  lockEmbeddedDir,
  openConfiguredDatabase,
} from './embedded-folder.js';

/** The archive name when none is given: haven-backup-<UTC time>.tar.gz in the current folder. */
const defaultBackupName = (now: Date): string =>
  `haven-backup-${now
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z')}.tar.gz`;

async function backup(options: { out?: string }): Promise<void> {
  const config = configOrExit();
  if (config.databaseUrl !== undefined) {
    process.stderr.write(
      'haven backup: this deployment runs on PostgreSQL (DATABASE_URL). Back it up with ' +
        'pg_dump --format=custom (docs/operations.md); `haven backup` is for the embedded database.\n',
    );
    process.exitCode = 2;
    return;
  }
  try {
    const outcome = await backupEmbedded(config, options.out ?? defaultBackupName(new Date()), () =>
      openConfiguredDatabase(config),
    );
    process.stdout.write(
      `Backup written to ${outcome.file} (${outcome.bytes} bytes, SHA-256 ${outcome.sha256}).\n` +
        `${outcome.audit}\n` +
        (outcome.devMasterKey
          ? 'It holds the development master key of this folder, so it restores as is; keep it as private as the data.\n'
          : 'The master key (HAVEN_MASTER_KEY) is not in it: a restore needs the same key.\n'),
    );
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    process.stderr.write(`haven backup: ${error.message}\n`);
    process.exitCode = error.exitCode;
  }
}

async function restore(archive: string, options: { force?: boolean }): Promise<void> {
  const config = configOrExit();
  const lock = await lockEmbeddedDir(config);
  let report: string;
  try {
    const outcome = await restoreEmbedded(config, archive, { force: options.force === true });
    // Read again: the restored folder may bring its own development key.
    const restored = loadConfig();
    const verified = await runAuditLogVerify(restored, undefined, () =>
      openDatabase({ url: undefined, embeddedDir: embeddedDirOf(restored) }),
    );
    report =
      `Restored the backup of ${outcome.createdAt} into ${config.dataDir}.\n` +
      (outcome.movedAside === null
        ? ''
        : `What was there before is kept in ${outcome.movedAside}.\n`) +
      verified.stdout +
      verified.stderr;
    process.exitCode = verified.exitCode;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    process.stderr.write(`haven restore: ${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  } finally {
    await lock?.release();
  }
  const code = process.exitCode;
  // Exits explicitly: a PGlite opened with `loadDataDir` leaves PostgreSQL's interval timer
  // (setitimer, re-armed from inside the WebAssembly runtime) scheduled after close(), which
  // would keep this process alive for ever although everything is done and released.
  process.stdout.write(report, () => process.exit(code));
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write an archive of the embedded data folder (stop the server first)')
    .option('--out <file>', 'archive to write (default haven-backup-<time>.tar.gz here)')
    .action(backup);
  program
    .command('restore')
    .description('restore an archive written by `haven backup` into the data folder')
    .argument('<archive>', 'the .tar.gz written by haven backup')
    .option('--force', 'replace an existing database (it is moved aside, not deleted)')
    .action(restore);
}
