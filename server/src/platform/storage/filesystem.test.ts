// F4/F2: the embedded driver stores every object encrypted in authenticated chunks (a read fails,
// never returns wrong bytes), writes atomically, streams with flat memory, reads ranges, and
// runs the same multipart model as S3 (tus PATCH = one part).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing, sha256Hex } from '../crypto.js';
import { DEFAULT_CHUNK_SIZE } from './encrypted-file.js';
import { FILESYSTEM_ENCRYPTION, openFilesystemStorage } from './filesystem.js';
import { encryptionMatches, type ObjectStorage } from './storage.js';

const C = DEFAULT_CHUNK_SIZE;
const ring = createKeyRing(randomBytes(32));
let root: string;
let storage: ObjectStorage;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'haven-fs-storage-'));
  storage = await openFilesystemStorage({ root, keyRing: ring });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const put = (key: string, data: Buffer) =>
  storage.putObject(key, Readable.from([data]), {
    contentType: 'application/pdf',
    size: data.length,
  });
const read = async (key: string, range?: { start: number; end: number }) =>
  buffer((await storage.getObject(key, range ? { range } : {})).stream);
const objectFile = (key: string) => {
  const hash = sha256Hex(key);
  return path.join(root, 'objects', hash.slice(0, 2), hash);
};
/** Byte offset of chunk `index` in an object file (header length read from the header). */
const chunkOffset = (file: Buffer, index: number) => 11 + file.readUInt16BE(9) + index * (C + 16);
const integrityFailure = { code: 'STORAGE_INTEGRITY' };

