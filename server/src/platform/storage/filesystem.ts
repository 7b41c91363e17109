// The embedded storage driver: objects under a root folder (e.g. <dataDir>/files), each one
// encrypted by Haven itself (encrypted-file.ts), so `npm start` stores uploads at rest without
// any other service (F4).
//
//   objects/<h[0..2]>/<h>   h = SHA-256 of the object key: no user text ever reaches a path,
//                           and the key's characters cannot matter to the filesystem
//   uploads/<uploadId>/     upload.sealed (key + content type, sealed) and part-NNNNN.enc
//   tmp/                    every write lands here first, then fsync, then rename
//
// A write is visible under its real name only once complete and on disk: a process killed
// mid-write leaves at most a temp file, which the next start sweeps once it is a day old.
// Multipart mirrors S3 so one upload-session model fits both: a part is its own encrypted file
// (re-uploading a number replaces it atomically), and completion streams the parts the server
// recorded, in order, decrypting each and re-encrypting into the final object while counting
// and hashing the bytes.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomToken, sha256Hex, type KeyRing } from '../crypto.js';
import {
  DEFAULT_CHUNK_SIZE,
  EncryptingStream,
  decryptingStream,
  openEncryptedFile,
  type EncryptedFile,
  type SealedHeader,
} from './encrypted-file.js';
import {
  StorageError,
  assertValidKey,
  assertValidPartNumber,
  assertValidRange,
  assertValidSize,
  orderedParts,
  type CompletedObject,
  type ObjectStorage,
  type PartLimits,
  type StoredPart,
} from './storage.js';

export interface FilesystemStorageOptions {
  /** The folder that holds everything (created with mode 0700 when missing). */
  root: string;
  keyRing: KeyRing;
  /** Plaintext bytes per encrypted chunk. Default 64 KiB. */
  chunkSize?: number;
}

/** Reported by headObject so the module's F4 check reads the same on both drivers. */
export const FILESYSTEM_ENCRYPTION = 'haven:aes-256-gcm';
// No minimum: every tus PATCH becomes one part, whatever its length.
const PART_LIMITS: PartLimits = { minPartSize: 0, maxPartSize: 5 * 1024 ** 3 };
const MAX_OBJECT_BYTES = 5 * 1024 ** 4;
const UPLOAD_ID = /^[A-Za-z0-9_-]{32}$/;
const PART_FILE = /^part-(\d{5})\.enc$/;
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

const isMissing = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

const objectContext = (key: string) => `storage-object:${key}`;
const partContext = (uploadId: string, partNumber: number) =>
  `storage-part:${uploadId}:${partNumber}`;
const uploadContext = (uploadId: string) => `storage-upload:${uploadId}`;

/** Quotes an ETag as S3 does, so the module stores one form whatever the driver. */
const quoted = (etag: string) => `"${etag.replaceAll('"', '')}"`;

