// Re-encrypting the filesystem driver's stored files under the current master key (S2), the
// file half of `haven keys rotate --data` (platform/key-rotation.ts is the database half). Every
// file whose sealed header names another key is rewritten whole: a fresh data key, every chunk
// encrypted again, so nothing the replaced master key could open survives in the new version.
//
//   objects/<h[0..2]>/<h>                 an encrypted file (context: its object key) or a
//                                         manifest (context: object key + ":manifest")
//   objects/<h[0..2]>/<h>.<uploadId>/     the parts of a completed upload (and its record while
//                                         a completion is midway)
//   uploads/<uploadId>/                   upload.sealed and the parts of an upload in progress
//
// The object key a file is sealed to is not in its path (only its SHA-256), so the caller names
// the keys it knows (the database's); an object under an old key that no known key hashes to
// cannot be opened and is counted unreadable, as is a file no configured master key opens.
//
// Safety, file by file: the new version is written beside the old one (`<name>.rekey.tmp`, same
// folder, so the rename is atomic), fsynced, then opened and decrypted whole and its plaintext's
// SHA-256 compared with the old one's; only then, if the old file is still the one that was read
// (same inode, size and modification time), is it renamed over it and the folder fsynced. A crash
// leaves every file either as it was or re-encrypted, never half-written, plus at most a temp
// file that the next run removes; a rerun skips what is already current. Files stream through
// in chunks: memory stays flat whatever their size (manifests and upload records are small
// sealed texts, read whole as the driver itself reads them).
import { createHash } from 'node:crypto';
import { open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256Hex, type KeyRing } from '../crypto.js';
import {
  EncryptingStream,
  openEncryptedFile,
  plaintextRange,
  readHeaderSeal,
} from './encrypted-file.js';
import { DurableFileWriter, fsyncDirectory, writeFileDurably } from './filesystem-durable.js';
import {
  MANIFEST_MAGIC,
  UPLOAD_ID,
  isMissing,
  manifestContext,
  objectContext,
  partContext,
  uploadContext,
} from './filesystem-objects.js';
import { StorageError } from './storage.js';

/** The kinds of stored file, each counted on its own. */
export const STORED_FILE_KINDS = ['objects', 'manifests', 'parts', 'uploadRecords'] as const;
export type StoredFileKind = (typeof STORED_FILE_KINDS)[number];

export interface StoredFileCounts {
  readonly kind: StoredFileKind;
  /** Files rewritten under the current key by this run. */
  reencrypted: number;
  /** Files found already under the current key. */
  alreadyCurrent: number;
  /** Files no configured key opens (or whose object key is unknown): left untouched. */
  unreadable: number;
}

export interface StoredFileRotationOptions {
  /**
   * Called once a verified new version is on disk, before it replaces the old file. Tests throw
   * here to stop a run as a crash would: the temp file stays, the old file is untouched.
   */
  readonly beforeReplace?: (file: string) => void;
}

export interface StoredFileRotation {
  readonly kinds: readonly StoredFileCounts[];
  /** True when every stored file now names the current key. */
  readonly complete: boolean;
}

const TEMP_SUFFIX = '.rekey.tmp';
const PART_FILE = /^part-(\d{5})\.enc$/;
const UPLOAD_RECORD = 'upload.sealed';
const OBJECT_NAME = /^[0-9a-f]{64}$/;
const PART_FOLDER = /^([0-9a-f]{64})\.([A-Za-z0-9_-]{32})$/;

type Outcome = 'reencrypted' | 'alreadyCurrent' | 'unreadable' | 'gone';

/** Thrown inside a rewrite when the old file does not open: counted, never propagated. */
class Unreadable extends Error {}

/**
 * Re-encrypts every file under `root` (the driver's folder, e.g. `<data dir>/files`) that is not
 * under `ring`'s current key; `objectKeys` are the object keys the files may belong to.
 */