describe('filesystem storage: round trips and ranges', () => {
  it.each([0, 1, C - 1, C, C + 1, 3 * 1024 * 1024 + 7])(
    'F4: %i bytes go in encrypted and come back identical',
    async (size) => {
      const data = randomBytes(size);
      const key = `files/round-trip-${size}`;
      expect(await put(key, data)).toEqual({ size, sha256: sha256(data) });
      const head = await storage.headObject(key);
      expect(head).toEqual({
        size,
        contentType: 'application/pdf',
        serverSideEncryption: FILESYSTEM_ENCRYPTION,
      });
      expect(encryptionMatches(storage.expectedEncryption!, head!)).toBe(true);
      const got = await storage.getObject(key);
      expect(got.size).toBe(size);
      expect(got.contentLength).toBe(size);
      expect((await buffer(got.stream)).equals(data)).toBe(true);
    },
  );

  it('F4: the stored file does not contain the plaintext', async () => {
    const data = Buffer.from('PATIENT NAME: Jane Example; DIAGNOSIS: confidential. '.repeat(4000));
    await put('files/plaintext-check', data);
    const stored = await readFile(objectFile('files/plaintext-check'));
    expect(stored.includes(Buffer.from('Jane Example'))).toBe(false);
  });

  it('F4: every chunk has its own nonce (equal plaintext chunks encrypt differently)', async () => {
    await put('files/zeros', Buffer.alloc(2 * C));
    const stored = await readFile(objectFile('files/zeros'));
    const chunk = (index: number) =>
      stored.subarray(chunkOffset(stored, index), chunkOffset(stored, index) + C);
    expect(chunk(0).equals(chunk(1))).toBe(false);
  });

  it('range reads across chunk boundaries return exactly the requested bytes', async () => {
    const data = randomBytes(3 * C + 5);
    await put('files/ranges', data);
    const ranges: Array<[number, number]> = [
      [0, 0],
      [C - 1, C],
      [C, 2 * C - 1],
      [C - 1, 2 * C],
      [3 * C, 3 * C + 4],
      [0, data.length - 1],
      [17, 2 * C + 3],
    ];
    for (const [start, end] of ranges) {
      const got = await storage.getObject('files/ranges', { range: { start, end } });
      expect(got.contentLength).toBe(end - start + 1);
      expect(got.size).toBe(data.length);
      expect((await buffer(got.stream)).equals(data.subarray(start, end + 1))).toBe(true);
    }
    // An end past the object is clamped, as S3 does.
    expect(
      (await read('files/ranges', { start: 3 * C, end: 10 ** 9 })).equals(data.subarray(3 * C)),
    ).toBe(true);
    await expect(
      storage.getObject('files/ranges', { range: { start: data.length, end: data.length } }),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_RANGE' });
    await expect(
      storage.getObject('files/ranges', { range: { start: 5, end: 4 } }),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_RANGE' });
  });

  it('a range read decrypts only its own chunks (a damaged chunk elsewhere does not matter)', async () => {
    const data = randomBytes(3 * C);
    await put('files/partial', data);
    const file = await readFile(objectFile('files/partial'));
    file[chunkOffset(file, 2) + 5]! ^= 1;
    await writeFile(objectFile('files/partial'), file);
    expect(
      (await read('files/partial', { start: 10, end: C + 10 })).equals(data.subarray(10, C + 11)),
    ).toBe(true);
    await expect(read('files/partial', { start: 2 * C, end: 2 * C })).rejects.toMatchObject(
      integrityFailure,
    );
  });

  it('missing objects: get says NOT_FOUND, head says undefined, delete is fine', async () => {
    await expect(storage.getObject('files/never')).rejects.toMatchObject({
      code: 'STORAGE_NOT_FOUND',
    });
    expect(await storage.headObject('files/never')).toBeUndefined();
    await storage.deleteObject('files/never');
    await put('files/deleted', randomBytes(10));
    await storage.deleteObject('files/deleted');
    expect(await storage.headObject('files/deleted')).toBeUndefined();
  });

  it('capabilities: no presigned URLs (the module signs its own), parts can be listed', () => {
    expect(storage.kind).toBe('filesystem');
    expect(storage.presigner).toBeNull();
    expect(storage.partLister).not.toBeNull();
  });
});

describe('F4: tampering is detected; a read fails rather than return wrong bytes', () => {
  const original = randomBytes(3 * C + 100);

  async function tampered(key: string, change: (file: Buffer) => Buffer): Promise<void> {
    await put(key, original);
    await writeFile(objectFile(key), change(await readFile(objectFile(key))));
  }

  it('F4: a flipped ciphertext bit fails the read', async () => {
    await tampered('files/t-flip', (file) => {
      file[chunkOffset(file, 1) + 100]! ^= 0x01;
      return file;
    });
    await expect(read('files/t-flip')).rejects.toMatchObject(integrityFailure);
  });

  it('F4: a file cut at a chunk boundary fails the read (the new last chunk was not final)', async () => {
    await tampered('files/t-cut', (file) => file.subarray(0, chunkOffset(file, 3)));
    await expect(read('files/t-cut')).rejects.toMatchObject(integrityFailure);
  });

  it('F4: a file cut inside a chunk, or with bytes appended, fails the read', async () => {
    await tampered('files/t-cut-mid', (file) => file.subarray(0, chunkOffset(file, 3) + 40));
    await expect(read('files/t-cut-mid')).rejects.toMatchObject(integrityFailure);
    await tampered('files/t-append', (file) => Buffer.concat([file, randomBytes(C + 16)]));
    await expect(read('files/t-append')).rejects.toMatchObject(integrityFailure);
  });

  it('F4: reordered chunks fail the read', async () => {
    await tampered('files/t-reorder', (file) => {
      const [a, b] = [chunkOffset(file, 0), chunkOffset(file, 1)];
      const first = Buffer.from(file.subarray(a, b));
      file.copy(file, a, b, b + (b - a));
      first.copy(file, b);
      return file;
    });
    await expect(read('files/t-reorder')).rejects.toMatchObject(integrityFailure);
  });

  it('F4: a chunk swapped in from another file fails the read', async () => {
    await put('files/t-donor', randomBytes(3 * C + 100));
    const donor = await readFile(objectFile('files/t-donor'));
    await tampered('files/t-swap', (file) => {
      donor.copy(file, chunkOffset(file, 1), chunkOffset(donor, 1), chunkOffset(donor, 2));
      return file;
    });
    await expect(read('files/t-swap')).rejects.toMatchObject(integrityFailure);
  });

  it('F4: a whole file moved under another key does not open (data key bound to the key)', async () => {
    await put('files/t-victim', original);
    await put('files/t-source', randomBytes(100));
    await writeFile(objectFile('files/t-victim'), await readFile(objectFile('files/t-source')));
    await expect(storage.getObject('files/t-victim')).rejects.toMatchObject(integrityFailure);
    await expect(storage.headObject('files/t-victim')).rejects.toMatchObject(integrityFailure);
  });
});

describe('writes are atomic', () => {
  const failingAfter = (bytes: number) =>
    Readable.from(
      (async function* () {
        yield randomBytes(bytes);
        throw new Error('client went away');
      })(),
    );

  it('a body that fails mid-stream leaves nothing under the key and no temp file', async () => {
    await expect(
      storage.putObject('files/atomic-new', failingAfter(3 * C), {
        contentType: 'application/pdf',
      }),
    ).rejects.toThrow('client went away');
    expect(await storage.headObject('files/atomic-new')).toBeUndefined();
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
  });

  it('a failed overwrite keeps the previous version whole', async () => {
    const first = randomBytes(2 * C);
    await put('files/atomic-old', first);
    await expect(
      storage.putObject('files/atomic-old', failingAfter(5 * C), { contentType: 'text/plain' }),
    ).rejects.toThrow();
    expect((await read('files/atomic-old')).equals(first)).toBe(true);
  });

  it('a body longer or shorter than its declared size is refused and not stored', async () => {
    const body = () => Readable.from([randomBytes(1000)]);
    for (const size of [999, 1001]) {
      await expect(
        storage.putObject('files/atomic-size', body(), { contentType: 'text/plain', size }),
      ).rejects.toMatchObject({ code: 'STORAGE_SIZE_MISMATCH' });
    }
    expect(await storage.headObject('files/atomic-size')).toBeUndefined();
  });
});

describe('keys are never trusted', () => {
  it.each([
    '',
    '../escape',
    'files/../../etc/passwd',
    '/absolute',
    'nul\0byte',
    'line\nbreak',
    'double//slash',
    'trailing/',
    'back\\slash',
    'spa ce',
    'x'.repeat(1025),
  ])('refuses %j on every call', async (key) => {
    const refused = { code: 'STORAGE_INVALID_KEY' };
    await expect(put(key, Buffer.alloc(1))).rejects.toMatchObject(refused);
    await expect(storage.getObject(key)).rejects.toMatchObject(refused);
    await expect(storage.headObject(key)).rejects.toMatchObject(refused);
    await expect(storage.deleteObject(key)).rejects.toMatchObject(refused);
    await expect(storage.createMultipartUpload(key, { contentType: 'x/y' })).rejects.toMatchObject(
      refused,
    );
  });
});

describe('F2: multipart uploads (one part per tus PATCH)', () => {
  const part = (data: Buffer) => Readable.from([data]);
  const upload = (key: string, uploadId: string, partNumber: number, data: Buffer) =>
    storage.uploadPart({ key, uploadId, partNumber, body: part(data), size: data.length });

  it('F2: parts uploaded out of order complete in order with size and SHA-256', async () => {
    const key = 'files/multi';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/dicom' });
    const data = [randomBytes(C + 3), randomBytes(10), randomBytes(2 * C)];
    const e3 = await upload(key, uploadId, 3, data[2]!);
    const e1 = await upload(key, uploadId, 1, data[0]!);
    const e2 = await upload(key, uploadId, 2, data[1]!);
    expect(await storage.partLister!.listParts(key, uploadId)).toEqual([
      { partNumber: 1, etag: e1.etag, size: data[0]!.length },
      { partNumber: 2, etag: e2.etag, size: 10 },
      { partNumber: 3, etag: e3.etag, size: data[2]!.length },
    ]);
    const whole = Buffer.concat(data);
    const done = await storage.completeMultipartUpload(key, uploadId, [
      { partNumber: 3, ...e3 },
      { partNumber: 1, ...e1 },
      { partNumber: 2, ...e2 },
    ]);
    expect(done).toEqual({ size: whole.length, sha256: sha256(whole) });
    expect((await read(key)).equals(whole)).toBe(true);
    expect((await storage.headObject(key))?.contentType).toBe('application/dicom');
    expect(await readdir(path.join(root, 'uploads'))).not.toContain(uploadId);
  });

  it('F2: re-uploading a part number replaces it; completing needs the recorded (latest) ETag', async () => {
    const key = 'files/multi-replace';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    const stale = await upload(key, uploadId, 1, Buffer.from('first try'));
    const latest = await upload(key, uploadId, 1, Buffer.from('second try'));
    expect(latest.etag).not.toBe(stale.etag);
    await expect(
      storage.completeMultipartUpload(key, uploadId, [{ partNumber: 1, ...stale }]),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_PART' });
    await expect(
      storage.completeMultipartUpload(key, uploadId, [
        { partNumber: 1, ...latest },
        { partNumber: 2, etag: latest.etag },
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_PART' });
    await storage.completeMultipartUpload(key, uploadId, [{ partNumber: 1, ...latest }]);
    expect((await read(key)).toString()).toBe('second try');
  });

  it('F2: bad part numbers, foreign keys and forged upload ids are refused', async () => {
    const key = 'files/multi-bad';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    for (const partNumber of [0, -1, 1.5, 10_001]) {
      await expect(upload(key, uploadId, partNumber, Buffer.alloc(1))).rejects.toMatchObject({
        code: 'STORAGE_INVALID_PART',
      });
    }
    const missing = { code: 'STORAGE_UPLOAD_NOT_FOUND' };
    await expect(upload('files/other-key', uploadId, 1, Buffer.alloc(1))).rejects.toMatchObject(
      missing,
    );
    await expect(upload(key, '../../objects', 1, Buffer.alloc(1))).rejects.toMatchObject(missing);
    await expect(upload(key, 'A'.repeat(32), 1, Buffer.alloc(1))).rejects.toMatchObject(missing);
    await expect(storage.completeMultipartUpload(key, uploadId, [])).rejects.toMatchObject({
      code: 'STORAGE_INVALID_PART',
    });
  });

  it('F2: a part whose body stops early is not stored', async () => {
    const key = 'files/multi-short';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    await expect(
      storage.uploadPart({ key, uploadId, partNumber: 1, body: part(randomBytes(100)), size: 200 }),
    ).rejects.toMatchObject({ code: 'STORAGE_SIZE_MISMATCH' });
    expect(await storage.partLister!.listParts(key, uploadId)).toEqual([]);
  });

  it('F7: abort removes the parts; aborting again or a forged id is fine; later parts are refused', async () => {
    const key = 'files/multi-abort';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    await upload(key, uploadId, 1, randomBytes(100));
    await storage.abortMultipartUpload(key, uploadId);
    expect(await readdir(path.join(root, 'uploads'))).not.toContain(uploadId);
    await storage.abortMultipartUpload(key, uploadId);
    await storage.abortMultipartUpload(key, 'not-an-upload');
    await expect(upload(key, uploadId, 2, randomBytes(10))).rejects.toMatchObject({
      code: 'STORAGE_UPLOAD_NOT_FOUND',
    });
  });

  it('F7: a part is refused once another node aborted its upload, though this node read it before', async () => {
    const key = 'files/multi-other-node';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    await upload(key, uploadId, 1, randomBytes(100));
    // Known to this node now, and still only under its own key.
    await expect(upload('files/other-key', uploadId, 2, randomBytes(10))).rejects.toMatchObject({
      code: 'STORAGE_UPLOAD_NOT_FOUND',
    });
    // A second driver over the same folder stands for another node (or a restart).
    const otherNode = await openFilesystemStorage({ root, keyRing: ring });
    await otherNode.abortMultipartUpload(key, uploadId);
    await expect(upload(key, uploadId, 2, randomBytes(10))).rejects.toMatchObject({
      code: 'STORAGE_UPLOAD_NOT_FOUND',
    });
    expect(await readdir(path.join(root, 'uploads'))).not.toContain(uploadId);
  });

  it('F7: a part still arriving when its upload is aborted fails and leaves nothing behind', async () => {
    const key = 'files/multi-late';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = Readable.from(
      (async function* () {
        yield randomBytes(C);
        await gate;
        yield randomBytes(C);
      })(),
    );
    const pending = storage.uploadPart({ key, uploadId, partNumber: 1, body: slow, size: 2 * C });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await storage.abortMultipartUpload(key, uploadId);
    release();
    await expect(pending).rejects.toMatchObject({ code: 'STORAGE_UPLOAD_NOT_FOUND' });
    expect(await readdir(path.join(root, 'uploads'))).not.toContain(uploadId);
  });

  it('F7: aborting with another key leaves the upload alone', async () => {
    const key = 'files/multi-mine';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    await storage.abortMultipartUpload('files/someone-else', uploadId);
    expect(await readdir(path.join(root, 'uploads'))).toContain(uploadId);
  });
});

describe('streaming keeps memory flat', () => {
  it('stores and reads back 200 MiB with RSS growing far less than the file', async () => {
    const block = randomBytes(1024 * 1024);
    const blocks = 200;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < blocks; i += 1) yield block;
      })(),
    );
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      const stored = await storage.putObject('files/big', source, {
        contentType: 'application/zip',
      });
      expect(stored.size).toBe(blocks * block.length);
      let seen = 0;
      for await (const chunk of (await storage.getObject('files/big')).stream) {
        seen += (chunk as Buffer).length;
      }
      expect(seen).toBe(blocks * block.length);
    } finally {
      clearInterval(sample);
      await storage.deleteObject('files/big');
    }
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('crash leftovers', () => {
  it('a temp file older than a day is swept at the next start; a fresh one is kept', async () => {
    const old = path.join(root, 'tmp', 'old.tmp');
    const fresh = path.join(root, 'tmp', 'fresh.tmp');
    await writeFile(old, 'x');
    await writeFile(fresh, 'x');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await utimes(old, twoDaysAgo, twoDaysAgo);
    await openFilesystemStorage({ root, keyRing: ring });
    expect(await readdir(path.join(root, 'tmp'))).toEqual(['fresh.tmp']);
    await rm(fresh);
  });
});
