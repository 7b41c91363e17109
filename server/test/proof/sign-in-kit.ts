// Accounts that sign in through the real routes (a password hash, optionally an enrolled
// authenticator), and the cookie plumbing of the two-step sign-in.
import type { LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { Secret, TOTP } from 'otpauth';
import { createKeyRing } from '../../src/platform/crypto.js';
import type { DatabaseSchema, Role } from '../../src/platform/db/schema.js';
import {
  MINIMUM_HASHING,
  generateTotpSecret,
  hashPassword,
  sealTotpSecret,
} from '../../src/modules/identity/index.js';

export const PASSWORD = 'correct horse battery staple 42';

export interface Account {
  readonly id: string;
  readonly email: string;
  /** A code the server accepts now (TOTP accounts only). */
  rightCode(): string;
  /** A code outside the ±1 step window the server accepts now. */
  wrongCode(): string;
}

/** An account row with a password hash (MINIMUM_HASHING unless given) and optionally TOTP. */
export async function insertAccount(
  db: Kysely<DatabaseSchema>,
  options: {
    email: string;
    roles: Role[];
    displayName?: string;
    status?: 'active' | 'disabled' | 'invited';
    passwordHash?: string;
    /** The master key of the app, to seal an enrolled authenticator's secret. */
    totpMasterKey?: string;
  },
): Promise<Account> {
  const row = await db
    .insertInto('users')
    .values({
      email: options.email,
      email_normalized: options.email.toLowerCase(),
      display_name: options.displayName ?? 'Test Person',
      roles: options.roles,
      status: options.status ?? 'active',
      password_hash: options.passwordHash ?? (await hashPassword(PASSWORD, MINIMUM_HASHING)),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (!options.totpMasterKey) {
    const none = () => {
      throw new Error('this account has no authenticator');
    };
    return { id: row.id, email: options.email, rightCode: none, wrongCode: none };
  }
  const secret = generateTotpSecret();
  const ring = createKeyRing(Buffer.from(options.totpMasterKey, 'base64'));
  await db
    .updateTable('users')
    .set({ totp_secret_enc: sealTotpSecret(ring, row.id, secret), totp_enrolled_at: new Date() })
    .where('id', '=', row.id)
    .execute();
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  return {
    id: row.id,
    email: options.email,
    rightCode: () => totp.generate(),
    wrongCode: () => {
      const now = Date.now();
      const valid = new Set([-30_000, 0, 30_000].map((d) => totp.generate({ timestamp: now + d })));
      let guess = 0;
      while (valid.has(String(guess).padStart(6, '0'))) guess++;
      return String(guess).padStart(6, '0');
    },
  };
}

export type Jar = Record<string, string>;

export const cookiesOf = (response: LightMyRequestResponse): Jar =>
  Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));

export const cookieHeader = (jar: Jar): string =>
  Object.entries(jar)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