export async function reencryptStoredFiles(
  root: string,
  ring: KeyRing,
  objectKeys: Iterable<string>,
  options: StoredFileRotationOptions = {},
): Promise<StoredFileRotation> {
  const keyOfHash = new Map<string, string>();
  for (const key of objectKeys) keyOfHash.set(sha256Hex(key), key);
  const counts = new Map<StoredFileKind, StoredFileCounts>(
    STORED_FILE_KINDS.map((kind) => [
      kind,
      { kind, reencrypted: 0, alreadyCurrent: 0, unreadable: 0 },
    ]),
  );
  const count = (kind: StoredFileKind, outcome: Outcome) => {
    if (outcome !== 'gone') counts.get(kind)![outcome] += 1;
  };
  const rekey = { ring, beforeReplace: options.beforeReplace };

  /** Upload records and parts in one upload's folder (in progress, or beside its object). */
  async function uploadFolder(dir: string, uploadId: string): Promise<void> {
    for (const name of await namesIn(dir)) {
      const file = path.join(dir, name);
      const part = PART_FILE.exec(name);
      if (part) {
        count(
          'parts',
          await rekeyEncryptedFile(rekey, file, partContext(uploadId, Number(part[1]))),
        );
      } else if (name === UPLOAD_RECORD) {
        count('uploadRecords', await rekeySealedText(rekey, file, '', uploadContext(uploadId)));
      }
    }
  }

  const uploads = path.join(root, 'uploads');
  for (const uploadId of await namesIn(uploads)) {
    if (UPLOAD_ID.test(uploadId)) await uploadFolder(path.join(uploads, uploadId), uploadId);
  }
  const objects = path.join(root, 'objects');
  for (const shard of await namesIn(objects)) {
    const dir = path.join(objects, shard);
    for (const name of await namesIn(dir)) {
      const folder = PART_FOLDER.exec(name);
      if (folder) {
        await uploadFolder(path.join(dir, name), folder[2]!);
        continue;
      }
      if (!OBJECT_NAME.test(name)) continue;
      const file = path.join(dir, name);
      const key = keyOfHash.get(name);
      if (await isManifest(file)) {
        count(
          'manifests',
          await rekeySealedText(rekey, file, MANIFEST_MAGIC, key && manifestContext(key)),
        );
      } else {
        count('objects', await rekeyEncryptedFile(rekey, file, key && objectContext(key)));
      }
    }
  }
  const kinds = [...counts.values()];
  return { kinds, complete: kinds.every((k) => k.unreadable === 0) };
}

/** The names in `dir` (none when it is missing), removing temp files a crashed run left. */
async function namesIn(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
  const kept: string[] = [];
  for (const name of names.sort()) {
    if (name.endsWith(TEMP_SUFFIX)) await rm(path.join(dir, name), { force: true });
    else kept.push(name);
  }
  return kept;
}

async function isManifest(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(MANIFEST_MAGIC.length);
    await handle.read(magic, 0, magic.length, 0);
    return magic.toString('latin1') === MANIFEST_MAGIC;
  } finally {
    await handle.close();
  }
}

interface Rekey {
  readonly ring: KeyRing;
  readonly beforeReplace: ((file: string) => void) | undefined;
}

/** What identifies a version of a file: a rename over it or a rewrite changes one of these. */
const versionOf = async (file: string) => {
  const info = await stat(file);
  return `${info.ino}:${info.size}:${info.mtimeMs}`;
};

/**
 * Writes a new version with `write` (returning the SHA-256 of the plaintext it read from the
 * old file), checks it with `verify` (the SHA-256 of the plaintext the new one decrypts to),
 * and renames it over `file` if the old file is still the version read.
 */
async function replaceVerified(
  rekey: Rekey,
  file: string,
  write: (temp: string) => Promise<string>,
  verify: (temp: string) => Promise<string>,
): Promise<Outcome> {
  const temp = `${file}${TEMP_SUFFIX}`;
  let version: string;
  try {
    version = await versionOf(file);
    const written = await write(temp);
    if ((await verify(temp)) !== written) {
      throw new StorageError('INTEGRITY', 'A re-encrypted file did not decrypt to its original.');
    }
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof Unreadable) return 'unreadable';
    if (isMissing(error)) return 'gone'; // deleted meanwhile: nothing left to rotate
    throw error;
  }
  rekey.beforeReplace?.(file);
  // Replaced or deleted while it was being read: its new owner's version stands.
  if ((await versionOf(file).catch(() => undefined)) !== version) {
    await rm(temp, { force: true });
    return 'gone';
  }
  await rename(temp, file);
  await fsyncDirectory(path.dirname(file));
  return 'reencrypted';
}

