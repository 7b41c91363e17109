// Durable writes for the filesystem driver: a file is on disk (fsync) before it is renamed into
// place, and the folder holding the new name is fsynced after, so nothing acknowledged is lost
// to a crash; what a crash leaves in tmp/ is swept a day later.
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';

const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Bytes written between early flushes (see DurableFileWriter). */
const EARLY_SYNC_BYTES = 2 * 1024 * 1024;

/**
 * Writes to a file the caller opened and, at the end, fsyncs it (the write is durable when the
 * stream finishes; the caller closes the handle). Along the way it starts a datasync every
 * EARLY_SYNC_BYTES, one at a time, without waiting for it: the disk writes back while more
 * bytes arrive and are encrypted, so the final fsync has only the tail left to flush. (An
 * fsync at the end alone would leave the disk idle while the CPU works, then the CPU idle while
 * the disk works: every part waits for both in turn.)
 */
export class DurableFileWriter extends Writable {
  private written = 0;
  private syncedAt = 0;
  private syncing: Promise<void> | undefined;
  private syncError: Error | undefined;

  constructor(private readonly handle: FileHandle) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    done: (error?: Error | null) => void,
  ): void {
    this.writeAll(chunks.map(({ chunk }) => chunk)).then(() => done(), done);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    this.writeAll([chunk]).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    (async () => {
      await this.syncing;
      if (this.syncError) throw this.syncError;
      await this.handle.sync();
    })().then(() => done(), done);
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    let pending = buffers.filter((buffer) => buffer.length > 0);
    while (pending.length > 0) {
      const { bytesWritten } = await this.handle.writev(pending);
      this.written += bytesWritten;
      // A short write (rare, for a regular file) continues where it stopped.
      let skip = bytesWritten;
      while (pending.length > 0 && skip >= pending[0]!.length) skip -= pending.shift()!.length;
      if (skip > 0) pending = [pending[0]!.subarray(skip), ...pending.slice(1)];
    }
    if (this.syncing === undefined && this.written - this.syncedAt >= EARLY_SYNC_BYTES) {
      this.syncedAt = this.written;
      this.syncing = this.handle
        .datasync()
        .catch((error: unknown) => {
          this.syncError = error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => {
          this.syncing = undefined;
        });
    }
  }
}

export async function writeFileDurably(file: string, contents: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temp files of writes that a crash interrupted; a day old means no live write owns them. */
export async function sweepStaleTemporaryFiles(tmp: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of await readdir(tmp)) {
    const file = path.join(tmp, name);
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await rm(file, { force: true });
  }
}
