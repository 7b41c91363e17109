// The embedded storage driver: objects under a root folder (e.g. <dataDir>/files), each one
// encrypted by Haven itself (encrypted-file.ts), so `npm start` stores uploads at rest without
// any other service (F4).
//
//   objects/<h[0..2]>/<h>   h = SHA-256 of the object key: no user text ever reaches a path,
//                           and the key's characters cannot matter to the filesystem. Either an
//                           encrypted file (putObject; multipart completions before this format)
//                           or a manifest (a completed multipart upload, below)
//   objects/<h[0..2]>/<h>.<uploadId>/   the part files a manifest names
//   uploads/<uploadId>/     upload.sealed (key + content type, sealed) and part-NNNNN.enc
//   tmp/                    every write lands here first, then fsync, then rename
//
// A write is visible under its real name only once complete and on disk: a process killed
// mid-write leaves at most a temp file, which the next start sweeps once it is a day old.
// Multipart mirrors S3 so one upload-session model fits both: a part is its own encrypted file
// (re-uploading a number replaces it atomically). Completion does not copy the bytes again:
// the upload folder moves beside the object whole (one rename, after which no part can change),
// every recorded part is checked against its ETag, and a manifest naming the parts in order
// (number, ETag, size), sealed to the object key, is renamed into place. Until that rename the
// object is absent and the upload can still be completed (or aborted) from where it moved; after
// it, the object is whole. A read opens each part only as the version the manifest names, under
// its own upload and number, so a part moved to another object or position does not decrypt.
// The whole object's SHA-256 runs on across the parts as they arrive (RunningHashes, in
// filesystem-objects.ts with the manifest format); completion reads back only without a chain.
import { randomBytes, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, rename, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import { randomToken, type KeyRing } from '../crypto.js';
import { DEFAULT_CHUNK_SIZE, EncryptingStream, type SealedHeader } from './encrypted-file.js';
import {
  DurableFileWriter,
  fsyncDirectory,
  sweepStaleTemporaryFiles,
  writeFileDurably,
} from './filesystem-durable.js';
import {
  MANIFEST_MAGIC,
  RunningHashes,
  UPLOAD_ID,
  isMissing,
  manifestContext,
  objectContext,
  objectReader,
  partContext,
  partName,
  readUploadRecord,
  uploadContext,
  type Manifest,
} from './filesystem-objects.js';
import {
  StorageError,
  assertValidKey,
  assertValidPartNumber,
  assertValidRange,
  assertValidSize,
  orderedParts,
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
const PART_FILE = /^part-(\d{5})\.enc$/;
/** Free space below which the folder counts as full (headBucket): one 8 MiB tus part. */
const FULL_BELOW_BYTES = 8 * 1024 * 1024;

/** Uploads whose running SHA-256 (and record) this process keeps (the least recently used goes first). */
const MAX_RUNNING_HASHES = 256;

/** Quotes an ETag as S3 does, so the module stores one form whatever the driver. */
const quoted = (etag: string) => `"${etag.replaceAll('"', '')}"`;

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
  const hashes = new RunningHashes(MAX_RUNNING_HASHES);
  const reader = objectReader(keyRing, dirs.objects);
  const { objectPath, partsDir, openPart, openObject, manifestUpload } = reader;

  /** The object's path, its shard folder created. */
  const objectTarget = async (key: string) => {
    const target = objectPath(key);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    return target;
  };
  const uploadDir = (uploadId: string) => path.join(dirs.uploads, uploadId);
  const tempPath = () => path.join(dirs.tmp, `${randomToken(16)}.tmp`);

  /** Encrypts `body` into a temp file, fsyncs it, then renames it over `target`. */
  async function writeEncrypted(
    target: string,
    body: Readable,
    context: string,
    header: SealedHeader,
    expectedSize: number | undefined,
    hash?: Hash,
  ): Promise<{ size: number; hash: Hash }> {
    const temp = tempPath();
    const encrypting = new EncryptingStream(keyRing, context, header, {
      chunkSize,
      maxBytes: expectedSize ?? MAX_OBJECT_BYTES,
      ...(hash && { hash }),
    });
    const handle = await open(temp, 'wx', 0o600);
    try {
      await pipeline(body, encrypting, new DurableFileWriter(handle));
      await handle.close();
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
      return { size: encrypting.size, hash: encrypting.hash };
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  const uploadGone = () => new StorageError('UPLOAD_NOT_FOUND', 'The upload does not exist.');

  // Upload records this process read (a record never changes once written): a part after the
  // first skips reading and opening it again. A part of an upload aborted or completed meanwhile
  // (here or on another node) still fails, at its rename into a folder that is gone.
  const knownUploads = new LRUCache<string, { key: string; contentType: string }>({
    max: MAX_RUNNING_HASHES,
  });
  /** An upload completed or aborted here: nothing of it is kept. */
  const forgetUpload = (uploadId: string): void => {
    hashes.forget(uploadId);
    knownUploads.delete(uploadId);
  };

  /** An upload still taking parts (in uploads/). */
  async function readUpload(key: string, uploadId: string): Promise<{ contentType: string }> {
    assertValidKey(key);
    if (!UPLOAD_ID.test(uploadId)) throw uploadGone();
    const known = knownUploads.get(uploadId);
    const upload = known
      ? known.key === key && known
      : await readUploadRecord(keyRing, uploadDir(uploadId), key, uploadId);
    if (!upload) throw uploadGone();
    knownUploads.set(uploadId, { key, contentType: upload.contentType });
    return upload;
  }

  /** An open upload wherever it is: still taking parts, or moved beside its object by a
   *  completion that stopped before its manifest was in place. */
  async function locateUpload(
    key: string,
    uploadId: string,
  ): Promise<{ contentType: string; dir: string; staged: boolean }> {
    assertValidKey(key);
    if (!UPLOAD_ID.test(uploadId)) throw uploadGone();
    const open = await readUploadRecord(keyRing, uploadDir(uploadId), key, uploadId);
    if (open) return { ...open, dir: uploadDir(uploadId), staged: false };
    const staged = await readUploadRecord(keyRing, partsDir(key, uploadId), key, uploadId);
    if (staged) return { ...staged, dir: partsDir(key, uploadId), staged: true };
    throw uploadGone();
  }

  return {
    kind: 'filesystem',
    partLimits: PART_LIMITS,
    presigner: null,
    expectedEncryption: { serverSideEncryption: FILESYSTEM_ENCRYPTION },

    partLister: {
      async listParts(key, uploadId) {
        const { dir } = await locateUpload(key, uploadId);
        const parts: StoredPart[] = [];
        for (const name of await readdir(dir)) {
          const match = PART_FILE.exec(name);
          if (!match) continue;
          const part = await openPart(dir, uploadId, Number(match[1]));
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
      // Less room than one tus part: every write would fail with ENOSPC.
      const { bavail, bsize } = await statfs(root);
      if (bavail * bsize < FULL_BELOW_BYTES) {
        throw new StorageError('UNAVAILABLE', 'The storage folder is full.');
      }
    },

    async putObject(key, body, { contentType, size }) {
      assertValidKey(key);
      if (size !== undefined) assertValidSize(size, 'The size');
      const replaced = await manifestUpload(key);
      const written = await writeEncrypted(
        await objectTarget(key),
        body,
        objectContext(key),
        { contentType },
        size,
      );
      if (replaced !== undefined) await reader.removePartFolders(key);
      return { size: written.size, sha256: written.hash.digest('hex') };
    },

    async getObject(key, options = {}) {
      const object = await openObject(key);
      if (!object) throw new StorageError('NOT_FOUND', 'The object does not exist.');
      const { range } = options;
      try {
        if (range) assertValidRange(range, object.size);
      } catch (error) {
        await object.close();
        throw error;
      }
      const start = range?.start ?? 0;
      const end = Math.min(range?.end ?? object.size - 1, object.size - 1);
      return {
        stream: object.stream(start, end),
        size: object.size,
        contentLength: object.size === 0 ? 0 : end - start + 1,
        contentType: object.contentType,
      };
    },

    async headObject(key) {
      const object = await openObject(key);
      if (!object) return undefined;
      await object.close();
      return {
        size: object.size,
        contentType: object.contentType,
        serverSideEncryption: FILESYSTEM_ENCRYPTION,
      };
    },

    async deleteObject(key) {
      assertValidKey(key);
      // The object goes first (atomically), then the parts it was made of.
      await rm(objectPath(key), { force: true });
      await reader.removePartFolders(key);
    },

    async createMultipartUpload(key, { contentType }) {
      assertValidKey(key);
      const uploadId = randomToken(24);
      const sealed = keyRing.seal(JSON.stringify({ key, contentType }), uploadContext(uploadId));
      const temp = tempPath();
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
      // The whole object's SHA-256 runs on from the parts before this one when this part comes
      // after them; otherwise a new chain starts here (completion checks the chain it uses).
      const running = hashes.begin(uploadId, partNumber);
      try {
        await writeEncrypted(
          path.join(uploadDir(uploadId), partName(partNumber)),
          body,
          partContext(uploadId, partNumber),
          { contentType, etag },
          size,
          running.hash,
        );
      } catch (error) {
        // Aborted while this part was being written: the folder is gone.
        if (isMissing(error)) throw new StorageError('UPLOAD_NOT_FOUND', 'The upload was aborted.');
        throw error;
      }
      running.stored(etag);
      return { etag };
    },

    async completeMultipartUpload(key, uploadId, parts) {
      const upload = await locateUpload(key, uploadId);
      const ordered = orderedParts(parts);
      const target = await objectTarget(key);
      const staged = partsDir(key, uploadId);
      if (!upload.staged) {
        // The folder moves whole beside the object: from here no part can be replaced or
        // added (uploadPart renames into uploads/<id>, which is gone), and the bytes stay put.
        try {
          await rename(upload.dir, staged);
        } catch (error) {
          if (isMissing(error)) throw uploadGone();
          throw error;
        }
        await fsyncDirectory(dirs.uploads);
        await fsyncDirectory(path.dirname(target));
      }
      const manifest: Manifest = { v: 1, t: upload.contentType, u: uploadId, p: [] };
      try {
        // Every recorded ETag is checked before the object exists.
        for (const { partNumber, etag } of ordered) {
          const part = await openPart(staged, uploadId, partNumber);
          await part.close();
          if (part.etag !== quoted(etag)) {
            throw new StorageError('INVALID_PART', `Part ${partNumber} does not match its ETag.`);
          }
          manifest.p.push([partNumber, part.etag, part.size]);
        }
      } catch (error) {
        // Not completable as recorded: the upload goes back, still open, as S3 leaves it.
        await rename(staged, uploadDir(uploadId));
        await fsyncDirectory(path.dirname(target));
        await fsyncDirectory(dirs.uploads);
        throw error;
      }
      const size = manifest.p.reduce((sum, [, , bytes]) => sum + bytes, 0);
      const sha256 =
        hashes.sha256(uploadId, manifest.p) ?? (await reader.readBackSha256(key, manifest));
      const temp = tempPath();
      await writeFileDurably(
        temp,
        MANIFEST_MAGIC + keyRing.seal(JSON.stringify(manifest), manifestContext(key)),
      );
      await rename(temp, target);
      await fsyncDirectory(path.dirname(target));
      forgetUpload(uploadId);
      // Complete. What the manifest does not name goes: the upload record (so the upload reads
      // as finished), parts never recorded, and the parts of an object this one replaced.
      const named = new Set(manifest.p.map(([partNumber]) => partName(partNumber)));
      for (const name of await readdir(staged)) {
        if (!named.has(name)) await rm(path.join(staged, name), { force: true });
      }
      await reader.removePartFolders(key, path.basename(staged));
      return { size, sha256 };
    },

    async abortMultipartUpload(key, uploadId) {
      let upload: { dir: string; staged: boolean };
      try {
        upload = await locateUpload(key, uploadId);
      } catch (error) {
        if (error instanceof StorageError && error.code === 'STORAGE_UPLOAD_NOT_FOUND') return;
        throw error;
      }
      forgetUpload(uploadId);
      // A completion that put its manifest in place but stopped before tidying is complete:
      // its parts are the object now.
      if (upload.staged && (await manifestUpload(key)) === uploadId) return;
      await rm(upload.dir, { recursive: true, force: true });
    },
  };
}
