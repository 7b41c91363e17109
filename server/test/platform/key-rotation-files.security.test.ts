// Stored-file rotation (S2): the embedded store encrypts every file under a data key sealed with
// the master key, so after a master-key change `haven keys rotate --data` re-encrypts each file,
// part, manifest and upload record still under the replaced key. Each is rewritten beside the
// old one, verified by decrypting it whole, then renamed over it: a crash between the two leaves
// the old file readable and a rerun finishes; afterwards the new master key alone reads every
// byte, identical to what was stored.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runKeysRotate } from '../../src/cli/keys-commands.js';
import { loadConfig, type HavenConfig } from '../../src/config.js';
import { keyRingOf, type KeyRing } from '../../src/platform/crypto.js';
import { readHeaderSeal } from '../../src/platform/storage/encrypted-file.js';
import { openFilesystemStorage } from '../../src/platform/storage/filesystem.js';
import type { ObjectStorage } from '../../src/platform/storage/storage.js';
import { testEnv } from '../app-harness.js';
import { createTestDatabase, describeEachEngine, type TestDatabase } from '../databases.js';
import { insertAccount } from '../proof/sign-in-kit.js';

const newKey = () => randomBytes(32).toString('base64');

const ringOf = (current: string, previous?: string): KeyRing =>
  keyRingOf({
    masterKey: Buffer.from(current, 'base64'),
    previousMasterKey: previous === undefined ? undefined : Buffer.from(previous, 'base64'),
  });

