// The object side of the filesystem driver: where objects and their parts live, the manifest of
// a completed multipart object, an upload's sealed record, reading an object of either format
// (one encrypted file, or the part files a manifest names), and the SHA-256 kept running across
// an upload's parts.
//
// A manifest is "HVFM1\n" + KeyRing.seal(JSON { v, t: content type, u: upload id, p: [[part
// number, ETag, size], ...] }, context "storage-object:<key>:manifest"): it opens only under its
// own object key, and it names each part's exact version (the ETag sealed in the part's header,
// fresh for every version written); each part's data key is sealed to "storage-part:<upload
// id>:<number>", so a part opens only at its own upload and position.
import { createHash, type Hash } from 'node:crypto';
import { open, readFile, readdir, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { sha256Hex, type KeyRing } from '../crypto.js';
import {
  decryptingStream,
  openEncryptedFile,
  openEncryptedHandle,
  plaintextRange,
  type EncryptedFile,
} from './encrypted-file.js';
import { StorageError, assertValidKey } from './storage.js';

export const UPLOAD_ID = /^[A-Za-z0-9_-]{32}$/;
/** A manifest file starts with this; an encrypted file starts with "HVFE". */
export const MANIFEST_MAGIC = 'HVFM1\n';
/** 10,000 parts of ~70 bytes each, sealed (base64): well under this. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export const isMissing = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

export const objectContext = (key: string) => `storage-object:${key}`;
export const manifestContext = (key: string) => `${objectContext(key)}:manifest`;
export const partContext = (uploadId: string, partNumber: number) =>
  `storage-part:${uploadId}:${partNumber}`;
export const uploadContext = (uploadId: string) => `storage-upload:${uploadId}`;
export const partName = (partNumber: number) => `part-${String(partNumber).padStart(5, '0')}.enc`;

export const integrity = (why: string, cause?: unknown) =>
  new StorageError('INTEGRITY', `The stored object failed its integrity check: ${why}.`, {
    cause,
  });

/** A completed multipart object: its parts in order as [number, ETag, plaintext size]. */
export interface Manifest {
  v: 1;
  /** Content type. */
  t: string;
  /** The upload the parts came from (their folder, and the context their keys are sealed to). */
  u: string;
  p: Array<[number, string, number]>;
}

/** The parts of an upload hashed so far in this process, newest first (a linked list). */
interface HashedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly previous: HashedPart | undefined;
}

/** An object opened for reading, whichever its format. */
export interface OpenObject {
  readonly size: number;
  readonly contentType: string;
  /** Plaintext bytes `start..end` (inclusive); releases what the object holds open at the end. */
  stream(start: number, end: number): Readable;
  close(): Promise<void>;
}

export function parseManifest(text: string): Manifest {
  const value = JSON.parse(text) as Partial<Manifest>;
  const parts = value.p;
  if (
    value.v !== 1 ||
    typeof value.t !== 'string' ||
    typeof value.u !== 'string' ||
    !UPLOAD_ID.test(value.u) ||
    !Array.isArray(parts) ||
    parts.length === 0
  ) {
    throw new Error('malformed manifest');
  }
  let previous = 0;
  for (const part of parts) {
    const [partNumber, etag, size] = part as unknown[];
    if (
      !Number.isSafeInteger(partNumber) ||
      (partNumber as number) <= previous ||
      typeof etag !== 'string' ||
      !Number.isSafeInteger(size) ||
      (size as number) < 0
    ) {
      throw new Error('malformed manifest part');
    }
    previous = partNumber as number;
  }
  return value as Manifest;
}

/**
 * The SHA-256 of each upload's object, kept running across its parts as they are written in
 * order in this process, so completion needs no second pass over the bytes. A chain counts only
 * when it is exactly the parts completed (numbers and ETags, fresh for every version written);
 * otherwise (a restart, a part replaced or out of order, another node) completion reads back.
 */
