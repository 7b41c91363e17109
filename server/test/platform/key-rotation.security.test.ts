// Data-encryption key rotation (S2): while HAVEN_MASTER_KEY_PREVIOUS holds the replaced master
// key everything sealed under it still opens; `haven keys rotate --data` re-seals every value
// under the new key, row by row, so that a run stopped midway loses nothing and a rerun
// finishes; afterwards the new key alone opens everything, and TOTP sign-in and bucket
// credentials keep working.
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { runKeysRotate } from '../../src/cli/keys-commands.js';
import { loadConfig, type HavenConfig } from '../../src/config.js';
import { rotateSigningKeys } from '../../src/modules/identity/index.js';
import { createKeyRing, keyRingOf, type KeyRing } from '../../src/platform/crypto.js';
import { SEALED_COLUMNS, sealContexts } from '../../src/platform/key-rotation.js';
import { createBucketStorages } from '../../src/platform/storage/configured.js';
import { createTestApp, testEnv } from '../app-harness.js';
import {
  createTestDatabase,
  describeEachEngine,
  itEmbedded,
  type TestDatabase,
} from '../databases.js';
import { PASSWORD, cookieHeader, cookiesOf, insertAccount } from '../proof/sign-in-kit.js';
import { startS3Server } from '../s3-server.js';
import { haven } from '../cli-process.js';
import { openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sealEverything } from '../audit-chain.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import { auditChainVerifier } from '../../src/platform/audit/configured.js';
import { deriveAuditChainKey } from '../../src/platform/audit/chain-key.js';

const s3 = await startS3Server('haven-rotation');
afterAll(() => s3.stop());

const newKey = () => randomBytes(32).toString('base64');

/** A configuration as loadConfig makes it from these keys (previous optional). */
function configWith(current: string, previous?: string): HavenConfig {
  return loadConfig(
    testEnv({
      HAVEN_MASTER_KEY: current,
      ...(previous === undefined ? {} : { HAVEN_MASTER_KEY_PREVIOUS: previous }),
      HAVEN_OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    }),
  );
}

const ringOf = (current: string, previous?: string) =>
  keyRingOf({
    masterKey: Buffer.from(current, 'base64'),
    previousMasterKey: previous === undefined ? undefined : Buffer.from(previous, 'base64'),
  });

interface Sealed {
  readonly table: string;
  readonly id: string;
  readonly sealed: string;
  readonly context: string;
}

/** Every sealed value in the database, as the rotation job sees them. */
async function sealedValues(database: TestDatabase): Promise<Sealed[]> {
  const all: Sealed[] = [];
  for (const column of SEALED_COLUMNS) {
    const rows = await database.db
      .selectFrom(column.table)
      .select((eb) => [
        eb.cast<string>(eb.ref(column.id as never), 'text').as('id'),
        eb.ref(column.sealed as never).as('sealed'),
      ])
      .orderBy('id')
      .execute();
    for (const row of rows as { id: string; sealed: string | null }[]) {
      if (row.sealed !== null) {
        all.push({
          table: column.table,
          ...row,
          sealed: row.sealed,
          context: column.context(row.id),
        });
      }
    }
  }
  return all;
}

const openAll = (values: readonly Sealed[], ring: KeyRing) =>
  values.map((v) => ring.open(v.sealed, v.context).toString('utf8'));

