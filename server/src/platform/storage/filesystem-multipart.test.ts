// F2/F4: a completed multipart object in the embedded driver IS its part files, named in order by
// a manifest sealed to the object key; completion copies no byte. Reads stream across parts
// (ranges at and over part boundaries), every part opens only as the version completed, under
// its own upload and number, and a completion cut short leaves the object complete or absent.
// Objects written as one encrypted file (putObject, and multipart completions of the earlier
// format) read as before.
import { createHash, randomBytes } from 'node:crypto';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing, sha256Hex } from '../crypto.js';
import { DEFAULT_CHUNK_SIZE, EncryptingStream } from './encrypted-file.js';
import { FILESYSTEM_ENCRYPTION, openFilesystemStorage } from './filesystem.js';
import type { ObjectStorage } from './storage.js';

const C = DEFAULT_CHUNK_SIZE;
const ring = createKeyRing(randomBytes(32));
let root: string;
let storage: ObjectStorage;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'haven-fs-multipart-'));
  storage = await openFilesystemStorage({ root, keyRing: ring });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const objectFile = (key: string) => {
  const hash = sha256Hex(key);
  return path.join(root, 'objects', hash.slice(0, 2), hash);
};
const partsFolder = (key: string, uploadId: string) => `${objectFile(key)}.${uploadId}`;
const partFile = (key: string, uploadId: string, partNumber: number) =>
  path.join(partsFolder(key, uploadId), `part-${String(partNumber).padStart(5, '0')}.enc`);
const read = async (key: string, range?: { start: number; end: number }, store = storage) =>
  buffer((await store.getObject(key, range ? { range } : {})).stream);
const integrityFailure = { code: 'STORAGE_INTEGRITY' };

/** Uploads `data` as parts 1..n; `complete` completes with the ETags recorded. */
async function uploadParts(key: string, data: Buffer[], store = storage) {
  const uploadId = await store.createMultipartUpload(key, { contentType: 'application/dicom' });
  const parts: { partNumber: number; etag: string }[] = [];
  for (const [index, bytes] of data.entries()) {
    const { etag } = await store.uploadPart({
      key,
      uploadId,
      partNumber: index + 1,
      body: Readable.from([bytes]),
      size: bytes.length,
    });
    parts.push({ partNumber: index + 1, etag });
  }
  return {
    uploadId,
    parts,
    whole: Buffer.concat(data),
    complete: (on = store) => on.completeMultipartUpload(key, uploadId, parts),
  };
}