/** Every regular file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => statSync(path.join(dir, name)).isFile())
    .sort();
}

async function readAll(storage: ObjectStorage, key: string): Promise<Buffer> {
  const { stream } = await storage.getObject(key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describeEachEngine('S2 stored-file rotation', (engine) => {
  let database: TestDatabase;
  let folder: string;
  let oldKey: string;
  let currentKey: string;
  let ownerId: string;
  /** Object key → the bytes stored under it. */
  let stored: Map<string, Buffer>;
  let openUpload: { key: string; uploadId: string; part: Buffer };

  const filesDir = () => path.join(folder, 'files');
  const config = (current: string, previous?: string): HavenConfig =>
    loadConfig(
      testEnv({
        HAVEN_DATA_DIR: folder,
        HAVEN_MASTER_KEY: current,
        ...(previous === undefined ? {} : { HAVEN_MASTER_KEY_PREVIOUS: previous }),
      }),
    );
  const storageUnder = (ring: KeyRing) =>
    openFilesystemStorage({ root: filesDir(), keyRing: ring, chunkSize: 1024 });

  async function recordSession(key: string, uploadId: string, size: number): Promise<void> {
    await database.db
      .insertInto('upload_sessions')
      .values({
        id: key.slice('uploads/'.length),
        owner_id: ownerId,
        patient_id: null,
        organization_id: null,
        protocol: 'tus',
        object_key: key,
        storage_upload_id: uploadId,
        file_name: 'scan.pdf',
        file_type: 'pdf',
        content_type: 'application/pdf',
        declared_size: size,
        expires_at: new Date(Date.now() + 3_600_000),
      } as never)
      .execute();
  }

  /** Under `key`: a single-file object (several chunks), a completed multipart object, and an
   *  upload still open with one part. */
  async function seedUnder(key: string): Promise<void> {
    const storage = await storageUnder(ringOf(key));
    stored = new Map();
    const single = `uploads/${randomUUID()}`;
    stored.set(single, randomBytes(5000));
    await storage.putObject(single, Readable.from([stored.get(single)!]), {
      contentType: 'application/pdf',
    });
    await recordSession(single, 'single', 5000);
    const multi = `uploads/${randomUUID()}`;
    const parts = [randomBytes(3000), randomBytes(10)];
    const multiId = await storage.createMultipartUpload(multi, { contentType: 'application/pdf' });
    const etags = [];
    for (const [index, body] of parts.entries()) {
      const { etag } = await storage.uploadPart({
        key: multi,
        uploadId: multiId,
        partNumber: index + 1,
        body: Readable.from([body]),
        size: body.length,
      });
      etags.push({ partNumber: index + 1, etag });
    }
    await storage.completeMultipartUpload(multi, multiId, etags);
    stored.set(multi, Buffer.concat(parts));
    await recordSession(multi, multiId, 3010);
    const open = `uploads/${randomUUID()}`;
    const openId = await storage.createMultipartUpload(open, { contentType: 'application/pdf' });
    const part = randomBytes(2048);
    await storage.uploadPart({
      key: open,
      uploadId: openId,
      partNumber: 1,
      body: Readable.from([part]),
      size: part.length,
    });
    await recordSession(open, openId, 4096);
    openUpload = { key: open, uploadId: openId, part };
  }

  /** The key id each stored file's seal names (encrypted files, manifests, upload records). */
  async function keyIdsOnDisk(ring: KeyRing): Promise<Set<string | undefined>> {
    const ids = new Set<string | undefined>();
    for (const name of filesUnder(filesDir())) {
      const file = path.join(filesDir(), name);
      const text = readFileSync(file).subarray(0, 4).toString('latin1');
      const seal =
        text === 'HVFE'
          ? await readHeaderSeal(file)
          : readFileSync(file, 'utf8').replace(/^HVFM1\n/, '');
      ids.add(ring.keyIdOf(seal));
    }
    return ids;
  }

  async function expectReadableUnder(ring: KeyRing): Promise<void> {
    const storage = await storageUnder(ring);
    for (const [key, bytes] of stored) {
      expect((await readAll(storage, key)).equals(bytes)).toBe(true);
    }
    const [part] = await storage.partLister!.listParts(openUpload.key, openUpload.uploadId);
    expect(part).toMatchObject({ partNumber: 1, size: openUpload.part.length });
  }

  beforeEach(async () => {
    database = await createTestDatabase(engine);
    folder = mkdtempSync(path.join(tmpdir(), 'haven-rotate-files-'));
    oldKey = newKey();
    currentKey = newKey();
    ownerId = (
      await insertAccount(database.db, { email: 'files@example.org', roles: ['clinician'] })
    ).id;
  });
  afterEach(async () => {
    await database.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('S2: a stored file sealed under the previous master key is re-encrypted by keys rotate --data and still downloads byte-identical', async () => {
    await seedUnder(oldKey);
    const before = new Map(
      filesUnder(filesDir()).map((name) => [name, readFileSync(path.join(filesDir(), name))]),
    );
    const ring = ringOf(currentKey, oldKey);
    // While the old key is the previous one, everything still reads.
    await expectReadableUnder(ring);

    const run = await runKeysRotate(config(currentKey, oldKey), { data: true }, database.db);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('file_objects: 1 re-encrypted, 0 already current, 0 unreadable');
    expect(run.stdout).toContain('file_manifests: 1 re-encrypted, 0 already current, 0 unreadable');
    expect(run.stdout).toContain('file_parts: 3 re-encrypted, 0 already current, 0 unreadable');
    expect(run.stdout).toContain(
      'file_upload_records: 1 re-encrypted, 0 already current, 0 unreadable',
    );
    // Every file was rewritten whole (a fresh data key: no byte of ciphertext in common at the
    // start of the body), under the current key only.
    expect(filesUnder(filesDir())).toEqual([...before.keys()]);
    for (const [name, old] of before) {
      expect(readFileSync(path.join(filesDir(), name)).equals(old)).toBe(false);
    }
    expect(await keyIdsOnDisk(ring)).toEqual(new Set([ring.currentKeyId]));
    // The new master key alone reads every byte as it was stored; the open upload goes on.
    await expectReadableUnder(ringOf(currentKey));
    const audit = await database.db
      .selectFrom('audit_events')
      .select(['details', 'outcome'])
      .where('action', '=', 'keys.rotated')
      .where(sql<boolean>`details->>'kind' = 'files'`)
      .executeTakeFirstOrThrow();
    expect(audit.outcome).toBe('success');
    expect(audit.details).toMatchObject({
      kind: 'files',
      complete: true,
      fileObjectsReencrypted: 1,
      fileManifestsReencrypted: 1,
      filePartsReencrypted: 3,
      fileUploadRecordsReencrypted: 1,
    });
    for (const key of Object.keys(audit.details)) {
      expect(key).not.toMatch(/name|email|phone|code|token|secret/i);
    }
    // A rerun finds everything current and rewrites nothing.
    const again = await runKeysRotate(config(currentKey, oldKey), { data: true }, database.db);
    expect(again.stdout).toContain('file_parts: 0 re-encrypted, 3 already current, 0 unreadable');
    expect(again.exitCode).toBe(0);
  });

  it('S2: a crash between temp write and rename leaves the old file readable and a rerun completes', async () => {
    await seedUnder(oldKey);
    let replaced = 0;
    const crash = runKeysRotate(config(currentKey, oldKey), { data: true }, database.db, {
      beforeReplace: () => {
        replaced += 1;
        if (replaced === 3) throw new Error('simulated crash');
      },
    });
    await expect(crash).rejects.toThrow('simulated crash');
    // The verified new version is on disk beside the old file, which is untouched and reads.
    const leftovers = filesUnder(filesDir()).filter((name) => name.endsWith('.rekey.tmp'));
    expect(leftovers).toHaveLength(1);
    await expectReadableUnder(ringOf(currentKey, oldKey));

    const rerun = await runKeysRotate(config(currentKey, oldKey), { data: true }, database.db);
    expect(rerun.exitCode).toBe(0);
    expect(rerun.stdout).toMatch(/file_parts: \d re-encrypted/);
    expect(filesUnder(filesDir()).filter((name) => name.endsWith('.rekey.tmp'))).toEqual([]);
    const ring = ringOf(currentKey);
    expect(await keyIdsOnDisk(ring)).toEqual(new Set([ring.currentKeyId]));
    await expectReadableUnder(ring);
  });

  it('S2: a stored file no configured key opens is left untouched, counted unreadable, and the run exits 1', async () => {
    await seedUnder(oldKey);
    // Rotating without the replaced key: nothing under it opens.
    const stranger = newKey();
    const before = new Map(
      filesUnder(filesDir()).map((name) => [name, readFileSync(path.join(filesDir(), name))]),
    );
    const run = await runKeysRotate(config(currentKey, stranger), { data: true }, database.db);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('file_objects: 0 re-encrypted, 0 already current, 1 unreadable');
    expect(run.stdout).toContain('file_parts: 0 re-encrypted, 0 already current, 3 unreadable');
    expect(run.stderr).toContain('HAVEN_MASTER_KEY_PREVIOUS');
    for (const [name, old] of before) {
      expect(readFileSync(path.join(filesDir(), name)).equals(old)).toBe(true);
    }
    const audit = await database.db
      .selectFrom('audit_events')
      .select(['details', 'outcome'])
      .where('action', '=', 'keys.rotated')
      .where(sql<boolean>`details->>'kind' = 'files'`)
      .executeTakeFirstOrThrow();
    expect(audit.outcome).toBe('failure');
    expect(audit.details).toMatchObject({ fileObjectsUnreadable: 1, complete: false });
  });
});
