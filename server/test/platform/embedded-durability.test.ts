// The embedded database acknowledges a commit only after its write-ahead log is on the disk
// (durable-nodefs.ts). A power cut cannot be staged in a test, so these tests watch the flushes
// themselves: each flush is counted with the real file it reaches (`/proc/self/fd`), and a disk
// that refuses a flush is played by the flush seam. (Without the refusal, a statement sent to the
// stopped database blocks the whole process, so such a test run never ends rather than fails.)
import { cpSync, fdatasyncSync, fsyncSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEmbedded } from '../databases.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PUBLIC } from '../../src/platform/http/route-contract.js';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import type { Flushes } from '../../src/platform/db/durable-nodefs.js';
import { isDatabaseUnavailable } from '../../src/platform/db/faults.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { testEnv } from '../app-harness.js';

/** Real flushes that remember which file each one reached, and can play a failing disk. */
function watchedFlushes() {
  const flushed: string[] = [];
  let refuse = false;
  const flushes: Flushes = {
    file(fd) {
      flushed.push(readlinkSync(`/proc/self/fd/${fd}`));
      if (refuse) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      fdatasyncSync(fd);
    },
    folder(fd) {
      flushed.push(readlinkSync(`/proc/self/fd/${fd}`));
      fsyncSync(fd);
    },
  };
  return {
    flushes,
    flushed,
    refuseFlushes() {
      refuse = true;
    },
  };
}

