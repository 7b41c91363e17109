// A12 (issue 12): a third-party app reaches Haven on a user's behalf through the authorization
// code flow with PKCE. openid-client 6 is the real peer (discovery, PKCE S256, the code and
// refresh grants); Chromium is the user, who signs in through Haven's own sign-in and TOTP pages,
// consents on the SPA's /connect page and disconnects the app on the account page. A tiny HTTP
// server on 127.0.0.1 is the app's redirect target. Every page opened is checked after each test
// for CSP violations, page errors and JavaScript dialogs (suite.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callAs,
  createActor,
  createOrganization,
  createPatientRow,
  type Actor,
} from '../../server/test/actors.js';
import { expectAccessibleAtBothWidths } from './accessibility.js';
import { nextTotpCode, seedUser, type SeededUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'harbour lantern quietly ninety 7';
const APP_NAME = 'Pocket Health Diary';

const suite = useBrowserSuite();
const { open, goto, expectPath, uniqueEmail } = suite;

/** The app's redirect target: answers every request with a plain page and keeps its address. */
interface AppCallback {
  readonly redirectUri: string;
  readonly received: URL[];
  close(): Promise<void>;
}

async function startAppCallback(): Promise<AppCallback> {
  const received: URL[] = [];
  const server: Server = createServer((request, response) => {
    const { port } = server.address() as AddressInfo;
    received.push(new URL(request.url ?? '/', `http://127.0.0.1:${port}`));
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>App</title><h1>Back in the app</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One authorization request of the app: its PKCE verifier, state and the address to open. */
interface AuthorizationRequest {
  readonly url: URL;
  readonly pkceCodeVerifier: string;
  readonly state: string;
}

describe('A12 third-party app sign-in (authorization code + PKCE)', () => {
  let callback: AppCallback;
  let admin: Actor;
  let config: client.Configuration;
  let clinician: SeededUser;

  const origin = () => suite.server().baseUrl;
  const resource = () => `${origin()}/api`;

  beforeAll(async () => {
    callback = await startAppCallback();
    const { app } = suite.server();
    admin = await createActor(app, ['admin']);
    // The administrator registers the app through the API, under step-up (a fresh MFA session).
    const created = await callAs(app, admin, 'POST', '/api/admin/oauth-clients', {
      name: APP_NAME,
      kind: 'app',
      scopes: ['portal:read'],
      redirectUris: [callback.redirectUri],
    });
    expect(created.statusCode, created.body).toBe(201);
    const { client: registered, clientSecret } = created.json<{
      client: { clientId: string };
      clientSecret: string;
    }>();
    config = await client.discovery(
      new URL(origin()),
      registered.clientId,
      clientSecret,
      undefined,
      { execute: [client.allowInsecureRequests] },
    );

    clinician = await seedUser(suite.server(), {
      email: uniqueEmail('clinician'),
      password: PASSWORD,
      roles: ['clinician'],
      displayName: 'Cleo Clinician',
      withTotp: true,
    });
  });

  afterAll(async () => {
    await callback?.close();
  });

  /** A patient with an authenticator and a record in a clinic (GET /api/portal/record). */
  async function seedPatient(): Promise<SeededUser> {
    const patient = await seedUser(suite.server(), {
      email: uniqueEmail('patient'),
      password: PASSWORD,
      roles: ['patient'],
      displayName: 'Pia Patient',
      withTotp: true,
    });
    const { db } = suite.server().app.database;
    const organizationId = await createOrganization(db, { name: `Harbour Clinic ${Date.now()}` });
    await createPatientRow(db, organizationId, {
      givenName: 'Pia',
      familyName: 'Patient',
      portalUserId: patient.id,
    });
    return patient;
  }

  async function authorizationRequest(): Promise<AuthorizationRequest> {
    const pkceCodeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: callback.redirectUri,
      scope: 'portal:read',
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      state,
      resource: resource(),
    });
    return { url, pkceCodeVerifier, state };
  }

  /**
   * Opens the app's authorization URL in a fresh browser: Haven sends the signed-out user to its
   * sign-in page, then (password, TOTP) back to the consent page. Answers the interaction id.
   */
  async function signInThroughApp(request: AuthorizationRequest, user: SeededUser) {
    const { page } = await open(request.url.href);
    await expectPath(page, '/sign-in');
    const next = new URL(page.url()).searchParams.get('next') ?? '';
    expect(next).toMatch(/^\/connect\/[A-Za-z0-9_-]{10,64}$/);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    if (user.totp) {
      await page.getByLabel('Authentication code').fill(await nextTotpCode(user.totp));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await expectPath(page, next);
    await page
      .getByRole('heading', { level: 1, name: `${APP_NAME} wants to access your Haven account` })
      .waitFor();
    return { page, connectPath: next };
  }

  /** Waits for the browser to arrive at the app's callback; answers the address it arrived at. */
  async function arrivedAtApp(page: Page): Promise<URL> {
    await page.waitForURL((url) => url.href.startsWith(callback.redirectUri), { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Back in the app' }).waitFor();
    const arrived = new URL(page.url());
    expect(callback.received.map((u) => u.href)).toContain(arrived.href);
    return arrived;
  }

  /** The app's call to the patient's record with an access token. */
  const readRecord = (accessToken: string) =>
    fetch(`${origin()}/api/portal/record`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    });

  it('A12: a patient signs in with TOTP, allows the app, which reads the record, refreshes, and stops working once disconnected', async () => {
    const request = await authorizationRequest();
    const { page, connectPath } = await signInThroughApp(request, await seedPatient());

    // The consent page names the app, where it answers, and what it asks for, in words.
    const main = page.getByRole('main');
    await main.getByText(new URL(callback.redirectUri).origin, { exact: true }).waitFor();
    await main.getByRole('heading', { level: 2, name: 'What the app asks for' }).waitFor();
    expect(await main.getByRole('listitem').count()).toBe(1);
    expect(await main.getByText('Not granted').count()).toBe(0);
    expect(await main.textContent()).not.toContain('portal:read');
    await expectAccessibleAtBothWidths(page, 'consent page');

    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    const arrived = await arrivedAtApp(page);
    expect(arrived.searchParams.get('state')).toBe(request.state);
    expect(arrived.searchParams.get('code')).toBeTruthy();

    const tokens = await client.authorizationCodeGrant(config, arrived, {
      pkceCodeVerifier: request.pkceCodeVerifier,
      expectedState: request.state,
    });
    expect(tokens.scope).toBe('portal:read');
    const first = await readRecord(tokens.access_token);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(await first.text()).toContain('Pia');

    // Refresh rotation: a new access token and a new refresh token, and the new token works.
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await readRecord(refreshed.access_token)).status).toBe(200);

    // The consent request was used: opening it again says so in a sentence.
    await goto(page, connectPath);
    await page
      .getByText(
        'This sign-in request has expired or was already used. Go back to the app and start again.',
      )
      .waitFor();

    // The account page lists the app with its permission and date; disconnecting revokes it.
    await goto(page, '/account');
    const section = page.getByRole('region', { name: 'Connected apps' });
    await section.getByText(APP_NAME, { exact: true }).waitFor();
    await section.getByText('Connected', { exact: true }).waitFor();
    await expectAccessibleAtBothWidths(page, 'account page with a connected app');
    await section.getByRole('button', { name: `Disconnect ${APP_NAME}` }).click();
    await section.getByRole('button', { name: 'Yes, disconnect' }).click();
    await section
      .getByText(`${APP_NAME} was disconnected and can no longer use your account.`)
      .waitFor();
    await section.getByText('No apps are connected to your account.').waitFor();

    // Revocation takes effect at once: every token of the grant is refused.
    expect((await readRecord(refreshed.access_token)).status).toBe(401);
    expect((await readRecord(tokens.access_token)).status).toBe(401);
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toThrow();
  });

  it('A12: a patient who denies sends the app access_denied and no code; no app is connected', async () => {
    const request = await authorizationRequest();
    const { page } = await signInThroughApp(request, await seedPatient());
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    const arrived = await arrivedAtApp(page);
    expect(arrived.searchParams.get('error')).toBe('access_denied');
    expect(arrived.searchParams.get('state')).toBe(request.state);
    expect(arrived.searchParams.has('code')).toBe(false);

    await goto(page, '/account');
    const section = page.getByRole('region', { name: 'Connected apps' });
    await section.getByText('No apps are connected to your account.').waitFor();
  });

  it('A12/Z3: a clinician, whose account has no portal access, sees the permission marked not granted and only a way back', async () => {
    const request = await authorizationRequest();
    const { page } = await signInThroughApp(request, clinician);
    const main = page.getByRole('main');
    await main.getByText('Not granted', { exact: true }).waitFor();
    await main
      .getByText('Your account does not have this permission, so the app will not get it.')
      .waitFor();
    await main.getByText(/Your account has none of the permissions/).waitFor();
    expect(await main.getByRole('button', { name: 'Allow' }).count()).toBe(0);
    expect(await main.getByRole('button', { name: 'Deny' }).count()).toBe(0);
    await expectAccessibleAtBothWidths(page, 'consent page with nothing grantable');

    await main.getByRole('button', { name: 'Return to the app' }).click();
    const arrived = await arrivedAtApp(page);
    expect(arrived.searchParams.get('error')).toBe('access_denied');
    expect(arrived.searchParams.has('code')).toBe(false);
  });

  it('A12/open redirect: a decision answer that points off Haven is refused; the browser stays on the consent page', async () => {
    const request = await authorizationRequest();
    const { page, connectPath } = await signInThroughApp(request, await seedPatient());
    // A tampered answer (a proxy, a compromised route): only Haven's own origin may follow.
    await page.route('**/decision', (route) =>
      route.fulfill({ json: { redirectTo: 'https://evil.example/callback?code=stolen' } }),
    );
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page
      .getByRole('alert')
      .getByText(/Something went wrong/)
      .waitFor();
    expect(new URL(page.url()).pathname).toBe(connectPath);
    expect(new URL(page.url()).origin).toBe(origin());
    expect(callback.received.some((u) => u.searchParams.get('state') === request.state)).toBe(
      false,
    );
  });

  it('A12/open redirect: the sign-in return path stays on Haven (//host, /\\host and schemes go home)', async () => {
    // No authenticator: three sign-ins in a row would otherwise wait for three TOTP steps.
    const user = await seedUser(suite.server(), {
      email: uniqueEmail('portal-user'),
      password: PASSWORD,
      roles: ['patient'],
    });
    for (const next of ['//evil.example/x', '/\\evil.example/x', 'https://evil.example/x']) {
      const { page } = await open(`/sign-in?next=${encodeURIComponent(next)}`);
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password', { exact: true }).fill(user.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expectPath(page, '/');
      await page.getByText('Welcome,').waitFor();
      expect(new URL(page.url()).origin, next).toBe(origin());
    }
  });
});