describeEachEngine('S2 data-key rotation', (engine) => {
  let database: TestDatabase;
  let oldKey: string;
  let currentKey: string;
  /** The plaintexts sealed under the old key, in sealedValues order. */
  let plain: string[];

  /** Sealed values of every kind under `key`: TOTP secrets, a signing key, bucket credentials. */
  async function seedUnder(key: string, users = 3): Promise<void> {
    const accounts = [];
    for (let i = 0; i < users; i += 1) {
      accounts.push(
        await insertAccount(database.db, {
          email: `person${i}@example.org`,
          roles: ['clinician'],
          totpMasterKey: key,
        }),
      );
    }
    await rotateSigningKeys(database.db, ringOf(key));
    const buckets = createBucketStorages(configWith(key));
    const owner = accounts[0]!.id;
    const id = '7d0f3c55-3c1e-4c59-9d7c-0d2c4bd0a001';
    const { sealed, keyId } = buckets.sealCredentials(id, s3.credentials);
    await database.db
      .insertInto('buckets')
      .values({
        id,
        owner_user_id: owner,
        endpoint: s3.endpoint,
        region: s3.region,
        bucket_name: s3.bucket,
        path_style: true,
        access_key_hint: s3.credentials.accessKeyId.slice(-4),
        credentials_sealed: sealed,
        credentials_key_id: keyId,
        sse_mode: 'none',
        created_by: owner,
        updated_by: owner,
      } as never)
      .execute();
    plain = openAll(await sealedValues(database), ringOf(key));
  }

  beforeEach(async () => {
    database = await createTestDatabase(engine);
    oldKey = newKey();
    currentKey = newKey();
  });
  afterEach(() => database.close());

  it('S2/previous key: values sealed under the old master key open while it is HAVEN_MASTER_KEY_PREVIOUS, and only then', async () => {
    await seedUnder(oldKey);
    const values = await sealedValues(database);
    expect(new Set(values.map((v) => v.table))).toEqual(
      new Set(['users', 'signing_keys', 'buckets']),
    );
    expect(openAll(values, keyRingOf(configWith(currentKey, oldKey)))).toEqual(plain);
    expect(() => openAll(values, keyRingOf(configWith(currentKey)))).toThrow(/key is unknown/);
    // New values are sealed under the current key only.
    const ring = keyRingOf(configWith(currentKey, oldKey));
    expect(ring.keyIdOf(ring.seal('x', 'c'))).toBe(ringOf(currentKey).currentKeyId);
  });

  it('S2/rotate --data: afterwards the new master key alone opens every sealed value; a rerun changes nothing', async () => {
    await seedUnder(oldKey);
    const config = configWith(currentKey, oldKey);
    const first = await runKeysRotate(config, { data: true, batchSize: 2 }, database.db);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('users: 3 re-sealed, 0 already current, 0 unreadable');
    expect(first.stdout).toContain('signing_keys: 1 re-sealed');
    expect(first.stdout).toContain('buckets: 1 re-sealed');

    const values = await sealedValues(database);
    const alone = keyRingOf(configWith(currentKey));
    expect(openAll(values, alone)).toEqual(plain);
    expect(values.every((v) => alone.keyIdOf(v.sealed) === alone.currentKeyId)).toBe(true);
    const bucket = await database.db
      .selectFrom('buckets')
      .select('credentials_key_id')
      .executeTakeFirstOrThrow();
    expect(bucket.credentials_key_id).toBe(alone.currentKeyId);

    const again = await runKeysRotate(config, { data: true }, database.db);
    expect(again.stdout).toContain('users: 0 re-sealed, 0 already current, 0 unreadable');
    expect(openAll(await sealedValues(database), alone)).toEqual(plain);

    // Each run records the database's counts, then the stored files' (kind 'files').
    const audited = (
      await database.db
        .selectFrom('audit_events')
        .select(['action', 'outcome', 'details'])
        .where('action', '=', 'keys.rotated')
        .orderBy('seq')
        .execute()
    ).filter((event) => (event.details as { kind?: string }).kind === 'data');
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({
      outcome: 'success',
      details: {
        kind: 'data',
        keyId: alone.currentKeyId,
        complete: true,
        usersResealed: 3,
        signingKeysResealed: 1,
        bucketsResealed: 1,
      },
    });
  });

  it('S2/crash midway: a run stopped after 2 rows loses nothing, and a rerun completes', async () => {
    await seedUnder(oldKey, 5);
    const config = configWith(currentKey, oldKey);
    let written = 0;
    const crash = new Error('simulated crash');
    await expect(
      runKeysRotate(config, { data: true, batchSize: 2 }, database.db, {
        afterRow: () => {
          written += 1;
          if (written === 2) throw crash;
        },
      }),
    ).rejects.toBe(crash);

    const halfway = await sealedValues(database);
    const current = ringOf(currentKey).currentKeyId;
    expect(halfway.filter((v) => v.sealed.startsWith(`v1.${current}.`))).toHaveLength(2);
    expect(openAll(halfway, keyRingOf(config))).toEqual(plain);

    const rerun = await runKeysRotate(config, { data: true }, database.db);
    expect(rerun.exitCode).toBe(0);
    expect(rerun.stdout).toContain('users: 3 re-sealed');
    expect(openAll(await sealedValues(database), keyRingOf(configWith(currentKey)))).toEqual(plain);
  });

  it('S2/unreadable: a value no configured key opens is left as it is and the run fails, audited', async () => {
    await seedUnder(oldKey, 1);
    const before = await sealedValues(database);
    const stranger = newKey();
    const outcome = await runKeysRotate(
      configWith(currentKey, stranger),
      { data: true },
      database.db,
    );
    expect(outcome.exitCode).toBe(1);
    expect(outcome.stderr).toContain('HAVEN_MASTER_KEY_PREVIOUS');
    expect(await sealedValues(database)).toEqual(before);
    const event = await database.db
      .selectFrom('audit_events')
      .select(['outcome', 'details'])
      .where('action', '=', 'keys.rotated')
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ outcome: 'failure', details: { usersUnreadable: 1 } });
  });

  it('S2/audit chain: seals made under the replaced master key verify while it is the previous key; without it they are reported, never passed', async () => {
    const event = (n: number) =>
      recordAudit(database.db, {
        actor: { type: 'system' },
        action: 'test.event',
        outcome: 'success',
        details: { n },
      });
    const keyOf = (key: string) => deriveAuditChainKey(Buffer.from(key, 'base64'));
    await event(1);
    await event(2);
    await sealEverything(database.db, { key: keyOf(oldKey) });
    await event(3);
    await sealEverything(database.db, { key: keyOf(currentKey) });

    const during = await auditChainVerifier(configWith(currentKey, oldKey))(database.db);
    expect(during).toMatchObject({ ok: true, checked: 3, keyed: 3 });
    const without = await auditChainVerifier(configWith(currentKey))(database.db);
    expect(without).toMatchObject({ ok: false, firstBadPosition: '1' });
    expect(without.ok ? '' : without.message).toMatch(/sealed with chain key/);
  });

  it('S2/after rotation: a TOTP sign-in (signed by the re-sealed signing key) and a bucket credential work with the new master key alone', async () => {
    const account = await insertAccount(database.db, {
      email: 'clinician@example.org',
      roles: ['clinician'],
      totpMasterKey: oldKey,
    });
    await seedUnder(oldKey, 1);
    const outcome = await runKeysRotate(
      configWith(currentKey, oldKey),
      { data: true },
      database.db,
    );
    expect(outcome.exitCode).toBe(0);

    const node = await createTestApp(engine, { database, env: { HAVEN_MASTER_KEY: currentKey } });
    try {
      const origin = node.config.publicOrigin;
      const first = await node.app.inject({
        method: 'POST',
        url: '/api/auth/session',
        headers: { origin },
        payload: { email: account.email, password: PASSWORD },
      });
      expect(first.json()).toEqual({ status: 'mfa_required' });
      const done = await node.app.inject({
        method: 'POST',
        url: '/api/auth/mfa',
        headers: { origin, cookie: cookieHeader(cookiesOf(first)) },
        payload: { code: account.rightCode() },
      });
      expect(done.statusCode).toBe(200);
      expect(Object.keys(cookiesOf(done))).toContain('__Host-haven_at');
    } finally {
      await node.close();
    }

    const row = await database.db
      .selectFrom('buckets')
      .select(['id', 'credentials_sealed'])
      .executeTakeFirstOrThrow();
    const storage = createBucketStorages(configWith(currentKey), {
      bucketEndpointTestCidrs: ['127.0.0.1/32'],
    }).connect(
      {
        endpoint: s3.endpoint,
        region: s3.region,
        bucketName: s3.bucket,
        pathStyle: true,
        serverSideEncryption: { mode: 'none' },
      } as never,
      { id: String(row.id), credentialsSealed: row.credentials_sealed },
    );
    await expect(storage.client.config.credentials()).resolves.toMatchObject(s3.credentials);
    await expect(storage.headBucket()).resolves.toBeUndefined();
  });
});

