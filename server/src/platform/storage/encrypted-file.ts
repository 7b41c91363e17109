// The filesystem driver's file format (F4): AES-256-GCM in fixed-size chunks, so an object of
// any size streams in and out with flat memory and a range read decrypts only its chunks.
//
// Written here rather than taken from npm: no maintained package does chunked AEAD with range
// reads. The candidates (ashcrypt, aes-cbc-stream, ...) either use CBC without authentication,
// or GCM with a random IV per chunk and nothing binding a chunk to its position, so chunks can
// be dropped, reordered or swapped undetected, and none reads a range. This is the STREAM
// construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in age and Tink) in ~200 lines of
// node:crypto.
//
//   header  = "HVFE" | version u8 | chunkSize u32 BE | sealedLength u16 BE | sealed (utf8)
//   sealed  = KeyRing.seal({ key, contentType, etag? }, context)   (context: the object key)
//   chunk i = AES-256-GCM(dataKey, nonce = i as 96-bit BE, aad = i u64 BE | final u8)
//             → ciphertext (chunkSize bytes; the last chunk ≤ chunkSize, possibly 0) | tag 16
//
// Every object has its own random data key, so nonces from the chunk index never repeat under
// one key. The sealed data key is bound to its context: a file copied under another object key
// does not open. The index in the nonce and AAD catches reordering and swapping; the final
// flag catches truncation at a chunk boundary (the new last chunk was not sealed as final) and
// appended bytes (the real last chunk is no longer last). The plaintext size follows from the
// file length, so there is nothing unauthenticated to lie about it.
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { KeyRing } from '../crypto.js';
import { StorageError } from './storage.js';

export const DEFAULT_CHUNK_SIZE = 64 * 1024;
const MIN_CHUNK_SIZE = 16;
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const MAGIC = Buffer.from('HVFE', 'latin1');
const VERSION = 1;
const FIXED_HEADER_BYTES = MAGIC.length + 1 + 4 + 2;
const MAX_SEALED_BYTES = 4096;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface SealedHeader {
  readonly contentType: string;
  /** Set on multipart part files: the ETag the server recorded for this version of the part. */
  readonly etag?: string;
}

interface SealedPayload {
  k: string;
  t: string;
  e?: string;
}

const nonceFor = (index: number): Buffer => {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
};

const aadFor = (index: number, final: boolean): Buffer => {
  const aad = Buffer.alloc(9);
  aad.writeBigUInt64BE(BigInt(index));
  aad.writeUInt8(final ? 1 : 0, 8);
  return aad;
};

const integrity = (why: string, cause?: unknown) =>
  new StorageError('INTEGRITY', `The stored file failed its integrity check: ${why}.`, { cause });

/** Plaintext in, header + sealed chunks out; counts and hashes the plaintext on the way. */
export class EncryptingStream extends Transform {
  private readonly dataKey = randomBytes(KEY_BYTES);
  /** The chunk being filled: bytes are copied in once, sealed once a byte beyond it arrives. */
  private readonly staged: Buffer;
  private stagedBytes = 0;
  private index = 0;
  /** Updated with every plaintext byte; the caller's own when given (multipart keeps one hash
   *  running across the parts of an upload, see filesystem.ts). */
  readonly hash: Hash;
  /** Plaintext bytes seen so far. */
  size = 0;

  constructor(
    ring: KeyRing,
    context: string,
    header: SealedHeader,
    private readonly limits: { chunkSize: number; maxBytes: number; hash?: Hash },
  ) {
    super();
    this.hash = limits.hash ?? createHash('sha256');
    this.staged = Buffer.allocUnsafe(limits.chunkSize);
    const payload: SealedPayload = { k: this.dataKey.toString('base64url'), t: header.contentType };
    if (header.etag !== undefined) payload.e = header.etag;
    const sealed = Buffer.from(ring.seal(JSON.stringify(payload), context), 'utf8');
    const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
    MAGIC.copy(fixed);
    fixed.writeUInt8(VERSION, MAGIC.length);
    fixed.writeUInt32BE(limits.chunkSize, MAGIC.length + 1);
    fixed.writeUInt16BE(sealed.length, MAGIC.length + 5);
    this.push(Buffer.concat([fixed, sealed]));
  }