describe('F2: completion writes a manifest, not a second copy', () => {
  it('F2: the object file is a small manifest; the parts moved beside it; the upload is gone', async () => {
    const key = 'files/mp-layout';
    const upload = await uploadParts(key, [randomBytes(3 * C), randomBytes(2 * C + 9)]);
    const done = await upload.complete();
    expect(done).toEqual({ size: upload.whole.length, sha256: sha256(upload.whole) });
    expect((await stat(objectFile(key))).size).toBeLessThan(2048);
    expect((await readFile(objectFile(key))).subarray(0, 4).toString()).toBe('HVFM');
    expect((await readdir(partsFolder(key, upload.uploadId))).sort()).toEqual([
      'part-00001.enc',
      'part-00002.enc',
    ]);
    expect(await readdir(path.join(root, 'uploads'))).not.toContain(upload.uploadId);
    expect(await storage.headObject(key)).toEqual({
      size: upload.whole.length,
      contentType: 'application/dicom',
      serverSideEncryption: FILESYSTEM_ENCRYPTION,
    });
    expect((await read(key)).equals(upload.whole)).toBe(true);
  });

  it('F2: range reads at and across part boundaries return exactly the requested bytes', async () => {
    const key = 'files/mp-ranges';
    // Parts of C+3, 10, 2C and 5 bytes: boundaries at C+3, C+13 and 3C+13.
    const upload = await uploadParts(key, [
      randomBytes(C + 3),
      randomBytes(10),
      randomBytes(2 * C),
      randomBytes(5),
    ]);
    await upload.complete();
    const { whole } = upload;
    const last = whole.length - 1;
    const ranges: Array<[number, number]> = [
      [0, 0], // the first byte
      [last, last], // the last byte
      [C + 2, C + 3], // the last byte of part 1 and the first of part 2
      [C + 3, C + 12], // exactly part 2
      [C, 3 * C + 14], // from part 1 over part 2 and part 3 into part 4
      [5, last], // all but the head
      [0, last],
    ];
    for (const [start, end] of ranges) {
      const got = await storage.getObject(key, { range: { start, end } });
      expect(got.size).toBe(whole.length);
      expect(got.contentLength).toBe(end - start + 1);
      expect((await buffer(got.stream)).equals(whole.subarray(start, end + 1))).toBe(true);
    }
    // An end past the object is clamped; a start past it is refused (callers answer 416).
    expect((await read(key, { start: last - 1, end: 10 ** 9 })).equals(whole.subarray(-2))).toBe(
      true,
    );
    await expect(
      storage.getObject(key, { range: { start: whole.length, end: whole.length } }),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_RANGE' });
  });

  it('F2: a zero-byte multipart object round-trips (its empty part still authenticated)', async () => {
    const key = 'files/mp-empty';
    const upload = await uploadParts(key, [Buffer.alloc(0)]);
    expect(await upload.complete()).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
    const got = await storage.getObject(key);
    expect(got.contentLength).toBe(0);
    expect((await buffer(got.stream)).length).toBe(0);
  });

  it('F2: the SHA-256 is right when this process did not see the parts in order (read back)', async () => {
    const key = 'files/mp-other-process';
    const upload = await uploadParts(key, [randomBytes(C + 1), randomBytes(7)]);
    // Another instance (another process or node) completes: it has no running hash.
    const other = await openFilesystemStorage({ root, keyRing: ring });
    expect(await upload.complete(other)).toEqual({
      size: upload.whole.length,
      sha256: sha256(upload.whole),
    });
    // Parts replaced out of order: the running chain no longer matches; the result still does.
    const replaced = 'files/mp-replaced';
    const uploadId = await storage.createMultipartUpload(replaced, { contentType: 'text/csv' });
    const put = (partNumber: number, bytes: Buffer) =>
      storage.uploadPart({
        key: replaced,
        uploadId,
        partNumber,
        body: Readable.from([bytes]),
        size: bytes.length,
      });
    const one = await put(1, Buffer.from('one '));
    await put(2, Buffer.from('two (first try) '));
    const three = await put(3, Buffer.from('three'));
    const two = await put(2, Buffer.from('two '));
    const done = await storage.completeMultipartUpload(replaced, uploadId, [
      { partNumber: 1, ...one },
      { partNumber: 2, ...two },
      { partNumber: 3, ...three },
    ]);
    expect(done.sha256).toBe(sha256(Buffer.from('one two three')));
    expect((await read(replaced)).toString()).toBe('one two three');
  });

  it('F2: delete removes the manifest and its parts; a put over the object removes old parts', async () => {
    const key = 'files/mp-delete';
    const upload = await uploadParts(key, [randomBytes(100), randomBytes(100)]);
    await upload.complete();
    await storage.deleteObject(key);
    expect(await storage.headObject(key)).toBeUndefined();
    const shard = path.dirname(objectFile(key));
    expect(
      (await readdir(shard)).filter((n) => n.startsWith(path.basename(objectFile(key)))),
    ).toEqual([]);
    const again = await uploadParts(key, [randomBytes(100)]);
    await again.complete();
    const replacement = randomBytes(50);
    await storage.putObject(key, Readable.from([replacement]), { contentType: 'text/plain' });
    expect((await read(key)).equals(replacement)).toBe(true);
    expect(
      (await readdir(shard)).filter((n) => n.startsWith(path.basename(objectFile(key)))),
    ).toEqual([path.basename(objectFile(key))]);
  });
});

describe('F4: every part opens only at its own object, position and version', () => {
  it('F4/S1: a part swapped between objects fails to decrypt', async () => {
    const a = await uploadParts('files/mp-swap-a', [randomBytes(C + 5), randomBytes(C + 5)]);
    const b = await uploadParts('files/mp-swap-b', [randomBytes(C + 5), randomBytes(C + 5)]);
    await a.complete();
    await b.complete();
    await copyFile(
      partFile('files/mp-swap-a', a.uploadId, 1),
      partFile('files/mp-swap-b', b.uploadId, 1),
    );
    await expect(read('files/mp-swap-b')).rejects.toMatchObject(integrityFailure);
    // A range wholly inside the untouched part still reads: only the parts a range needs open.
    expect(
      (await read('files/mp-swap-b', { start: C + 5, end: 2 * C + 9 })).equals(
        b.whole.subarray(C + 5),
      ),
    ).toBe(true);
  });

  it('F4/S1: parts swapped within an object (reordered) fail to decrypt', async () => {
    const key = 'files/mp-reorder';
    const upload = await uploadParts(key, [randomBytes(C), randomBytes(C)]);
    await upload.complete();
    const [one, two] = [partFile(key, upload.uploadId, 1), partFile(key, upload.uploadId, 2)];
    await rename(one, `${one}.x`);
    await rename(two, one);
    await rename(`${one}.x`, two);
    await expect(read(key)).rejects.toMatchObject(integrityFailure);
  });

  it('F4/S1: an earlier version of a part put back in its place fails to read', async () => {
    const key = 'files/mp-old-version';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/plain' });
    const put = (text: string) =>
      storage.uploadPart({
        key,
        uploadId,
        partNumber: 1,
        body: Readable.from([Buffer.from(text)]),
        size: text.length,
      });
    await put('what the patient first sent');
    const earlier = await readFile(path.join(root, 'uploads', uploadId, 'part-00001.enc'));
    const latest = await put('what the patient corrected');
    await storage.completeMultipartUpload(key, uploadId, [{ partNumber: 1, ...latest }]);
    expect((await read(key)).toString()).toBe('what the patient corrected');
    await writeFile(partFile(key, uploadId, 1), earlier);
    await expect(read(key)).rejects.toMatchObject(integrityFailure);
  });

  it('F4: a manifest moved under another key does not open (sealed to its key)', async () => {
    const source = await uploadParts('files/mp-manifest-a', [randomBytes(100)]);
    await source.complete();
    const victim = await uploadParts('files/mp-manifest-b', [randomBytes(100)]);
    await victim.complete();
    await copyFile(objectFile('files/mp-manifest-a'), objectFile('files/mp-manifest-b'));
    await expect(storage.headObject('files/mp-manifest-b')).rejects.toMatchObject(integrityFailure);
    await expect(storage.getObject('files/mp-manifest-b')).rejects.toMatchObject(integrityFailure);
  });

  it('F4: a missing, cut or altered part fails the read', async () => {
    const key = 'files/mp-damaged';
    const upload = await uploadParts(key, [randomBytes(2 * C), randomBytes(2 * C)]);
    await upload.complete();
    const file = partFile(key, upload.uploadId, 2);
    const original = await readFile(file);
    await writeFile(file, original.subarray(0, original.length - C));
    await expect(read(key)).rejects.toMatchObject(integrityFailure);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 100]! ^= 1;
    await writeFile(file, flipped);
    await expect(read(key)).rejects.toMatchObject(integrityFailure);
    await rm(file);
    await expect(read(key)).rejects.toMatchObject(integrityFailure);
  });
});

