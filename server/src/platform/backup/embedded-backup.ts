// Backups of the embedded mode (issue 13, item 6): `haven backup` writes one archive of the data
// folder's durable state, `haven restore` puts it back. PostgreSQL deployments use pg_dump
// (docs/operations.md); these commands refuse there.
//
// The archive (tar + gzip, via node-tar) holds:
//   haven-backup.json     what it is: format, time, migrations, the audit chain's state
//   database.tar.gz       PGlite's own dump of its folder (dumpDataDir), loadable as is
//   files/                stored uploads, still encrypted as the filesystem driver wrote them
//   audit-anchors.jsonl   the audit chain's anchors, so verification after a restore is anchored
//   dev-master.key        only for a development key kept in the folder; a production key
//                         (HAVEN_MASTER_KEY) is never written anywhere by Haven
//
// Both commands hold the data folder's lock for their whole run, so no server writes the folder
// meanwhile. Nothing is ever lost: the archive is written beside its final name and renamed when
// complete, and a restore moves what it replaces into `before-restore-<time>/` instead of
// deleting it, after the archive has been read and checked in full. Both flush what they wrote
// to the disk before renaming it into place, and the folder after: a power cut just after
// "backup written" or "restored" leaves the whole archive or data folder, not an empty name or a
// database whose files never left the page cache (the loaded database's files are written by
// PGlite's loader, not by PostgreSQL, so no checkpoint of its would flush them).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  cp,
  mkdir,
  mkdtemp,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import type { PGlite } from '@electric-sql/pglite';
import type { HavenConfig } from '../../config.js';
import { runAuditLogVerify } from '../audit/configured.js';
import { openDatabase, type Database } from '../db/database.js';

export const BACKUP_FORMAT = 1;

/** Flushes one file or folder to the disk; a seam for the test that records what was flushed. */
export type FlushPath = (target: string) => Promise<void>;

async function flushToDisk(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates the embedded database folder `dbDir` from a PGlite dump, and closes it again. */
export async function loadEmbeddedDump(dbDir: string, dump: Blob): Promise<void> {
  const loaded = await openDatabase({ url: undefined, embeddedDir: dbDir, embeddedTemplate: dump });
  await loaded.close();
}

/** Flushes `root`, and when it is a folder every file and folder under it first. */
async function flushTree(root: string, flush: FlushPath): Promise<void> {
  if (!(await stat(root)).isDirectory()) return flush(root);
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  for (const entry of entries) {
    if (entry.isFile() || entry.isDirectory()) await flush(path.join(entry.parentPath, entry.name));
  }
  await flush(root);
}
const MANIFEST = 'haven-backup.json';
const DATABASE_DUMP = 'database.tar.gz';
const FILES = 'files';
const ANCHORS = 'audit-anchors.jsonl';
const DEV_KEY = 'dev-master.key';

/** A refusal meant for the operator as it stands (exit status 1 unless said otherwise). */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

interface Manifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly createdAt: string;
  readonly migrations: string[];
  /** `haven audit-log verify`'s report on the database as it was backed up. */
  readonly audit: string;
  readonly files: boolean;
  readonly anchors: boolean;
  readonly devMasterKey: boolean;
}

export interface BackupOutcome {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly audit: string;
  readonly devMasterKey: boolean;
}