  /** Hex SHA-256 of the plaintext; only meaningful once the stream has finished. */
  sha256(): string {
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limits.maxBytes) {
      done(new StorageError('SIZE_MISMATCH', 'The body is longer than its declared size.'));
      return;
    }
    this.hash.update(chunk);
    const { chunkSize } = this.limits;
    // A chunk is sealed as non-final only once a byte beyond it has arrived, so the last chunk
    // (flushed at the end) is the only one ever sealed as final.
    let offset = 0;
    while (offset < chunk.length) {
      if (this.stagedBytes === chunkSize) {
        this.seal(this.staged, false);
        this.stagedBytes = 0;
      }
      if (this.stagedBytes === 0 && chunk.length - offset > chunkSize) {
        // A whole chunk with a byte beyond it: sealed straight from the input, no copy.
        this.seal(chunk.subarray(offset, offset + chunkSize), false);
        offset += chunkSize;
        continue;
      }
      const take = Math.min(chunkSize - this.stagedBytes, chunk.length - offset);
      chunk.copy(this.staged, this.stagedBytes, offset, offset + take);
      this.stagedBytes += take;
      offset += take;
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.seal(this.staged.subarray(0, this.stagedBytes), true);
    this.stagedBytes = 0;
    done();
  }

  /** Pushes the sealed chunk (ciphertext, then its tag); `plaintext` may be reused after. */
  private seal(plaintext: Buffer, final: boolean): void {
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, nonceFor(this.index));
    cipher.setAAD(aadFor(this.index, final));
    this.index += 1;
    this.push(cipher.update(plaintext));
    cipher.final();
    this.push(cipher.getAuthTag());
  }
}

/** An open encrypted file: its header is verified, its chunks not yet. */
export interface EncryptedFile extends SealedHeader {
  /** Plaintext size, from the file length. */
  readonly size: number;
  /** Decrypts chunks `first..last` (inclusive), yielding each chunk's plaintext. */
  chunks(first: number, last: number): AsyncGenerator<Buffer>;
  readonly chunkSize: number;
  readonly chunkCount: number;
  close(): Promise<void>;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead !== length) throw integrity('the file is shorter than its chunks');
  return buffer;
}

/** Opens and verifies the header; ENOENT propagates so callers can say "not found". */
export async function openEncryptedFile(
  path: string,
  ring: KeyRing,
  context: string,
): Promise<EncryptedFile> {
  return openEncryptedHandle(await open(path, 'r'), ring, context);
}

/**
 * The sealed data key in a file's header, unopened: its key id tells which master key it is
 * under without any key (key rotation skips files already current this way).
 */