async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function openFilesystemStorage(
  options: FilesystemStorageOptions,
): Promise<ObjectStorage> {
  const { keyRing } = options;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const root = path.resolve(options.root);
  const dirs = {
    objects: path.join(root, 'objects'),
    uploads: path.join(root, 'uploads'),
    tmp: path.join(root, 'tmp'),
  };
  for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true, mode: 0o700 });
  await sweepStaleTemporaryFiles(dirs.tmp);

  const objectPath = (key: string) => {
    const hash = sha256Hex(key);
    return path.join(dirs.objects, hash.slice(0, 2), hash);
  };
  /** The object's path, its shard folder created. */
  const objectTarget = async (key: string) => {
    const target = objectPath(key);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    return target;
  };
  const uploadDir = (uploadId: string) => path.join(dirs.uploads, uploadId);
  const partPath = (uploadId: string, partNumber: number) =>
    path.join(uploadDir(uploadId), `part-${String(partNumber).padStart(5, '0')}.enc`);

  /** Encrypts `body` into a temp file, fsyncs it, then renames it over `target`. */
  async function writeEncrypted(
    target: string,
    body: Readable,
    context: string,
    header: SealedHeader,
    expectedSize: number | undefined,
  ): Promise<CompletedObject> {
    const temp = path.join(dirs.tmp, `${randomToken(16)}.tmp`);
    const encrypting = new EncryptingStream(keyRing, context, header, {
      chunkSize,
      maxBytes: expectedSize ?? MAX_OBJECT_BYTES,
    });
    const handle = await open(temp, 'wx', 0o600);
    try {
      // `flush`: the stream fsyncs the file before it closes it.
      await pipeline(body, encrypting, handle.createWriteStream({ flush: true }));
      if (expectedSize !== undefined && encrypting.size !== expectedSize) {
        throw new StorageError(
          'SIZE_MISMATCH',
          `The body has ${encrypting.size} bytes, not the declared ${expectedSize}.`,
        );
      }
      // No mkdir here: a part finishing after its upload was aborted must fail (ENOENT), not
      // recreate the folder abort just removed.
      await rename(temp, target);
      await fsyncDirectory(path.dirname(target));
      return { size: encrypting.size, sha256: encrypting.sha256() };
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  async function readUpload(key: string, uploadId: string): Promise<{ contentType: string }> {
    assertValidKey(key);
    const gone = () => new StorageError('UPLOAD_NOT_FOUND', 'The upload does not exist.');
    if (!UPLOAD_ID.test(uploadId)) throw gone();
    let sealed: string;
    try {
      sealed = await readFile(path.join(uploadDir(uploadId), 'upload.sealed'), 'utf8');
    } catch (error) {
      if (isMissing(error)) throw gone();
      throw error;
    }
    let meta: { key: string; contentType: string };
    try {
      meta = JSON.parse(
        keyRing.open(sealed, uploadContext(uploadId)).toString('utf8'),
      ) as typeof meta;
    } catch (error) {
      throw new StorageError('INTEGRITY', 'The upload record failed its integrity check.', {
        cause: error,
      });
    }
    // An upload id used with another key is treated as absent, as S3 does.
    if (meta.key !== key) throw gone();
    return { contentType: meta.contentType };
  }

  async function openPart(uploadId: string, partNumber: number): Promise<EncryptedFile> {
    try {
      return await openEncryptedFile(
        partPath(uploadId, partNumber),
        keyRing,
        partContext(uploadId, partNumber),
      );
    } catch (error) {
      if (isMissing(error)) {
        throw new StorageError('INVALID_PART', `Part ${partNumber} has not been uploaded.`);
      }
      throw error;
    }
  }

  async function openObject(key: string): Promise<EncryptedFile | undefined> {
    assertValidKey(key);
    try {
      return await openEncryptedFile(objectPath(key), keyRing, objectContext(key));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  return {
    kind: 'filesystem',
    partLimits: PART_LIMITS,
    presigner: null,
    expectedEncryption: { serverSideEncryption: FILESYSTEM_ENCRYPTION },

    partLister: {
      async listParts(key, uploadId) {
        await readUpload(key, uploadId);
        const parts: StoredPart[] = [];
        for (const name of await readdir(uploadDir(uploadId))) {
          const match = PART_FILE.exec(name);
          if (!match) continue;
          const part = await openPart(uploadId, Number(match[1]));
          await part.close();
          parts.push({ partNumber: Number(match[1]), etag: part.etag ?? '', size: part.size });
        }
        return parts.sort((a, b) => a.partNumber - b.partNumber);
      },
    },

    async headBucket() {
      try {
        for (const dir of Object.values(dirs)) await access(dir, constants.R_OK | constants.W_OK);
      } catch (error) {
        throw new StorageError('UNAVAILABLE', 'The storage folder is not writable.', {
          cause: error,
        });
      }
    },

    async putObject(key, body, { contentType, size }) {
      assertValidKey(key);
      if (size !== undefined) assertValidSize(size, 'The size');
      return writeEncrypted(
        await objectTarget(key),
        body,
        objectContext(key),
        { contentType },
        size,
      );
    },

    async getObject(key, options = {}) {
      const file = await openObject(key);
      if (!file) throw new StorageError('NOT_FOUND', 'The object does not exist.');
      const { range } = options;
      try {
        if (range) assertValidRange(range, file.size);
      } catch (error) {
        await file.close();
        throw error;
      }
      const start = range?.start ?? 0;
      const end = Math.min(range?.end ?? file.size - 1, file.size - 1);
      return {
        stream: decryptingStream(file, start, end),
        size: file.size,
        contentLength: file.size === 0 ? 0 : end - start + 1,
        contentType: file.contentType,
      };
    },

    async headObject(key) {
      const file = await openObject(key);
      if (!file) return undefined;
      await file.close();
      return {
        size: file.size,
        contentType: file.contentType,
        serverSideEncryption: FILESYSTEM_ENCRYPTION,
      };
    },

    async deleteObject(key) {
      assertValidKey(key);
      await rm(objectPath(key), { force: true });
    },

    async createMultipartUpload(key, { contentType }) {
      assertValidKey(key);
      const uploadId = randomToken(24);
      const sealed = keyRing.seal(JSON.stringify({ key, contentType }), uploadContext(uploadId));
      const temp = path.join(dirs.tmp, `${randomToken(16)}.tmp`);
      await mkdir(uploadDir(uploadId), { mode: 0o700 });
      await writeFileDurably(temp, sealed);
      await rename(temp, path.join(uploadDir(uploadId), 'upload.sealed'));
      await fsyncDirectory(uploadDir(uploadId));
      return uploadId;
    },

    async uploadPart({ key, uploadId, partNumber, body, size }) {
      assertValidPartNumber(partNumber);
      assertValidSize(size, 'The part size');
      if (size > PART_LIMITS.maxPartSize) {
        throw new StorageError('INVALID_ARGUMENT', 'A part is at most 5 GiB.');
      }
      const { contentType } = await readUpload(key, uploadId);
      // Each version of a part gets a fresh ETag, so completing with a recorded ETag proves the
      // part on disk is the one the server acknowledged, not a later replacement.
      const etag = quoted(randomBytes(16).toString('hex'));
      try {
        await writeEncrypted(
          partPath(uploadId, partNumber),
          body,
          partContext(uploadId, partNumber),
          { contentType, etag },
          size,
        );
      } catch (error) {
        // Aborted while this part was being written: the folder is gone.
        if (isMissing(error)) throw new StorageError('UPLOAD_NOT_FOUND', 'The upload was aborted.');
        throw error;
      }
      return { etag };
    },

    async completeMultipartUpload(key, uploadId, parts) {
      const { contentType } = await readUpload(key, uploadId);
      const ordered = orderedParts(parts);
      // Check every recorded ETag before writing a byte of the final object.
      for (const { partNumber, etag } of ordered) {
        const part = await openPart(uploadId, partNumber);
        await part.close();
        if (part.etag !== quoted(etag)) {
          throw new StorageError('INVALID_PART', `Part ${partNumber} does not match its ETag.`);
        }
      }
      async function* plaintext(): AsyncGenerator<Buffer> {
        for (const { partNumber } of ordered) {
          const part = await openPart(uploadId, partNumber);
          try {
            for await (const chunk of part.chunks(0, part.chunkCount - 1)) yield chunk;
          } finally {
            await part.close();
          }
        }
      }
      const completed = await writeEncrypted(
        await objectTarget(key),
        Readable.from(plaintext()),
        objectContext(key),
        { contentType },
        undefined,
      );
      await rm(uploadDir(uploadId), { recursive: true, force: true });
      return completed;
    },

    async abortMultipartUpload(key, uploadId) {
      try {
        await readUpload(key, uploadId);
      } catch (error) {
        if (error instanceof StorageError && error.code === 'STORAGE_UPLOAD_NOT_FOUND') return;
        throw error;
      }
      await rm(uploadDir(uploadId), { recursive: true, force: true });
    },
  };
}

async function writeFileDurably(file: string, contents: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temp files of writes that a crash interrupted; a day old means no live write owns them. */
async function sweepStaleTemporaryFiles(tmp: string): Promise<void> {
  const cutoff = Date.now() - STALE_TEMP_MS;
  for (const name of await readdir(tmp)) {
    const file = path.join(tmp, name);
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) await rm(file, { force: true });
  }
}
