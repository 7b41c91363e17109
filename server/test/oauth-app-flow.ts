// An app (A12) going through the authorization code flow in a clinic test, played with
// app.inject and a cookie jar (browser-cookies.ts): registering the app as an administrator,
// sending a fresh browser to the authorization endpoint, the person's answer on the consent page,
// and the app's form POSTs to the protocol endpoints. Shared by the OAuth control rounds.
import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { Browser } from './browser-cookies.js';
import type { Actor, Clinic } from './clinical-actors.js';

export const APP_REDIRECT_URI = 'http://127.0.0.1:8765/callback';
export const OAUTH_CLIENTS = '/api/admin/oauth-clients';

export interface Registered {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** An authorization the app started: the browser holding its cookie, and the PKCE verifier. */
export interface Started {
  readonly browser: Browser;
  readonly uid: string;
  readonly verifier: string;
}

/** The `error` of an OAuth JSON answer (RFC 6749 §5.2), if it is one. */
export const oauthErrorOf = (response: LightMyRequestResponse): string | undefined =>
  response.json<{ error?: string }>().error;

export const basicOf = (registered: Registered): string =>
  `Basic ${Buffer.from(`${registered.clientId}:${registered.clientSecret}`).toString('base64')}`;

/**
 * The flow's steps for `clinic`, registering clients as the administrator `admin()` returns (a
 * getter: test files create their administrator in beforeAll). `state` tells the files apart.
 */
export function oauthAppFlow(clinic: Clinic, admin: () => Actor, state: string) {
  const issuer = (): string => clinic.app.identity!.issuer;

  async function register(body: Record<string, unknown>): Promise<Registered> {
    const response = await clinic.call(admin(), 'POST', OAUTH_CLIENTS, body);
    expect(response.statusCode, response.body).toBe(201);
    const answer = response.json<{ client: { clientId: string }; clientSecret: string }>();
    return { clientId: answer.client.clientId, clientSecret: answer.clientSecret };
  }

  const registerApp = () =>
    register({
      name: 'Patient companion',
      kind: 'app',
      scopes: ['portal:read'],
      redirectUris: [APP_REDIRECT_URI],
    });

  /** A form POST to a protocol endpoint, the client authenticating with Basic. */
  const protocol = (url: string, registered: Registered, form: Record<string, string>) =>
    clinic.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basicOf(registered),
      },
      payload: new URLSearchParams(form).toString(),
    });

  /** The app sends a fresh browser to Haven, which sends it on to the consent page. */
  async function startAuthorization(registered: Registered): Promise<Started> {
    const browser = new Browser();
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: registered.clientId,
      redirect_uri: APP_REDIRECT_URI,
      scope: 'portal:read',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state,
      resource: `${issuer()}/api`,
    });
    const started = await browser.get(clinic.app, `/oauth/authorize?${query.toString()}`);
    expect(started.statusCode, started.body).toBe(303);
    const match = /^\/connect\/([A-Za-z0-9_-]+)$/.exec(String(started.headers.location));
    expect(match, String(started.headers.location)).not.toBeNull();
    return { browser, uid: match![1]!, verifier };
  }

  /** The person answers on the consent page; the browser resumes and lands on the app. */
  async function decide(started: Started, person: Actor, allow: boolean): Promise<URL> {
    const decision = await clinic.call(
      person,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow },
    );
    expect(decision.statusCode, decision.body).toBe(200);
    const resumed = await started.browser
      .signIn(person)
      .get(clinic.app, decision.json<{ redirectTo: string }>().redirectTo);
    expect(resumed.statusCode, resumed.body).toBe(303);
    return new URL(String(resumed.headers.location));
  }

  /** The app exchanges the code it was sent back with. */
  const exchange = (registered: Registered, started: Started, callback: URL) =>
    protocol('/oauth/token', registered, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: APP_REDIRECT_URI,
      code_verifier: started.verifier,
    });

  const refresh = (registered: Registered, refreshToken: string) =>
    protocol('/oauth/token', registered, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });

  return { issuer, register, registerApp, protocol, startAuthorization, decide, exchange, refresh };
}
