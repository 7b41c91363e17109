// The embedded database's commits reach the disk before they are acknowledged.
//
// PGlite, as shipped, is not durable against power loss or an operating-system crash, in two ways:
//   1. it starts PostgreSQL with `-F` (fsync = off), so PostgreSQL never asks for a flush; and
//   2. its Emscripten file system for Node (NODEFS) has no `fsync` operation, and Emscripten's
//      `fdatasync` does nothing at all, so a flush PostgreSQL did ask for would be answered
//      "done" while the bytes still sat in the page cache.
// A killed process loses nothing either way (the kernel holds its writes), but a power cut after
// "saved" could lose the last seconds of records, or tear a data page. PostgreSQL deployments are
// unaffected; this file gives the embedded default the same promise.
//
// The fix has three parts, each needed: PostgreSQL starts without `-F`; the WAL is flushed with
// `fsync` (which Emscripten routes to the file system's operation) instead of `fdatasync` (which it
// drops); and NODEFS gains the missing operation, calling Node's fsync on the real file (or folder:
// PostgreSQL also flushes a folder after creating a file in it). A file is flushed with
// `fdatasync`, as PostgreSQL itself does by default on Linux: it writes the data and what is
// needed to read it back (the size), not the modification time, which costs one journal write
// less per commit. It is written here because no
// PGlite option or package provides it (PGlite's own `relaxedDurability` concerns only its
// browser stores); PGlite's file-system hook (`fs`, a NodeFS subclass) is its documented way in.
import { closeSync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

type PostgresModule = Parameters<NodeFS['init']>[1];

/** The parts of Emscripten's NODEFS this file touches (its types are not exported). */
interface NodeFsDriver {
  stream_ops: { fsync?: (stream: EmscriptenStream) => number };
  realPath(node: unknown): string;
  /** Runs a Node file call, turning its error into the errno PostgreSQL's C code receives. */
  tryFSOperation<T>(operation: () => T): T;
}
interface EmscriptenStream {
  /** Node's descriptor of an open regular file; folders are opened without one. */
  nfd?: number;
  node: unknown;
}
interface EmscriptenFs {
  filesystems: { NODEFS: NodeFsDriver };
}

/** How open descriptors are flushed to the disk; a seam for the test that counts flushes. */
export interface Flushes {
  /** A regular file's data (and the size needed to read it back). */
  file(fd: number): void;
  /** A folder's entries, after a file was created, renamed or removed in it. */
  folder(fd: number): void;
}

const DISK: Flushes = { file: fdatasyncSync, folder: fsyncSync };

/**
 * PostgreSQL's start parameters for a durable embedded database: PGlite's own, without `-F`, and
 * with the WAL flushed by `fsync`.
 */
export function durableStartParams(): string[] {
  const params = PGlite.defaultStartParams.filter((param) => param !== '-F');
  return [...params, '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

/** PGlite's Node file system with a real `fsync` (see the top of this file). */
export class DurableNodeFS extends NodeFS {
  readonly #flush: Flushes;
  #failure: Error | undefined;

  constructor(dataDir: string, flush: Flushes = DISK) {
    super(dataDir);
    this.#flush = flush;
  }

  /**
   * Why the database must not be used any more (see refuseAfterFatalError): the first file flush
   * that failed, or the first PANIC PostgreSQL reported (a WAL write the disk refused, say).
   */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Records a fatal error; the first one is kept. */
  stop(error: Error): void {
    this.#failure ??= error;
  }

  override async init(pg: PGlite, options: Partial<PostgresModule>) {
    const { emscriptenOpts } = await super.init(pg, options);
    const preRun = emscriptenOpts.preRun ?? [];
    const installFsync = (module: { FS: EmscriptenFs }) => {
      addFsync(module.FS.filesystems.NODEFS, this.#flush, (error) => {
        this.stop(error);
      });
    };
    return {
      emscriptenOpts: {
        ...emscriptenOpts,
        preRun: [...(Array.isArray(preRun) ? preRun : [preRun]), installFsync],
      } as Partial<PostgresModule>,
    };
  }
}

function addFsync(nodefs: NodeFsDriver, flush: Flushes, failed: (error: Error) => void): void {
  // Every NODEFS stream shares this one operations table, so the operation reaches files opened
  // before and after. A failed flush reaches PostgreSQL as its errno: the statement that needed it
  // fails and is never acknowledged, and PostgreSQL PANICs rather than carry on with a WAL it
  // cannot trust (`data_sync_retry = off`), as it does on a disk.
  nodefs.stream_ops.fsync = (stream) =>
    nodefs.tryFSOperation(() => {
      if (stream.nfd !== undefined) {
        try {
          flush.file(stream.nfd);
        } catch (error) {
          failed(error instanceof Error ? error : new Error(String(error)));
          throw error;
        }
        return 0;
      }
      // A folder's flush failing is PostgreSQL's to judge: some it only logs (flushing the whole
      // folder after a crash, which meets folders it cannot open); it PANICs on the others, and
      // a PANIC stops the database below.
      const folder = openSync(nodefs.realPath(stream.node), 'r');
      try {
        flush.folder(folder);
      } finally {
        closeSync(folder);
      }
      return 0;
    });
}

/**
 * What later statements get once a file flush has failed or PostgreSQL has PANICked (a WAL write
 * refused by a full disk, a flush refused): after a PANIC the embedded PostgreSQL answers nothing
 * more (a statement sent to it would wait forever), so each is refused at once
 * with the SQLSTATE PostgreSQL gives its other sessions after a PANIC, 57P02 `crash_shutdown`:
 * the request is answered 503 with Retry-After and `/readyz` fails. Starting Haven again replays
 * the write-ahead log, which holds every acknowledged write; nothing is retried in process,
 * because the disk that refused a flush is the one it would write to.
 */
export class EmbeddedDatabaseStopped extends Error {
  readonly code = '57P02';

  constructor(readonly fatal: Error) {
    super(
      'The embedded database stopped after the disk refused to save its changes ' +
        `(${fatal.message}). Check the disk, then restart Haven: it recovers every saved change.`,
      { cause: fatal },
    );
    this.name = 'EmbeddedDatabaseStopped';
  }
}

/** True for an error PostgreSQL raised at PANIC level: the server process is gone after it. */
function isPanic(error: unknown): error is Error {
  return error instanceof Error && (error as { severity?: unknown }).severity === 'PANIC';
}

/** Makes `pglite` refuse every statement once `fs` has seen a fatal error (see above). */
export function refuseAfterFatalError(pglite: PGlite, fs: DurableNodeFS): void {
  const refusal = () => {
    const failure = fs.failure;
    return failure === undefined ? undefined : new EmbeddedDatabaseStopped(failure);
  };
  // The three ways PGlite takes a statement (Kysely's dialect uses `query`).
  for (const method of ['query', 'exec', 'transaction'] as const) {
    const send = pglite[method].bind(pglite) as (...args: unknown[]) => Promise<unknown>;
    (pglite as unknown as Record<typeof method, typeof send>)[method] = (...args) => {
      const stopped = refusal();
      if (stopped) return Promise.reject(stopped);
      return send(...args).catch((error: unknown) => {
        if (isPanic(error)) fs.stop(error);
        throw error;
      });
    };
  }
}
