// tus bytes into storage parts (F2): a PATCH body becomes parts of TUS_PART_BYTES (the last one
// shorter), each stored with `uploadPart` and acknowledged by storage only once durable; the
// caller records them, each as soon as storage took it when it passes `onStored` (so a node that
// dies mid-PATCH leaves its whole parts resumable on another node). A body with a
// Content-Length streams into its parts as it arrives.
import type { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { HavenError } from '../../../platform/errors.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { MAX_PART_NUMBER, type ObjectStorage } from '../../../platform/storage/index.js';
import { mib } from '../shared/quotas.js';
import type { FilesSettings } from '../shared/settings.js';
import type { SessionRow } from './repo.js';

type FilesContext = ModuleContext<FilesSettings>;

/**
 * tus bytes are stored as parts of at most this size: a PATCH cut off mid-way keeps every whole
 * part before the cut, so a resumed upload re-sends at most this much. A body with a
 * Content-Length streams into its parts; one without is held a part at a time, which bounds a
 * writer's memory either way.
 */
export const TUS_PART_BYTES = 8 * 1024 * 1024;

/**
 * A PATCH is refused before any byte of it is read when storage could not take what it leaves:
 *
 * - Storage numbers an upload's parts 1 to 10,000 and every PATCH with bytes stores at least one
 *   (its last part may be short), so chunks much smaller than `chunkBytes` use the numbers up.
 *   A PATCH after which the rest of the upload no longer fits in the numbers left is refused: the
 *   client sends larger chunks (the rest as `chunkBytes` chunks always fits while it still can).
 * - S3 refuses, at completion, a part under its minimum (5 MiB) that is not the last, so a PATCH
 *   that does not finish the upload may not end in such a part. (A body without Content-Length
 *   is checked when it ends: `storeChunk`.)
 */
export function checkPartsLeft(
  storage: Pick<ObjectStorage, 'partLimits'>,
  recordedParts: number,
  remaining: number,
  contentLength: number | undefined,
): void {
  const left = MAX_PART_NUMBER - recordedParts;
  const chunk = contentLength ?? remaining;
  const rest = remaining - chunk;
  const needed = Math.ceil(chunk / TUS_PART_BYTES) + Math.ceil(rest / TUS_PART_BYTES);
  if (needed > left) {
    const advice =
      Math.ceil(remaining / TUS_PART_BYTES) > left
        ? 'it can no longer be finished; start it again with larger chunks'
        : `send the rest in chunks of ${TUS_PART_BYTES} bytes (chunkBytes)`;
    throw new HavenError(
      'BAD_REQUEST',
      `Too many small chunks: storage takes ${left} more parts for the ${remaining} bytes still to come; ${advice}.`,
    );
  }
  const tail = chunk % TUS_PART_BYTES;
  if (rest > 0 && tail > 0 && tail < storage.partLimits.minPartSize) throw partTooSmall(storage);
}

function partTooSmall(storage: Pick<ObjectStorage, 'partLimits'>): HavenError {
  return new HavenError(
    'BAD_REQUEST',
    `The chunk is too small: this storage takes no part under ${mib(storage.partLimits.minPartSize)} but an upload's last, so send chunks of ${TUS_PART_BYTES} bytes (chunkBytes) or the whole rest of the file.`,
  );
}

/** One part storage acknowledged. */
export interface StoredPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** The parts a PATCH stored, and whether its body arrived whole. */
export interface StoredParts {
  parts: StoredPart[];
  complete: boolean;
}

/**
 * Told of a part once storage acknowledged it while more of the body may follow, before the next
 * part is read: the caller records it then. The PATCH's last part is not told (the caller records
 * it with the PATCH's end, in one statement). A rejection stops the PATCH; the parts told before
 * stay recorded.
 */
export type OnStored = (part: StoredPart) => Promise<void>;

/**
 * Reads `body` into parts of TUS_PART_BYTES (the last one shorter) and stores each in turn; for
 * a body of unknown length (no Content-Length), each part is held in memory once.
 */
export async function storeChunk(
  ctx: FilesContext,
  session: SessionRow,
  body: AsyncIterable<Buffer>,
  limit: number,
  firstPartNumber: number,
  hash: ReturnType<typeof createHash> | undefined,
  onStored?: OnStored,
): Promise<StoredParts> {
  const { storage } = ctx.settings;
  const parts: StoredParts['parts'] = [];
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let received = 0;
  const flush = async (size: number, more: boolean): Promise<void> => {
    // The part is the first `size` pending bytes, handed on as the chunks they arrived in (no
    // copy into one buffer); a chunk that straddles the end is split.
    const part: Buffer[] = [];
    let taken = 0;
    while (taken < size) {
      const head = pending[0]!;
      const need = size - taken;
      if (head.length <= need) {
        part.push(head);
        pending.shift();
        taken += head.length;
      } else {
        part.push(head.subarray(0, need));
        pending[0] = head.subarray(need);
        taken += need;
      }
    }
    pendingBytes -= size;
    const partNumber = firstPartNumber + parts.length;
    const { etag } = await storage.uploadPart({
      key: session.object_key,
      uploadId: session.storage_upload_id,
      partNumber,
      body: Readable.from(part),
      size,
    });
    parts.push({ partNumber, etag, size });
    if (more) await onStored?.({ partNumber, etag, size });
  };
  // Set while a part goes to storage and is recorded: a failure there (a full disk, the database
  // away, the writer mark lost) is the PATCH's failure, not a client that went away.
  let storing = false;
  try {
    for await (const chunk of body) {
      received += chunk.length;
      if (received > limit) {
        throw new HavenError(
          'BAD_REQUEST',
          'The chunk runs past the length declared when the upload started.',
        );
      }
      hash?.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      storing = true;
      while (pendingBytes >= TUS_PART_BYTES) await flush(TUS_PART_BYTES, true);
      storing = false;
    }
  } catch (error) {
    if (error instanceof HavenError || storing) throw error;
    // The client went away mid-chunk: the whole parts already stored are kept (tus lets the
    // server keep fewer bytes than were sent; the client asks HEAD and resumes from there).
    return { parts, complete: false };
  }
  // A body that ended before the upload's end leaves its tail as a part that is not the last:
  // one under the storage's minimum could never complete (checkPartsLeft). Its whole parts stay.
  if (pendingBytes > 0 && received < limit && pendingBytes < storage.partLimits.minPartSize) {
    throw partTooSmall(storage);
  }
  if (pendingBytes > 0) await flush(pendingBytes, false);
  return { parts, complete: true };
}

/**
 * As storeChunk when the body's length is known (Content-Length, as Uppy sends): each part
 * streams into storage as its bytes arrive, so receiving, encrypting and writing overlap and no
 * part is held in memory whole. A part whose bytes stop short is not stored (storage refuses a
 * body shorter than the part's size); the whole parts before it are kept.
 */
export async function storeStreamed(
  ctx: FilesContext,
  session: SessionRow,
  body: AsyncIterable<Buffer>,
  length: number,
  firstPartNumber: number,
  hash: ReturnType<typeof createHash> | undefined,
  onStored?: OnStored,
): Promise<StoredParts> {
  const { storage } = ctx.settings;
  const parts: StoredParts['parts'] = [];
  const chunks = body[Symbol.asyncIterator]();
  let carry: Buffer | undefined;
  for (let offset = 0; offset < length;) {
    const size = Math.min(TUS_PART_BYTES, length - offset);
    const partNumber = firstPartNumber + parts.length;
    const feed = new PassThrough({ highWaterMark: 1024 * 1024 });
    let settled = false;
    // Observed here, whatever happens to the feed: never left to reject unhandled.
    const outcome = storage
      .uploadPart({
        key: session.object_key,
        uploadId: session.storage_upload_id,
        partNumber,
        body: feed,
        size,
      })
      .then(
        ({ etag }) => ({ etag, error: undefined }),
        (error: unknown) => ({ etag: undefined, error }),
      )
      .finally(() => (settled = true));
    let fed = 0;
    // The body ended or broke before the part was whole. Otherwise a part storage refused is a
    // storage failure (a full disk: 503), not bytes the client did not send.
    let clientStopped = false;
    try {
      while (fed < size && !settled) {
        let chunk = carry;
        carry = undefined;
        if (!chunk) {
          const next = await chunks.next();
          if (next.done) {
            clientStopped = true;
            break;
          }
          chunk = next.value;
        }
        if (chunk.length > size - fed) {
          carry = chunk.subarray(size - fed);
          chunk = chunk.subarray(0, size - fed);
        }
        hash?.update(chunk);
        fed += chunk.length;
        if (!feed.write(chunk)) await Promise.race([once(feed, 'drain'), outcome]);
      }
      // Short (the body ended early) → storage refuses it for its size.
      feed.end();
    } catch (error) {
      // The client went away mid-part.
      clientStopped = true;
      feed.destroy(error as Error);
    }
    const { etag, error } = await outcome;
    if (etag === undefined) {
      // The client stopped mid-part: the whole parts before it count (tus lets the server keep
      // fewer bytes than were sent; the client asks HEAD and resumes from there).
      if (clientStopped) return { parts, complete: false };
      throw error;
    }
    parts.push({ partNumber, etag, size });
    offset += size;
    if (offset < length) await onStored?.({ partNumber, etag, size });
  }
  // Read to the end (the parser stops at Content-Length), so the request finishes normally.
  if (carry !== undefined || !(await chunks.next()).done) {
    throw new HavenError('BAD_REQUEST', 'The chunk runs past its Content-Length.');
  }
  return { parts, complete: true };
}