/** What completion does first (the upload folder moves beside its object), done by hand. */
async function stageByHand(key: string, uploadId: string): Promise<void> {
  await mkdir(path.dirname(objectFile(key)), { recursive: true });
  await rename(path.join(root, 'uploads', uploadId), partsFolder(key, uploadId));
}

describe('F2: a completion cut short leaves the object complete or absent, never partial', () => {
  it('F2: stopped after the parts moved, before the manifest: absent; a retry completes it', async () => {
    const key = 'files/mp-crash-before-manifest';
    const upload = await uploadParts(key, [randomBytes(C + 1), randomBytes(C + 2)]);
    // Completion moved the folder beside the object, then the process died.
    await stageByHand(key, upload.uploadId);
    expect(await storage.headObject(key)).toBeUndefined();
    await expect(storage.getObject(key)).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
    expect(await storage.partLister!.listParts(key, upload.uploadId)).toHaveLength(2);
    const restarted = await openFilesystemStorage({ root, keyRing: ring });
    expect(await upload.complete(restarted)).toEqual({
      size: upload.whole.length,
      sha256: sha256(upload.whole),
    });
    expect((await read(key)).equals(upload.whole)).toBe(true);
  });

  it('F7: stopped before the manifest, then aborted: nothing is left', async () => {
    const key = 'files/mp-crash-abort';
    const upload = await uploadParts(key, [randomBytes(100)]);
    await stageByHand(key, upload.uploadId);
    await storage.abortMultipartUpload(key, upload.uploadId);
    expect(await storage.headObject(key)).toBeUndefined();
    await expect(readdir(partsFolder(key, upload.uploadId))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await expect(upload.complete()).rejects.toMatchObject({ code: 'STORAGE_UPLOAD_NOT_FOUND' });
  });

  it('F2: stopped after the manifest, before tidying: complete; abort keeps it; a retry agrees', async () => {
    const key = 'files/mp-crash-after-manifest';
    const upload = await uploadParts(key, [randomBytes(C), randomBytes(3)]);
    const record = await readFile(path.join(root, 'uploads', upload.uploadId, 'upload.sealed'));
    await upload.complete();
    // The upload record tidying would have removed is still there.
    await writeFile(path.join(partsFolder(key, upload.uploadId), 'upload.sealed'), record);
    await storage.abortMultipartUpload(key, upload.uploadId);
    expect((await read(key)).equals(upload.whole)).toBe(true);
    expect(await upload.complete()).toEqual({
      size: upload.whole.length,
      sha256: sha256(upload.whole),
    });
    expect((await read(key)).equals(upload.whole)).toBe(true);
  });

  it('F2: completing with a stale ETag leaves the upload open where it was', async () => {
    const key = 'files/mp-stale';
    const upload = await uploadParts(key, [randomBytes(10)]);
    await expect(
      storage.completeMultipartUpload(key, upload.uploadId, [{ partNumber: 1, etag: '"0000"' }]),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_PART' });
    expect(await storage.headObject(key)).toBeUndefined();
    expect(await readdir(path.join(root, 'uploads'))).toContain(upload.uploadId);
    await upload.complete();
    expect((await read(key)).equals(upload.whole)).toBe(true);
  });
});

describe('objects in the earlier format (one encrypted file) still read', () => {
  it('F4: an object completed by the earlier driver reads whole, by range and in head', async () => {
    // The earlier completion re-encrypted the parts into one file sealed to the object key,
    // exactly as written here; data folders from it exist on users' machines.
    const key = 'files/earlier-format';
    const data = randomBytes(3 * C + 11);
    const target = objectFile(key);
    await mkdir(path.dirname(target), { recursive: true });
    await pipeline(
      Readable.from([data]),
      new EncryptingStream(
        ring,
        `storage-object:${key}`,
        { contentType: 'application/pdf' },
        {
          chunkSize: C,
          maxBytes: data.length,
        },
      ),
      createWriteStream(target),
    );
    expect(await storage.headObject(key)).toEqual({
      size: data.length,
      contentType: 'application/pdf',
      serverSideEncryption: FILESYSTEM_ENCRYPTION,
    });
    expect((await read(key)).equals(data)).toBe(true);
    expect(
      (await read(key, { start: C - 1, end: 2 * C })).equals(data.subarray(C - 1, 2 * C + 1)),
    ).toBe(true);
    await storage.deleteObject(key);
    expect(await storage.headObject(key)).toBeUndefined();
  });
});
