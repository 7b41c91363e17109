// `haven backup` and `haven restore` flush what they write before it takes its final name, and
// the folder after (embedded-backup.ts): a power cut just after either says "done" must not leave
// an empty archive, or a restored database whose files were still in the page cache. A power cut
// cannot be staged here, so the flush seam records what was flushed and when.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEmbedded } from '../databases.js';
import { loadConfig } from '../../src/config.js';
import {
  backupEmbedded,
  loadEmbeddedDump,
  restoreEmbedded,
  type FlushPath,
} from '../../src/platform/backup/embedded-backup.js';
import { openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { testEnv } from '../app-harness.js';

/** Every file under `root`, relative to it. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

describeEmbedded('embedded backup and restore durability', () => {
  let work: string;
  let archive: string;
  const env = testEnv();

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'haven-backup-durable-'));
    const dataDir = path.join(work, 'source');
    const database = await openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') });
    await migrateToLatest(database.db);
    await database.close();
    archive = path.join(work, 'haven.tar.gz');
    await backupEmbedded(loadConfig({ ...env, HAVEN_DATA_DIR: dataDir }), archive, () =>
      openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') }),
    );
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('durability/backup: the archive is on the disk before it takes its name, and its folder after', async () => {
    const dataDir = path.join(work, 'source');
    const target = path.join(work, 'second.tar.gz');
    const flushed: Array<{ target: string; finalNameExists: boolean }> = [];
    const flush: FlushPath = (file) => {
      flushed.push({ target: file, finalNameExists: existsSync(target) });
      return Promise.resolve();
    };
    await backupEmbedded(
      loadConfig({ ...env, HAVEN_DATA_DIR: dataDir }),
      target,
      () => openDatabase({ url: undefined, embeddedDir: path.join(dataDir, 'db') }),
      flush,
    );
    expect(flushed).toEqual([
      { target: `${target}.partial`, finalNameExists: false },
      { target: work, finalNameExists: true },
    ]);
  });

  it('durability/restore: every restored file is on the disk before it is moved into place, and the data folder after', async () => {
    const dataDir = path.join(work, 'restored');
    const flushed: Array<{ target: string; inPlace: boolean }> = [];
    const flush: FlushPath = (file) => {
      flushed.push({ target: file, inPlace: existsSync(path.join(dataDir, 'db')) });
      return Promise.resolve();
    };
    await restoreEmbedded(
      loadConfig({ ...env, HAVEN_DATA_DIR: dataDir }),
      archive,
      { force: false },
      loadEmbeddedDump,
      flush,
    );

    const restoredFiles = filesUnder(path.join(dataDir, 'db'));
    expect(restoredFiles.length).toBeGreaterThan(100);
    // The flushes before the move name the staging copies; compare by path inside `db/`.
    const before = flushed.filter((entry) => !entry.inPlace).map((entry) => entry.target);
    const flushedInDb = new Set(
      before
        .map((file) => file.split(`${path.sep}db${path.sep}`)[1])
        .filter((inside): inside is string => inside !== undefined),
    );
    expect(restoredFiles.filter((file) => !flushedInDb.has(file))).toEqual([]);
    expect(flushed.slice(-2)).toEqual([
      { target: dataDir, inPlace: true },
      { target: path.dirname(dataDir), inPlace: true },
    ]);
  });
});