export async function readHeaderSeal(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const fixed = await readExactly(handle, FIXED_HEADER_BYTES, 0);
    const sealedLength = fixed.readUInt16BE(MAGIC.length + 5);
    if (!fixed.subarray(0, MAGIC.length).equals(MAGIC) || sealedLength > MAX_SEALED_BYTES) {
      throw integrity('unknown header');
    }
    return (await readExactly(handle, sealedLength, FIXED_HEADER_BYTES)).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The file's first four bytes, to tell an encrypted file from other formats. */
export const ENCRYPTED_FILE_MAGIC = MAGIC;

/** Reads whole sealed chunks this many bytes at a time (one read, then one decrypt per chunk). */
const READ_BATCH_BYTES = 1024 * 1024;

/** As openEncryptedFile, on a handle the caller opened; the handle is closed on failure. */
export async function openEncryptedHandle(
  handle: FileHandle,
  ring: KeyRing,
  context: string,
): Promise<EncryptedFile> {
  try {
    const { size: fileSize } = await handle.stat();
    const fixed = await readExactly(handle, FIXED_HEADER_BYTES, 0);
    const chunkSize = fixed.readUInt32BE(MAGIC.length + 1);
    const sealedLength = fixed.readUInt16BE(MAGIC.length + 5);
    if (
      !fixed.subarray(0, MAGIC.length).equals(MAGIC) ||
      fixed.readUInt8(MAGIC.length) !== VERSION ||
      chunkSize < MIN_CHUNK_SIZE ||
      chunkSize > MAX_CHUNK_SIZE ||
      sealedLength > MAX_SEALED_BYTES
    ) {
      throw integrity('unknown header');
    }
    const sealed = await readExactly(handle, sealedLength, FIXED_HEADER_BYTES);
    let payload: SealedPayload;
    try {
      payload = JSON.parse(
        ring.open(sealed.toString('utf8'), context).toString('utf8'),
      ) as SealedPayload;
    } catch (error) {
      throw integrity('the data key does not open for this object', error);
    }
    const dataKey = Buffer.from(payload.k, 'base64url');
    if (dataKey.length !== KEY_BYTES) throw integrity('malformed data key');
    const headerBytes = FIXED_HEADER_BYTES + sealedLength;
    const sealedChunk = chunkSize + TAG_BYTES;
    const body = fileSize - headerBytes;
    const chunkCount = Math.ceil(body / sealedChunk);
    const lastLength = body - (chunkCount - 1) * sealedChunk;
    if (body < TAG_BYTES || lastLength < TAG_BYTES) throw integrity('the last chunk is cut short');
    const batchChunks = Math.max(1, Math.floor(READ_BATCH_BYTES / sealedChunk));

    async function* chunks(first: number, last: number): AsyncGenerator<Buffer> {
      for (let batch = first; batch <= last; batch += batchChunks) {
        const batchLast = Math.min(last, batch + batchChunks - 1);
        const bytes =
          (batchLast - batch) * sealedChunk +
          (batchLast === chunkCount - 1 ? lastLength : sealedChunk);
        const read = await readExactly(handle, bytes, headerBytes + batch * sealedChunk);
        for (let index = batch; index <= batchLast; index += 1) {
          const final = index === chunkCount - 1;
          const length = final ? lastLength : sealedChunk;
          const at = (index - batch) * sealedChunk;
          const decipher = createDecipheriv('aes-256-gcm', dataKey, nonceFor(index));
          decipher.setAAD(aadFor(index, final));
          decipher.setAuthTag(read.subarray(at + length - TAG_BYTES, at + length));
          let plaintext: Buffer;
          try {
            plaintext = decipher.update(read.subarray(at, at + length - TAG_BYTES));
            decipher.final();
          } catch (error) {
            throw integrity(`chunk ${index} was altered, moved or cut`, error);
          }
          yield plaintext;
        }
      }
    }
    const header = payload.e === undefined ? {} : { etag: payload.e };
    return {
      ...header,
      contentType: payload.t,
      size: body - chunkCount * TAG_BYTES,
      chunkSize,
      chunkCount,
      chunks,
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The plaintext bytes `start..end` (inclusive) of an open file, decrypting only the chunks the
 * range touches, one at a time as the consumer pulls. Does not close the file. An empty file
 * still authenticates its lone empty chunk.
 */
export async function* plaintextRange(
  file: EncryptedFile,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  if (file.size === 0) {
    for await (const chunk of file.chunks(0, 0)) yield chunk;
    return;
  }
  const first = Math.floor(start / file.chunkSize);
  const last = Math.floor(end / file.chunkSize);
  let index = first;
  for await (const chunk of file.chunks(first, last)) {
    const from = index === first ? start - index * file.chunkSize : 0;
    const to = index === last ? end - index * file.chunkSize + 1 : chunk.length;
    yield from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
    index += 1;
  }
}

/**
 * A stream of the plaintext bytes `start..end` (inclusive) that decrypts only the chunks the
 * range touches, one at a time as the consumer reads (Readable.from pulls the generator on
 * demand, so backpressure holds memory at a few chunks). The file closes when the stream ends
 * or is destroyed.
 */
export function decryptingStream(file: EncryptedFile, start: number, end: number): Readable {
  async function* range(): AsyncGenerator<Buffer> {
    try {
      yield* plaintextRange(file, start, end);
    } finally {
      await file.close();
    }
  }
  return Readable.from(range(), { objectMode: false });
}