describeEmbedded('embedded database durability', () => {
  const folders: string[] = [];
  const open: Database[] = [];
  // A new cluster flushes each of its ~500 files once; the tests copy one made here instead.
  let initialized: string;

  beforeAll(async () => {
    initialized = mkdtempSync(path.join(tmpdir(), 'haven-durable-template-'));
    const database = await openDatabase({ url: undefined, embeddedDir: initialized });
    await migrateToLatest(database.db);
    await database.close();
  });

  afterAll(() => {
    rmSync(initialized, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const database of open.splice(0)) await database.close().catch(() => undefined);
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  async function openEmbedded(flushes: Flushes, folder = newFolder()): Promise<Database> {
    const database = await openDatabase({
      url: undefined,
      embeddedDir: folder,
      embeddedFlushes: flushes,
    });
    open.push(database);
    return database;
  }

  /** A copy of the migrated cluster, made while no process has it open. */
  function newFolder(): string {
    const folder = mkdtempSync(path.join(tmpdir(), 'haven-durable-'));
    cpSync(initialized, folder, { recursive: true });
    folders.push(folder);
    return folder;
  }

  it('embedded durability/no fsync off: PostgreSQL runs with fsync on and flushes its WAL with fsync, the call the file system carries out', async () => {
    const database = await openEmbedded(watchedFlushes().flushes);
    const setting = async (name: string) =>
      (
        await sql<Record<string, string>>`select current_setting(${name}) as value`.execute(
          database.db,
        )
      ).rows[0]?.value;
    expect(await setting('fsync')).toBe('on');
    expect(await setting('synchronous_commit')).toBe('on');
    // Emscripten drops `fdatasync` without a word; `fsync` reaches the file system.
    expect(await setting('wal_sync_method')).toBe('fsync');
  });

  it('embedded durability/power loss: a commit is acknowledged only after its write-ahead log reached the disk', async () => {
    const watch = watchedFlushes();
    const database = await openEmbedded(watch.flushes);
    await sql`create table durability_probe (id int primary key, body text not null)`.execute(
      database.db,
    );

    for (let id = 1; id <= 3; id += 1) {
      watch.flushed.length = 0;
      await sql`insert into durability_probe values (${id}, 'saved')`.execute(database.db);
      expect(
        watch.flushed.filter((file) => file.includes(`${path.sep}pg_wal${path.sep}`)),
      ).not.toEqual([]);
    }

    // A transaction is flushed once, at its commit, and not before.
    await database.db.transaction().execute(async (trx) => {
      watch.flushed.length = 0;
      await sql`insert into durability_probe values (4, 'in a transaction')`.execute(trx);
      await sql`insert into durability_probe values (5, 'in a transaction')`.execute(trx);
      expect(watch.flushed).toEqual([]);
    });
    expect(watch.flushed.some((file) => file.includes(`${path.sep}pg_wal${path.sep}`))).toBe(true);
  });

  it('embedded durability/disk refuses a flush: the statement fails unacknowledged, every later one is refused as unavailable instead of waiting forever, and a restart recovers every acknowledged row', async () => {
    const folder = newFolder();
    const watch = watchedFlushes();
    const database = await openEmbedded(watch.flushes, folder);
    await sql`create table durability_probe (id int primary key)`.execute(database.db);
    await sql`insert into durability_probe values (1)`.execute(database.db);

    watch.refuseFlushes();
    await expect(sql`insert into durability_probe values (2)`.execute(database.db)).rejects.toThrow(
      /could not fsync/,
    );
    const later = await sql`select count(*) from durability_probe`
      .execute(database.db)
      .catch((error: unknown) => error);
    expect(later).toBeInstanceOf(Error);
    expect(isDatabaseUnavailable(later)).toBe(true);
    expect(String((later as Error).message)).toMatch(/restart Haven/);
    const ping = await database.ping().catch((error: unknown) => error);
    expect(isDatabaseUnavailable(ping)).toBe(true);

    // The process holding the stopped instance goes away (as a restart does); the folder opens
    // again, replays its write-ahead log and holds the acknowledged row.
    open.splice(open.indexOf(database), 1);
    const reopened = await openEmbedded(watchedFlushes().flushes, folder);
    const rows = await sql<{ id: number }>`select id from durability_probe order by id`.execute(
      reopened.db,
    );
    expect(rows.rows.map((row) => row.id)).toContain(1);
  });

  it('embedded durability/full disk: a WAL write the disk refuses PANICs the database, and every later statement is refused as unavailable instead of waiting forever', async () => {
    const database = await openEmbedded(watchedFlushes().flushes);
    await sql`create table durability_probe (id int primary key)`.execute(database.db);
    await sql`insert into durability_probe values (1)`.execute(database.db);

    // The disk fills up: every write into the write-ahead log fails with ENOSPC from here on.
    type Write = (stream: { path?: string }, ...rest: unknown[]) => number;
    const nodefs = (
      database.pglite!.Module.FS as unknown as {
        filesystems: { NODEFS: { stream_ops: { write: Write } } };
      }
    ).filesystems.NODEFS;
    const write = nodefs.stream_ops.write;
    nodefs.stream_ops.write = (stream, ...rest) => {
      if (stream.path?.includes('/pg_wal/')) {
        throw Object.assign(new Error('no space left on device'), {
          errno: 28,
          name: 'ErrnoError',
        });
      }
      return write(stream, ...rest);
    };
    try {
      const refused = await sql`insert into durability_probe values (2)`
        .execute(database.db)
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Error);
      const later = await sql`select count(*) from durability_probe`
        .execute(database.db)
        .catch((error: unknown) => error);
      expect(isDatabaseUnavailable(later)).toBe(true);
      expect(String((later as Error).message)).toMatch(/restart Haven/);
    } finally {
      nodefs.stream_ops.write = write;
    }
  });

  it('embedded durability/disk refuses a flush: the server answers 503 with Retry-After and /readyz fails, never hangs', async () => {
    const watch = watchedFlushes();
    const database = await openEmbedded(watch.flushes);
    const app = await buildApp(loadConfig(testEnv()), {
      database,
      modules: [
        (instance) => {
          instance.get(
            '/api/test/records',
            {
              config: { access: PUBLIC, rateClass: 'read' },
              schema: { response: { 200: Type.Object({ count: Type.Number() }) } },
            },
            async () => {
              await sql`select 1`.execute(instance.database.db);
              return { count: 1 };
            },
          );
        },
      ],
    });
    try {
      await app.ready();
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

      watch.refuseFlushes();
      await sql`create table refused (id int)`.execute(database.db).catch(() => undefined);

      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      const read = await app.inject({ method: 'GET', url: '/api/test/records' });
      expect(read.statusCode).toBe(503);
      expect(read.headers['retry-after']).toBeDefined();
      expect(read.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await app.close();
    }
  });
});