export class RunningHashes {
  private readonly chains: LRUCache<string, { last: HashedPart; hash: Hash }>;

  constructor(limit: number) {
    this.chains = new LRUCache({ max: limit });
  }

  /** The hash to write part `partNumber` with, and what to call once the part is stored. */
  begin(uploadId: string, partNumber: number): { hash: Hash; stored(etag: string): void } {
    const chain = this.chains.get(uploadId);
    const follows = chain !== undefined && chain.last.partNumber < partNumber;
    const hash = follows ? chain.hash.copy() : createHash('sha256');
    return {
      hash,
      stored: (etag) => {
        // Another part of this upload landed meanwhile: its chain stays (completion checks).
        if (this.chains.get(uploadId) !== chain) return;
        const previous = follows ? chain.last : undefined;
        this.chains.set(uploadId, { last: { partNumber, etag, previous }, hash });
      },
    };
  }

  /** The hex SHA-256 of exactly these parts in this order, if this process saw them so. */
  sha256(uploadId: string, parts: Manifest['p']): string | undefined {
    const chain = this.chains.get(uploadId);
    if (!chain) return undefined;
    let node: HashedPart | undefined = chain.last;
    for (let index = parts.length - 1; index >= 0; index -= 1) {
      const [partNumber, etag] = parts[index]!;
      if (!node || node.partNumber !== partNumber || node.etag !== etag) return undefined;
      node = node.previous;
    }
    if (node) return undefined;
    return chain.hash.copy().digest('hex');
  }

  forget(uploadId: string): void {
    this.chains.delete(uploadId);
  }
}

