// Browsers for the identity tests over HTTP: users with a real password (and an enrolled
// authenticator when a test needs one), the sign-in steps as the SPA walks them, cookie jars,
// the CSRF header, and links read from the dev mailbox as a user would read them. Unlike the
// actors (actors.ts), these go through the real password and MFA routes, cookies and all.
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { expect } from 'vitest';
import { createKeyRing } from '../src/platform/crypto.js';
import type { Role } from '../src/platform/db/schema.js';
import { listDevMailbox, type DevMailboxEntry } from '../src/platform/mail.js';
import { MINIMUM_HASHING, hashPassword, sealTotpSecret } from '../src/modules/identity/index.js';
import { useTestNodes, type TestApp, type TestNodes } from './app-harness.js';
import type { Engine } from '../src/platform/db/database.js';

/** The password every browser user signs in with unless a test says otherwise. */
export const PASSWORD = 'correct horse battery staple 42';
/** A second strong password, for changes and resets. */
export const NEW_PASSWORD = 'quiet lantern orbits the velvet harbor 93';

export type Jar = Record<string, string>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The cookies an answer sets, by name (the last value of a name wins, as in a browser). */
export const cookiesOf = (response: LightMyRequestResponse): Jar =>
  Object.fromEntries(response.cookies.map((c) => [c.name, c.value]));

/** A Cookie request header for the jar. */
export const cookieHeader = (jar: Jar): string =>
  Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');

/** A signed-in browser: its cookie jar and CSRF token, updated as answers set cookies. */
export interface Browser {
  jar: Jar;
  csrf: string;
}

/** The browser of an answer that signed someone in. */
export const browserOf = (signedIn: LightMyRequestResponse): Browser => ({
  jar: cookiesOf(signedIn),
  csrf: signedIn.json<{ csrfToken: string }>().csrfToken,
});

export interface PasswordUserOptions {
  displayName?: string;
  status?: 'active' | 'invited' | 'disabled';
  password?: string;
  /** An authenticator secret to enrol, sealed with the nodes' master key. */
  totpSecret?: string;
}