itEmbedded(
  'S2/CLI: `haven keys rotate --data` re-seals an embedded folder and reports counts; plain `keys rotate` adds a signing key, `--csrf` a CSRF key generation',
  async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'haven-rotate-'));
    try {
      const [oldKey, currentKey] = [newKey(), newKey()];
      const database = await openDatabase({ url: undefined, embeddedDir: path.join(folder, 'db') });
      try {
        await migrateToLatest(database.db);
        await insertAccount(database.db, {
          email: 'cli@example.org',
          roles: ['clinician'],
          totpMasterKey: oldKey,
        });
      } finally {
        await database.close();
      }
      const env = { HAVEN_DATA_DIR: folder, HAVEN_MASTER_KEY: currentKey };
      const data = await haven(['keys', 'rotate', '--data', '--batch-size', '10'], {
        ...env,
        HAVEN_MASTER_KEY_PREVIOUS: oldKey,
      });
      expect(data.stdout).toContain('users: 1 re-sealed, 0 already current, 0 unreadable');
      expect(data.stdout).toContain(
        'file_objects: 0 re-encrypted, 0 already current, 0 unreadable',
      );
      expect(data.stdout).toContain('verify only with the replaced key');
      expect(data.code).toBe(0);
      const signing = await haven(['keys', 'rotate'], env);
      expect(signing.stdout).toMatch(/^New signing key \S+ is current/);
      expect(signing.code).toBe(0);
      const csrf = await haven(['keys', 'rotate', '--csrf'], env);
      expect(csrf.stdout).toMatch(/^CSRF and refresh-cookie generation 1 is accepted now/);
      expect(csrf.code).toBe(0);
      const bad = await haven(['keys', 'rotate', '--data', '--batch-size', '0'], env);
      expect(bad.code).not.toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    // Four CLI processes, each compiling the CLI and opening the embedded folder: on a loaded
    // machine (the two CI test runs side by side) that took longer than the default 60 s.
  },
  300_000,
);

it('S2/contexts: the rotation job binds each value to the context its owner seals it under', () => {
  const ring = createKeyRing(randomBytes(32));
  const sealed = ring.seal('seed', sealContexts.totpSecret('u1'));
  expect(ring.open(sealed, 'totp:u1').toString()).toBe('seed');
});