/** The sealed upload record in `dir`; undefined when there is none. */
export async function readUploadRecord(
  keyRing: KeyRing,
  dir: string,
  key: string,
  uploadId: string,
): Promise<{ contentType: string } | undefined> {
  let sealed: string;
  try {
    sealed = await readFile(path.join(dir, 'upload.sealed'), 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
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
  return meta.key === key ? { contentType: meta.contentType } : undefined;
}

/** Reading objects and parts under `objectsDir`. */
export function objectReader(keyRing: KeyRing, objectsDir: string) {
  const objectPath = (key: string) => {
    const hash = sha256Hex(key);
    return path.join(objectsDir, hash.slice(0, 2), hash);
  };
  /** Where a completed (or completing) upload's parts live beside its object. */
  const partsDir = (key: string, uploadId: string) => `${objectPath(key)}.${uploadId}`;

  async function openPart(dir: string, uploadId: string, partNumber: number) {
    try {
      return await openEncryptedFile(
        path.join(dir, partName(partNumber)),
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

  /**
   * A part of a completed object (F4): it opens only under its own upload and number (the data
   * key is sealed to both), and only as the version the manifest names (its ETag, fresh for
   * every version written) with the size recorded. A part from another object, another
   * position or an earlier version fails here, before a byte is read.
   */
  async function openBoundPart(
    key: string,
    manifest: Manifest,
    [partNumber, etag, size]: [number, string, number],
  ): Promise<EncryptedFile> {
    let file: EncryptedFile;
    try {
      file = await openPart(partsDir(key, manifest.u), manifest.u, partNumber);
    } catch (error) {
      if (error instanceof StorageError && error.code === 'STORAGE_INVALID_PART') {
        throw integrity(`part ${partNumber} is missing`, error);
      }
      throw error;
    }
    if (file.etag !== etag || file.size !== size) {
      await file.close();
      throw integrity(`part ${partNumber} is not the one completed`);
    }
    return file;
  }

  /** Plaintext `start..end` of a manifest object, opening each part it touches in turn. */
  async function* manifestRange(
    key: string,
    manifest: Manifest,
    start: number,
    end: number,
  ): AsyncGenerator<Buffer> {
    let offset = 0;
    const empty = end < start;
    for (const part of manifest.p) {
      const [, , size] = part;
      const first = offset;
      offset += size;
      // An empty object still authenticates its parts; otherwise only the parts in range open.
      if (!empty && (size === 0 || first + size - 1 < start || first > end)) continue;
      const file = await openBoundPart(key, manifest, part);
      try {
        if (empty) yield* plaintextRange(file, 0, -1);
        else {
          yield* plaintextRange(
            file,
            Math.max(start, first) - first,
            Math.min(end, first + size - 1) - first,
          );
        }
      } finally {
        await file.close();
      }
    }
  }

  async function readManifest(handle: FileHandle, key: string): Promise<Manifest> {
    const { size } = await handle.stat();
    if (size > MAX_MANIFEST_BYTES) throw integrity('the manifest is too large');
    const bytes = Buffer.alloc(size);
    await handle.read(bytes, 0, size, 0);
    try {
      const sealed = bytes.subarray(MANIFEST_MAGIC.length).toString('utf8');
      return parseManifest(keyRing.open(sealed, manifestContext(key)).toString('utf8'));
    } catch (error) {
      throw integrity('the manifest does not open for this object', error);
    }
  }

  /** Opens the object under `key` whichever its format; undefined when there is none. */
  async function openObject(key: string): Promise<OpenObject | undefined> {
    assertValidKey(key);
    let handle: FileHandle;
    try {
      handle = await open(objectPath(key), 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    let manifest: Manifest | undefined;
    try {
      const magic = Buffer.alloc(MANIFEST_MAGIC.length);
      await handle.read(magic, 0, magic.length, 0);
      if (magic.toString('latin1') === MANIFEST_MAGIC) manifest = await readManifest(handle, key);
    } catch (error) {
      await handle.close();
      throw error;
    }
    if (manifest) {
      await handle.close();
      const found = manifest;
      return {
        size: found.p.reduce((sum, [, , size]) => sum + size, 0),
        contentType: found.t,
        stream: (start, end) =>
          Readable.from(manifestRange(key, found, start, end), { objectMode: false }),
        close: async () => undefined,
      };
    }
    const file = await openEncryptedHandle(handle, keyRing, objectContext(key));
    return {
      size: file.size,
      contentType: file.contentType,
      stream: (start, end) => decryptingStream(file, start, end),
      close: () => file.close(),
    };
  }

  /** The upload whose parts the object under `key` is made of; undefined for a single file. */
  async function manifestUpload(key: string): Promise<string | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(objectPath(key), 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      const magic = Buffer.alloc(MANIFEST_MAGIC.length);
      await handle.read(magic, 0, magic.length, 0);
      if (magic.toString('latin1') !== MANIFEST_MAGIC) return undefined;
      return (await readManifest(handle, key)).u;
    } catch {
      return undefined;
    } finally {
      await handle.close();
    }
  }

  /** Removes the part folders beside `key`'s object, but `keep`'s. */
  async function removePartFolders(key: string, keep?: string): Promise<void> {
    const target = objectPath(key);
    const prefix = `${path.basename(target)}.`;
    let names: string[];
    try {
      names = await readdir(path.dirname(target));
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const name of names) {
      if (name.startsWith(prefix) && name !== keep) {
        await rm(path.join(path.dirname(target), name), { recursive: true, force: true });
      }
    }
  }

  /** One read of the completed parts, decrypting and hashing (no chain in this process). */
  async function readBackSha256(key: string, manifest: Manifest): Promise<string> {
    const hash = createHash('sha256');
    for (const part of manifest.p) {
      const file = await openBoundPart(key, manifest, part);
      try {
        for await (const chunk of plaintextRange(file, 0, file.size - 1)) hash.update(chunk);
      } finally {
        await file.close();
      }
    }
    return hash.digest('hex');
  }

  return {
    objectPath,
    partsDir,
    openPart,
    openObject,
    manifestUpload,
    readBackSha256,
    removePartFolders,
  };
}
