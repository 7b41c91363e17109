import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../../test/databases.js';
import { createKeyRing } from '../../../platform/crypto.js';
import { openDatabase } from '../../../platform/db/database.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import {
  consumeRecoveryCode,
  generateRecoveryCodes,
  replaceRecoveryCodes,
} from './recovery-codes.js';
import { consumeTotpStep, remainingRecoveryCodes } from './repo.js';
import {
  generateTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  totpQrSvg,
  totpUri,
  verifyTotp,
} from './totp.js';

// RFC 6238 appendix B: the SHA-1 seed is ASCII "12345678901234567890"; 6-digit codes are the
// last six digits of the published 8-digit ones.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: Array<[number, string]> = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
  [20000000000, '353130'],
];

/** An independent RFC 4226 implementation, so the tests do not trust the library under test. */
function base32Decode(s: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
}
function codeAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const NOW = 1_700_000_000_000;
const STEP = Math.floor(NOW / 30_000);

describe('A9 TOTP', () => {
  const secret = generateTotpSecret();

  it('A9: codes follow RFC 6238 (SHA-1, 6 digits, 30 s)', () => {
    for (const [seconds, code] of RFC_VECTORS) {
      const result = verifyTotp({ secret: RFC_SECRET, code, lastStep: null, now: seconds * 1000 });
      expect(result).toEqual({ ok: true, step: BigInt(Math.floor(seconds / 30)) });
    }
  });

  it('A9: seeds are fresh 160-bit base32 values', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it('A9: a valid code at now is accepted', () => {
    const result = verifyTotp({ secret, code: codeAt(secret, STEP), lastStep: null, now: NOW });
    expect(result).toEqual({ ok: true, step: BigInt(STEP) });
  });

  it('A9: clock drift of one step either way is tolerated, two steps is refused', () => {
    for (const delta of [-1, 1]) {
      const code = codeAt(secret, STEP + delta);
      expect(verifyTotp({ secret, code, lastStep: null, now: NOW })).toEqual({
        ok: true,
        step: BigInt(STEP + delta),
      });
    }
    for (const delta of [-2, 2]) {
      const code = codeAt(secret, STEP + delta);
      expect(verifyTotp({ secret, code, lastStep: null, now: NOW })).toEqual({ ok: false });
    }
  });

  it('A9: replay of an already-used step (or an older one) is refused', () => {
    const code = codeAt(secret, STEP);
    const used = BigInt(STEP);
    expect(verifyTotp({ secret, code, lastStep: used, now: NOW })).toEqual({ ok: false });
    expect(verifyTotp({ secret, code, lastStep: used + 1n, now: NOW })).toEqual({ ok: false });
    expect(verifyTotp({ secret, code, lastStep: used - 1n, now: NOW }).ok).toBe(true);
    // The next step's code still works after this one was used.
    const next = codeAt(secret, STEP + 1);
    expect(verifyTotp({ secret, code: next, lastStep: used, now: NOW }).ok).toBe(true);
  });

  it('A9: malformed codes are refused without guessing', () => {
    const code = codeAt(secret, STEP);
    for (const bad of ['', '12345', '1234567', `${code} `, ` ${code}`, 'abcdef', `${code}0`]) {
      expect(verifyTotp({ secret, code: bad, lastStep: null, now: NOW })).toEqual({ ok: false });
    }
  });

  it('A9: the enrolment URI names Haven and the RFC 6238 parameters', () => {
    const uri = new URL(totpUri({ secret, accountName: 'dr@example.org', issuer: 'Haven' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Haven');
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });

  it('A9: the QR code is an SVG rendered locally, not fetched from a QR service', async () => {
    const uri = totpUri({ secret, accountName: 'dr@example.org', issuer: 'Haven' });
    const svg = await totpQrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toContain('https://');
    // The only URL is the SVG namespace; the seed is in the modules, not in readable text.
    expect(svg.replaceAll('http://www.w3.org/2000/svg', '')).not.toMatch(/https?:|href|<image/i);
    expect(svg).not.toContain(secret);
  });

  it('A9: the seed is sealed and bound to its user', () => {
    const ring = createKeyRing(randomBytes(32));
    const sealed = sealTotpSecret(ring, 'user-a', secret);
    expect(sealed).not.toContain(secret);
    expect(openTotpSecret(ring, 'user-a', sealed)).toBe(secret);
    expect(() => openTotpSecret(ring, 'user-b', sealed)).toThrow();
  });

  it('A9: recovery codes are ten distinct 50-bit codes from an unambiguous alphabet', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
  });
});

async function createUser(db: Kysely<DatabaseSchema>, email: string): Promise<string> {
  const row = await db
    .insertInto('users')
    .values({
      email,
      email_normalized: email.toLowerCase(),
      display_name: 'Test Clinician',
      status: 'active',
      roles: ['clinician'],
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

describeEachEngine('A9 MFA storage', (engine) => {
  let database: TestDatabase;
  let db: Kysely<DatabaseSchema>;
  let userId: string;
  beforeEach(async () => {
    database = await createTestDatabase(engine);
    db = database.db;
    userId = await createUser(db, 'dr.a@example.org');
  });
  afterEach(async () => {
    await database.close();
  });

  it('A9: a consumed TOTP step cannot be consumed again (replay across requests)', async () => {
    const step = BigInt(STEP);
    expect(await consumeTotpStep(db, userId, step)).toBe(true);
    expect(await consumeTotpStep(db, userId, step)).toBe(false);
    expect(await consumeTotpStep(db, userId, step - 1n)).toBe(false);
    expect(await consumeTotpStep(db, userId, step + 1n)).toBe(true);
    const row = await db.selectFrom('users').select('totp_last_step').executeTakeFirstOrThrow();
    expect(String(row.totp_last_step)).toBe(String(step + 1n));
  });

  it('A9: concurrent attempts with the same code: exactly one wins', async () => {
    for (let i = 0; i < 10; i++) {
      const step = BigInt(STEP + i);
      const results = await Promise.all([1, 2, 3, 4].map(() => consumeTotpStep(db, userId, step)));
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  // Two nodes need two connections: PostgreSQL only (PGlite has one); reported as skipped there.
  it.runIf(engine === 'postgres')(
    'A9 (PostgreSQL): two nodes racing to accept the same code: exactly one wins',
    async () => {
      const other = await openDatabase({ url: database.url, embeddedDir: undefined, poolSize: 4 });
      try {
        for (let i = 0; i < 20; i++) {
          const step = BigInt(STEP + i);
          const results = await Promise.all(
            [db, other.db, db, other.db].map((handle) => consumeTotpStep(handle, userId, step)),
          );
          expect(results.filter(Boolean)).toHaveLength(1);
        }
      } finally {
        await other.close();
      }
    },
  );

  it('A9: the TOTP seed at rest is sealed, not the base32 secret', async () => {
    const ring = createKeyRing(randomBytes(32));
    const secret = generateTotpSecret();
    await db
      .updateTable('users')
      .set({ totp_secret_enc: sealTotpSecret(ring, userId, secret), totp_enrolled_at: new Date() })
      .where('id', '=', userId)
      .execute();
    const row = await db
      .selectFrom('users')
      .select('totp_secret_enc')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(row.totp_secret_enc).not.toContain(secret);
    expect(openTotpSecret(ring, userId, row.totp_secret_enc!)).toBe(secret);
    const otherUser = await createUser(db, 'dr.b@example.org');
    expect(() => openTotpSecret(ring, otherUser, row.totp_secret_enc!)).toThrow();
  });

  it('A9: a recovery code works exactly once', async () => {
    const codes = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, codes);
    expect(await remainingRecoveryCodes(db, userId)).toBe(10);
    expect(await consumeRecoveryCode(db, userId, codes[0]!)).toBe(true);
    expect(await consumeRecoveryCode(db, userId, codes[0]!)).toBe(false);
    expect(await remainingRecoveryCodes(db, userId)).toBe(9);
    expect(await consumeRecoveryCode(db, userId, codes[1]!)).toBe(true);
    expect(await remainingRecoveryCodes(db, userId)).toBe(8);
  });

  it('A9: concurrent use of one recovery code: exactly one wins', async () => {
    const codes = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, codes);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => consumeRecoveryCode(db, userId, codes[2]!)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('A9: recovery codes are stored as hashes, never in plaintext', async () => {
    const codes = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, codes);
    const rows = await db.selectFrom('recovery_codes').selectAll().execute();
    expect(rows).toHaveLength(10);
    const dump = JSON.stringify(rows);
    for (const code of codes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace('-', ''));
    }
    for (const row of rows) expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('A9: a recovery code only works for its own user', async () => {
    const other = await createUser(db, 'dr.b@example.org');
    const codes = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, codes);
    expect(await consumeRecoveryCode(db, other, codes[0]!)).toBe(false);
    expect(await consumeRecoveryCode(db, userId, codes[0]!)).toBe(true);
  });

  it('A9: regenerating recovery codes invalidates the old ones', async () => {
    const old = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, old);
    const fresh = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, fresh);
    for (const code of old) expect(await consumeRecoveryCode(db, userId, code)).toBe(false);
    expect(await remainingRecoveryCodes(db, userId)).toBe(10);
    expect(await consumeRecoveryCode(db, userId, fresh[0]!)).toBe(true);
  });

  it('A9: recovery codes are typed forgivingly (case, spaces, dashes) and malformed ones fail', async () => {
    await replaceRecoveryCodes(db, userId, ['ABCDE-FGHIJ']);
    expect(await consumeRecoveryCode(db, userId, 'abcde fghij')).toBe(true);
    const [code] = generateRecoveryCodes();
    await replaceRecoveryCodes(db, userId, [code!]);
    expect(
      await consumeRecoveryCode(db, userId, ` ${code!.toUpperCase().replace('-', ' ')} `),
    ).toBe(true);
    for (const bad of ['', 'abcde', 'x'.repeat(1000), "' OR 1=1 --"]) {
      expect(await consumeRecoveryCode(db, userId, bad)).toBe(false);
    }
  });
});