/** One encrypted file (an object or a part): streamed through a fresh data key. */
async function rekeyEncryptedFile(
  rekey: Rekey,
  file: string,
  context: string | undefined,
): Promise<Outcome> {
  const { ring } = rekey;
  let seal: string;
  try {
    seal = await readHeaderSeal(file);
  } catch (error) {
    if (isMissing(error)) return 'gone';
    return 'unreadable';
  }
  if (ring.keyIdOf(seal) === ring.currentKeyId) return 'alreadyCurrent';
  if (context === undefined) return 'unreadable';
  let header: { contentType: string; etag?: string; size: number } | undefined;
  return replaceVerified(
    rekey,
    file,
    async (temp) => {
      const old = await openEncryptedFile(file, ring, context).catch((error: unknown) => {
        if (isMissing(error)) throw error;
        throw new Unreadable('the old file does not open', { cause: error });
      });
      header = {
        contentType: old.contentType,
        size: old.size,
        ...(old.etag && { etag: old.etag }),
      };
      const encrypting = new EncryptingStream(
        ring,
        context,
        { contentType: old.contentType, ...(old.etag !== undefined && { etag: old.etag }) },
        { chunkSize: old.chunkSize, maxBytes: old.size },
      );
      const handle = await open(temp, 'wx', 0o600);
      try {
        const plaintext = Readable.from(plaintextRange(old, 0, old.size - 1), {
          objectMode: false,
        });
        await pipeline(plaintext, encrypting, new DurableFileWriter(handle)).catch(
          (error: unknown) => {
            // A chunk of the old file failed its check: it stays as it is, for a person to see.
            if (error instanceof StorageError && error.code === 'STORAGE_INTEGRITY') {
              throw new Unreadable('the old file is damaged', { cause: error });
            }
            throw error;
          },
        );
      } finally {
        await handle.close();
        await old.close();
      }
      return encrypting.sha256();
    },
    async (temp) => {
      const fresh = await openEncryptedFile(temp, ring, context);
      const hash = createHash('sha256');
      try {
        if (
          ring.keyIdOf(await readHeaderSeal(temp)) !== ring.currentKeyId ||
          fresh.contentType !== header?.contentType ||
          fresh.etag !== header.etag ||
          fresh.size !== header.size
        ) {
          return 'header differs';
        }
        for await (const chunk of plaintextRange(fresh, 0, fresh.size - 1)) hash.update(chunk);
      } finally {
        await fresh.close();
      }
      return hash.digest('hex');
    },
  );
}

/** A sealed text file (a manifest after its magic line, or an upload record): re-sealed. */
async function rekeySealedText(
  rekey: Rekey,
  file: string,
  prefix: string,
  context: string | undefined,
): Promise<Outcome> {
  const { ring } = rekey;
  const sealedOf = (text: string) => (text.startsWith(prefix) ? text.slice(prefix.length) : '');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return 'gone';
    throw error;
  }
  if (ring.keyIdOf(sealedOf(text)) === ring.currentKeyId) return 'alreadyCurrent';
  if (context === undefined) return 'unreadable';
  return replaceVerified(
    rekey,
    file,
    async (temp) => {
      let plain: Buffer;
      try {
        plain = ring.open(sealedOf(await readFile(file, 'utf8')), context);
      } catch (error) {
        if (isMissing(error)) throw error;
        throw new Unreadable('the old text does not open', { cause: error });
      }
      await writeFileDurably(temp, prefix + ring.seal(plain, context));
      return createHash('sha256').update(plain).digest('hex');
    },
    async (temp) => {
      const sealed = sealedOf(await readFile(temp, 'utf8'));
      if (ring.keyIdOf(sealed) !== ring.currentKeyId) return 'not under the current key';
      return createHash('sha256').update(ring.open(sealed, context)).digest('hex');
    },
  );
}