/** The nodes under test, and the browser's side of the identity routes on them. */
export interface BrowserNodes extends TestNodes {
  /** A user row with an argon2 hash of `PASSWORD` (or `password`); returns its id. */
  createUser(email: string, roles: Role[], options?: PasswordUserOptions): Promise<string>;
  /** A code of the secret that the server accepts now: forgets the last step it accepted. */
  totpCode(userId: string, secret: string): Promise<string>;
  /** POST with the site's Origin header and JSON body. */
  post(
    url: string,
    payload: object,
    headers?: Record<string, string>,
    node?: TestApp,
  ): Promise<LightMyRequestResponse>;
  /** The password step of sign-in: a session, or `mfa_required` and a pending cookie. */
  passwordStep(
    email: string,
    options?: { password?: string; node?: TestApp },
  ): Promise<LightMyRequestResponse>;
  /** The second step of sign-in with a code, carrying the pending cookie. */
  mfaStep(pending: Jar, code: string, node?: TestApp): Promise<LightMyRequestResponse>;
  /** Signs in (with the authenticator when `totp` is given) and expects it to succeed. */
  signIn(
    email: string,
    options?: { totp?: { userId: string; secret: string }; node?: TestApp },
  ): Promise<Browser>;
  /** A request from a signed-in browser: its cookies and CSRF token; keeps the cookies it sets. */
  call(
    browser: Browser,
    method: Method,
    url: string,
    payload?: object,
    node?: TestApp,
  ): Promise<LightMyRequestResponse>;
  /** Ages the user's MFA check past the step-up window, then refreshes the access token. */
  staleMfa(browser: Browser, userId: string): Promise<void>;
  /** Mail to the address; mail is sent after the answer, so this waits for it (or for none). */
  mailsTo(address: string, options?: { expectNone?: boolean }): Promise<DevMailboxEntry[]>;
  /** The token of the link in the newest mail to the address, once `count` mails arrived. */
  linkToken(address: string, options?: { page?: string; count?: number }): Promise<string>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `useTestNodes` with the browser helpers bound to it: every node on one database and one
 * master key, the first node answering unless a helper is given another.
 */
export function useBrowserNodes(
  engine: Engine,
  options: Parameters<typeof useTestNodes>[1] = {},
): BrowserNodes {
  const nodes = useTestNodes(engine, options);
  const db = () => nodes.database.db;
  const dataDir = () => nodes.node.config.dataDir;

  const site: Omit<BrowserNodes, keyof TestNodes> = {
    async createUser(email, roles, user = {}) {
      const row = await db()
        .insertInto('users')
        .values({
          email,
          email_normalized: email.toLowerCase(),
          display_name: user.displayName ?? 'Test User',
          roles,
          status: user.status ?? 'active',
          password_hash: await hashPassword(user.password ?? PASSWORD, MINIMUM_HASHING),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (user.totpSecret) {
        const ring = createKeyRing(Buffer.from(nodes.masterKey, 'base64'));
        await db()
          .updateTable('users')
          .set({
            totp_secret_enc: sealTotpSecret(ring, row.id, user.totpSecret),
            totp_enrolled_at: new Date(),
          })
          .where('id', '=', row.id)
          .execute();
      }
      return row.id;
    },

    async totpCode(userId, secret) {
      await db()
        .updateTable('users')
        .set({ totp_last_step: null })
        .where('id', '=', userId)
        .execute();
      return new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    },

    post(url, payload, headers = {}, node = nodes.node) {
      return node.app.inject({
        method: 'POST',
        url,
        headers: { origin: nodes.origin, ...headers },
        payload,
      });
    },

    passwordStep(email, step = {}) {
      return site.post(
        '/api/auth/session',
        { email, password: step.password ?? PASSWORD },
        {},
        step.node,
      );
    },

    mfaStep(pending, code, node) {
      return site.post('/api/auth/mfa', { code }, { cookie: cookieHeader(pending) }, node);
    },

    async signIn(email, signIn = {}) {
      const first = await site.passwordStep(email, { node: signIn.node });
      const signedIn = signIn.totp
        ? await site.mfaStep(
            cookiesOf(first),
            await site.totpCode(signIn.totp.userId, signIn.totp.secret),
            signIn.node,
          )
        : first;
      expect(signedIn.statusCode).toBe(200);
      return browserOf(signedIn);
    },

    async call(browser, method, url, payload, node = nodes.node) {
      const response = await node.app.inject({
        method,
        url,
        headers: {
          origin: nodes.origin,
          cookie: cookieHeader(browser.jar),
          'x-csrf-token': browser.csrf,
        },
        ...(payload ? { payload } : {}),
      });
      Object.assign(browser.jar, cookiesOf(response));
      return response;
    },

    async staleMfa(browser, userId) {
      await db()
        .updateTable('sessions')
        .set({ mfa_at: new Date(Date.now() - 10 * 60_000) })
        .where('user_id', '=', userId)
        .execute();
      expect((await site.call(browser, 'POST', '/api/auth/refresh', {})).statusCode).toBe(200);
    },

    async mailsTo(address, wait = {}) {
      const deadline = Date.now() + (wait.expectNone ? 300 : 3000);
      for (;;) {
        const found = (await listDevMailbox(dataDir())).filter((m) => m.to === address);
        if ((found.length > 0 && !wait.expectNone) || Date.now() > deadline) return found;
        await pause(25);
      }
    },

    async linkToken(address, link = {}) {
      const pattern = new RegExp(`/${link.page ?? '[a-z-]+'}#token=([A-Za-z0-9_-]+)`);
      for (let i = 0; i < 120; i++) {
        const mails = (await listDevMailbox(dataDir())).filter((m) => m.to === address);
        const token = mails.length >= (link.count ?? 1) && pattern.exec(mails[0]!.text)?.[1];
        if (token) return token;
        await pause(25);
      }
      throw new Error(`no ${link.page ?? ''} link mailed to ${address}`);
    },
  };
  // The nodes' getters stay on the prototype: they may be read only once the hooks ran.
  return Object.assign(Object.create(nodes) as TestNodes, site);
}
