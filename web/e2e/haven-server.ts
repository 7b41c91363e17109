// A real Haven server for the identity browser tests, started like server/test/browser-server.ts
// but also handing the tests the app (for seeding users with Kysely) and the data folder (for
// the dev mailbox). It listens on a fixed free port so the public origin (CSRF/Origin checks,
// links in mail) matches what the browser sends.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { buildApp, type BuildOptions } from '../../server/src/app.js';
import { loadConfig } from '../../server/src/config.js';
import type { Role } from '../../server/src/platform/db/schema.js';
import { createKeyRing } from '../../server/src/platform/crypto.js';
import { listDevMailbox, type DevMailboxEntry } from '../../server/src/platform/mail.js';
import {
  MINIMUM_HASHING,
  generateTotpSecret,
  hashPassword,
  sealTotpSecret,
} from '../../server/src/modules/identity/index.js';
import { testEnv } from '../../server/test/app-harness.js';

const WEB_DIST = fileURLToPath(new URL('../dist', import.meta.url));

/** Generous limits: one test file signs in many times from 127.0.0.1. */
const RELAXED_RATES = {
  HAVEN_RATE_AUTH: '1000/60',
  HAVEN_RATE_SENSITIVE: '1000/60',
  HAVEN_RATE_PUBLIC: '5000/60',
  HAVEN_RATE_WRITE: '5000/60',
  HAVEN_RATE_READ: '5000/60',
};

export interface HavenServer {
  baseUrl: string;
  app: FastifyInstance;
  dataDir: string;
  /**
   * Shifts the clock of the step-up check (A9: MFA within 5 minutes) so a test can make a
   * fresh session look stale. Reset to 0 by the next POST /api/auth/step-up.
   */
  stepUpClock: { offsetMs: number };
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** What a suite may add to buildApp's options (test-only widenings such as bucket endpoints). */
export type ServerOptions = Pick<BuildOptions, 'bucketEndpointTestCidrs'>;

export async function startHavenServer(
  env: Record<string, string> = {},
  options: ServerOptions = {},
): Promise<HavenServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-identity-e2e-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig(
    testEnv({
      HAVEN_DATA_DIR: dataDir,
      HAVEN_WEB_DIR: WEB_DIST,
      PORT: String(port),
      HAVEN_PUBLIC_URL: baseUrl,
      HAVEN_COOKIE_SECURE: 'true',
      ...RELAXED_RATES,
      ...env,
    }),
  );
  const stepUpClock = { offsetMs: 0 };
  const app = await buildApp(config, {
    ...options,
    now: () => Date.now() + stepUpClock.offsetMs,
  });
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.url === '/api/auth/step-up') stepUpClock.offsetMs = 0;
  });
  await app.listen({ host: '127.0.0.1', port });
  return {
    baseUrl,
    app,
    dataDir,
    stepUpClock,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface SeededUser {
  id: string;
  email: string;
  password: string;
  /** The authenticator, when the user was enrolled. */
  totp: TotpDevice | null;
}

/** Inserts an active user straight into the database (password hashed, TOTP sealed). */
export async function seedUser(
  server: HavenServer,
  options: {
    email: string;
    password: string;
    roles: Role[];
    displayName?: string;
    withTotp?: boolean;
  },
): Promise<SeededUser> {
  const { db } = server.app.database;
  const row = await db
    .insertInto('users')
    .values({
      email: options.email,
      email_normalized: options.email.trim().toLowerCase(),
      display_name: options.displayName ?? 'Seeded User',
      roles: options.roles,
      status: 'active',
      password_hash: await hashPassword(options.password, MINIMUM_HASHING),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  let totp: TotpDevice | null = null;
  if (options.withTotp) {
    const totpSecret = generateTotpSecret();
    totp = { secret: totpSecret, lastStep: 0 };
    const ring = createKeyRing(server.app.config.masterKey);
    await db
      .updateTable('users')
      .set({
        totp_secret_enc: sealTotpSecret(ring, row.id, totpSecret),
        totp_enrolled_at: new Date(),
      })
      .where('id', '=', row.id)
      .execute();
  }
  return { id: row.id, email: options.email, password: options.password, totp };
}

/** A TOTP seed and the last 30-second step a code was used for (codes are single-use). */
export interface TotpDevice {
  secret: string;
  lastStep: number;
}

const PERIOD_MS = 30_000;

/**
 * The next code the server will accept for `device`: a step later than the last one used,
 * at most one step ahead of now (the server accepts ±1); waits for the clock when needed.
 */
export async function nextTotpCode(device: TotpDevice): Promise<string> {
  for (;;) {
    const current = Math.floor(Date.now() / PERIOD_MS);
    const step = Math.max(current, device.lastStep + 1);
    if (step <= current + 1) {
      device.lastStep = step;
      const totp = new TOTP({
        secret: Secret.fromBase32(device.secret.replace(/\s+/g, '')),
        digits: 6,
        period: 30,
      });
      return totp.generate({ timestamp: step * PERIOD_MS });
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Waits for a mail to `to` whose subject matches, newest first. */
export async function waitForMail(
  server: HavenServer,
  to: string,
  subject: RegExp,
  timeoutMs = 10_000,
): Promise<DevMailboxEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mail = (await listDevMailbox(server.dataDir)).find(
      (m) => m.to === to && subject.test(m.subject),
    );
    if (mail) return mail;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${String(subject)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The one-time token of the first `#token=` link in a mail. */
export function tokenFromMail(mail: DevMailboxEntry): string {
  const match = /#token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no #token= link in mail "${mail.subject}"`);
  return match[1];
}