export interface RestoreOutcome {
  readonly createdAt: string;
  /** Where the replaced database, files and anchors now are; null when there was nothing. */
  readonly movedAside: string | null;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function pgliteOf(database: Database): PGlite {
  if (database.pglite === undefined) {
    throw new BackupError(
      'this is a PostgreSQL deployment (DATABASE_URL): back it up with pg_dump, as ' +
        'docs/operations.md shows. `haven backup` is for the embedded database.',
      2,
    );
  }
  return database.pglite;
}

async function appliedMigrations(pglite: PGlite): Promise<string[]> {
  const result = await pglite.query<{ name: string }>(
    'select name from schema_migrations order by name',
  );
  return result.rows.map((row) => row.name);
}

/**
 * Writes the archive to `out` from an open, locked embedded database. `open` gives the
 * database; it is closed (and its lock released) before this returns.
 */
export async function backupEmbedded(
  config: HavenConfig,
  out: string,
  openDatabase: () => Promise<Database>,
  flush: FlushPath = flushToDisk,
): Promise<BackupOutcome> {
  const target = path.resolve(out);
  if (existsSync(target)) {
    throw new BackupError(`${target} already exists; name a new file (nothing was written).`);
  }
  const staging = await mkdtemp(path.join(path.dirname(target), '.haven-backup-'));
  const partial = `${target}.partial`;
  try {
    const database = await openDatabase();
    let manifest: Manifest;
    try {
      const pglite = pgliteOf(database);
      const verified = await runAuditLogVerify(config, undefined, () =>
        Promise.resolve({ db: database.db, close: () => Promise.resolve() }),
      );
      if (verified.exitCode !== 0) {
        throw new BackupError(
          `the audit log does not verify, so this backup would carry a broken chain:\n` +
            `${verified.stdout}${verified.stderr}Run \`haven audit-log verify\` and resolve it first.`,
        );
      }
      const dump = await pglite.dumpDataDir('gzip');
      await writeFile(path.join(staging, DATABASE_DUMP), Buffer.from(await dump.arrayBuffer()));
      // Files and anchors are copied while the lock is still held: no server is writing them.
      const files = await copyIfPresent(path.join(config.dataDir, FILES), staging, FILES);
      const anchors = await copyIfPresent(path.join(config.dataDir, ANCHORS), staging, ANCHORS);
      const devMasterKey =
        config.masterKeySource === 'generated-dev-file' &&
        (await copyIfPresent(path.join(config.dataDir, DEV_KEY), staging, DEV_KEY));
      manifest = {
        format: BACKUP_FORMAT,
        createdAt: new Date().toISOString(),
        migrations: await appliedMigrations(pglite),
        audit: verified.stdout.trim(),
        files,
        anchors,
        devMasterKey,
      };
    } finally {
      await database.close();
    }
    await writeFile(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await tar.create({ gzip: true, file: partial, cwd: staging, portable: true }, [
      ...(await readdir(staging)),
    ]);
    await flush(partial);
    await rename(partial, target);
    await flush(path.dirname(target));
    return {
      file: target,
      bytes: (await stat(target)).size,
      sha256: await sha256Of(target),
      audit: manifest.audit,
      devMasterKey: manifest.devMasterKey,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

async function copyIfPresent(source: string, staging: string, name: string): Promise<boolean> {
  if (!existsSync(source)) return false;
  await cp(source, path.join(staging, name), { recursive: true, preserveTimestamps: true });
  return true;
}

/** Reads and checks an extracted archive's manifest; a clear refusal for anything else. */
async function readManifest(dir: string, archive: string): Promise<Manifest> {
  let manifest: Partial<Manifest>;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
  } catch {
    throw new BackupError(`${archive} is not a Haven backup (no readable ${MANIFEST}).`);
  }
  if (manifest.format !== BACKUP_FORMAT || !existsSync(path.join(dir, DATABASE_DUMP))) {
    throw new BackupError(
      `${archive} is a backup format this Haven does not read (format ${String(manifest.format)}).`,
    );
  }
  return manifest as Manifest;
}

/** Whether a database folder holds anything (PGlite creates PG_VERSION and friends). */
async function holdsDatabase(dir: string): Promise<boolean> {
  return existsSync(dir) && (await readdir(dir)).length > 0;
}

/**
 * Restores the archive into the configured data folder. The caller holds the data folder's
 * lock. `load` creates the embedded database folder from a PGlite dump and closes it again.
 */
export async function restoreEmbedded(
  config: HavenConfig,
  archive: string,
  options: { force: boolean },
  load: (dbDir: string, dump: Blob) => Promise<void> = loadEmbeddedDump,
  flush: FlushPath = flushToDisk,
): Promise<RestoreOutcome> {
  if (config.databaseUrl !== undefined) {
    throw new BackupError(
      'this is a PostgreSQL deployment (DATABASE_URL): restore it with pg_restore, as ' +
        'docs/operations.md shows. `haven restore` is for the embedded database.',
      2,
    );
  }
  const source = path.resolve(archive);
  if (!existsSync(source)) throw new BackupError(`${source} does not exist.`);
  await mkdir(config.dataDir, { recursive: true });
  const dbDir = path.join(config.dataDir, 'db');
  if ((await holdsDatabase(dbDir)) && !options.force) {
    throw new BackupError(
      `${config.dataDir} already holds a database. Run again with --force to restore anyway: ` +
        'what is there now is moved to a before-restore-<time> folder beside it, not deleted.',
    );
  }
  // Extracted inside the data folder, so the moves below are renames on one filesystem.
  const staging = await mkdtemp(path.join(config.dataDir, '.restore-'));
  try {
    try {
      await tar.extract({ file: source, cwd: staging, strict: true });
    } catch (error) {
      throw new BackupError(
        `${source} cannot be read as a Haven backup (${(error as Error).message}); nothing was changed.`,
      );
    }
    const manifest = await readManifest(staging, source);
    // Load into a fresh folder first: a dump PGlite cannot load leaves the current data alone.
    const loaded = path.join(staging, 'db');
    const dump = new Blob([await readFile(path.join(staging, DATABASE_DUMP))]);
    try {
      await load(loaded, dump);
    } catch (error) {
      throw new BackupError(
        `the database in ${source} could not be loaded (${(error as Error).message}); nothing was changed.`,
      );
    }
    const replaced: Array<[string, boolean]> = [
      ['db', true],
      [FILES, manifest.files],
      [ANCHORS, manifest.anchors],
      [DEV_KEY, manifest.devMasterKey],
    ];
    // On the disk before anything is moved aside: a flush that fails leaves the folder untouched.
    for (const [name, present] of replaced) {
      if (present) await flushTree(path.join(staging, name), flush);
    }
    const aside = path.join(
      config.dataDir,
      `before-restore-${new Date().toISOString().replaceAll(':', '-')}`,
    );
    // A development key in a folder with no database, files or anchors encrypts nothing (it is
    // the one loading the configuration just generated): replaced, not kept.
    const folderHoldsData =
      (await holdsDatabase(dbDir)) ||
      existsSync(path.join(config.dataDir, FILES)) ||
      existsSync(path.join(config.dataDir, ANCHORS));
    let movedAny = false;
    for (const [name] of replaced) {
      const current = path.join(config.dataDir, name);
      if (!existsSync(current) || (name === 'db' && !(await holdsDatabase(current)))) continue;
      if (name === DEV_KEY && !folderHoldsData) {
        await rm(current, { force: true });
        continue;
      }
      await mkdir(aside, { recursive: true });
      await rename(current, path.join(aside, name));
      movedAny = true;
    }
    await rm(dbDir, { recursive: true, force: true });
    for (const [name, present] of replaced) {
      if (present) await rename(path.join(staging, name), path.join(config.dataDir, name));
    }
    if (movedAny) await flush(aside);
    await flush(config.dataDir);
    // The data folder may be new (created above): its own name is in its parent.
    await flush(path.dirname(config.dataDir));
    return { createdAt: manifest.createdAt, movedAside: movedAny ? aside : null };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
