// A12 (issue 12, phase 2): third-party apps acting for a person — authorization code with PKCE
// (S256 only), consent in Haven's own API, rotating refresh tokens with reuse detection, the
// person's connected apps with disconnect — driven by openid-client 6 as the real peer, on two
// nodes sharing one database. The browser's part (sign-in, consent page) is played with
// app.inject carrying the provider's cookies; web/e2e/oauth-connect.test.ts plays it in Chromium.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { Type } from 'typebox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GENEROUS_RATE_LIMITS,
  callAs,
  createActor,
  createOrganization,
  createPatientRow,
  createUser,
  mintSession,
  type Actor,
} from '../../../test/actors.js';
import { useTestNodes } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import { askUntil } from '../../../test/eventually.js';
import { Browser } from '../../../test/browser-cookies.js';
import { pausableClock } from '../../../test/pausable-clock.js';
import { OWN_RECORD, requireAccess, type PatientTarget } from '../../platform/access/index.js';
import { ACCESS_COOKIE } from '../identity/index.js';
import { requireScopes } from '../../platform/http/route-contract.js';

const REDIRECT_URI = 'http://127.0.0.1:8765/callback';

const ACCESS_PROBE = '/test/oauth-app-access';
const Id = Type.String({ maxLength: 36 });

/**
 * Asks requireAccess, as the caller, for a patient permission on the caller's own record or on
 * a record by id, behind the scope an app may hold: no route of Haven's lets an app's token ask
 * anything but a read of the person's own record, so only a probe shows that requireAccess
 * itself refuses it everything else.
 */
function registerAccessProbe(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    ACCESS_PROBE,
    {
      config: {
        access: requireScopes(['portal:read'], { serves: ['delegated-app'] }),
        rateClass: 'read',
      },
      schema: {
        body: Type.Object(
          {
            permission: Type.Union([Type.Literal('patient:read'), Type.Literal('patient:write')]),
            patientId: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ patientId: Id }, { additionalProperties: false }) },
      },
    },
    async (request) => {
      const { permission, patientId } = request.body;
      const target: PatientTarget = patientId === undefined ? OWN_RECORD : { patientId };
      const access = await requireAccess(app.database.db, request, permission, target);
      return { patientId: access.patientId };
    },
  );
}

interface App {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** An authorization request for portal:read with a fresh S256 challenge, to `redirectUri`. */
async function authorizationUrl(config: client.Configuration, redirectUri: string): Promise<URL> {
  return client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'portal:read',
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
}

/** The OAuth error code of a refused request. */
async function oauthErrorOf(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof client.ResponseBodyError) return error.error;
    if (error instanceof client.AuthorizationResponseError) return error.error;
    throw error;
  }
  throw new Error('the request was not refused');
}

describeEachEngine('A12 OAuth apps acting for a person', (engine) => {
  // The nodes' clock stands still while a test checks that a change holds at once on the node
  // that made it (pausable-clock.ts); it runs again after every test, whatever the outcome.
  const clock = pausableClock();
  afterEach(() => clock.resume());
  const nodes = useTestNodes(engine, {
    env: GENEROUS_RATE_LIMITS,
    nodes: [{}, {}],
    build: { modules: [registerAccessProbe], now: clock.now },
  });
  const listening: FastifyInstance[] = [];
  let ports: number[] = [];
  let admin: Actor;
  let organizationId: string;

  beforeAll(async () => {
    for (const node of nodes.nodes) {
      await node.app.listen({ host: '127.0.0.1', port: 0 });
      listening.push(node.app);
    }
    ports = nodes.nodes.map((node) => (node.app.server.address() as AddressInfo).port);
    admin = await createActor(nodes.node.app, ['admin']);
    organizationId = await createOrganization(nodes.node.app.database.db, { name: 'Clinic' });
  });
  afterAll(() => {
    listening.splice(0);
  });

  const app = (node = 0): FastifyInstance => nodes.nodes[node]!.app;
  const issuer = (): string => nodes.origin;

  /** The status an app's `token` gets for the person's own record on `node`. */
  const recordStatusOn = async (node: number, token: string): Promise<number> =>
    (await callAs(app(node), bearer(token), 'GET', '/api/portal/record')).statusCode;

  /** A patient with a record linked to their account, signed in. */
  async function portalPatient(): Promise<{ actor: Actor; patientId: string }> {
    const db = app().database.db;
    const user = await createUser(db, { roles: ['patient'] });
    const patientId = await createPatientRow(db, organizationId, { portalUserId: user.userId });
    return { actor: await mintSession(app(), { ...user, roles: ['patient'] }), patientId };
  }

  async function registerApp(
    body: Record<string, unknown> = {},
  ): Promise<App & { response: LightMyRequestResponse }> {
    const response = await callAs(app(), admin, 'POST', '/api/admin/oauth-clients', {
      name: 'Patient companion',
      kind: 'app',
      scopes: ['portal:read'],
      redirectUris: [REDIRECT_URI],
      ...body,
    });
    const answer = response.json<{ client?: { clientId: string }; clientSecret?: string }>();
    return {
      response,
      clientId: answer.client?.clientId ?? '',
      clientSecret: answer.clientSecret ?? '',
    };
  }

  async function peer(registered: App, node = 0): Promise<client.Configuration> {
    return client.discovery(
      new URL(issuer()),
      registered.clientId,
      undefined,
      client.ClientSecretBasic(registered.clientSecret),
      {
        execute: [client.allowInsecureRequests],
        [client.customFetch]: (url, init) => {
          const target = new URL(url);
          return fetch(`http://127.0.0.1:${ports[node]}${target.pathname}${target.search}`, {
            ...init,
            body: init.body as BodyInit,
          });
        },
      },
    );
  }

  interface Started {
    readonly browser: Browser;
    readonly uid: string;
    readonly verifier: string;
    readonly state: string;
    readonly config: client.Configuration;
  }

  /** The app sends the browser to Haven; Haven sends it on to the consent page. */
  async function startAuthorization(
    registered: App,
    extra: Record<string, string> = {},
  ): Promise<Started> {
    return startAuthorizationWith(await peer(registered), extra);
  }

  async function startAuthorizationWith(
    config: client.Configuration,
    extra: Record<string, string> = {},
    browser = new Browser(),
  ): Promise<Started> {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'portal:read',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: `${issuer()}/api`,
      ...extra,
    });
    const started = await browser.get(app(), url.href);
    expect(started.statusCode).toBe(303);
    const match = /^\/connect\/([A-Za-z0-9_-]+)$/.exec(String(started.headers.location));
    expect(match, String(started.headers.location)).not.toBeNull();
    return { browser, uid: match![1]!, verifier, state, config };
  }

  /** The person answers on the consent page; the browser follows to the app's redirect URI. */
  async function decideAndReturn(
    started: Started,
    person: Actor,
    allow: boolean,
    node = 0,
  ): Promise<URL> {
    const decision = await callAs(
      app(node),
      person,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow },
    );
    expect(decision.statusCode, decision.body).toBe(200);
    const { redirectTo } = decision.json<{ redirectTo: string }>();
    expect(new URL(redirectTo).origin).toBe(new URL(issuer()).origin);
    // The resume step, in the browser that started it and is signed in as the person who
    // answered, goes straight back to the app.
    const response = await started.browser.signIn(person).get(app(node), redirectTo);
    expect(response.statusCode).toBe(303);
    return new URL(String(response.headers.location));
  }

  /** `person` allows the request on its consent page: the resume URL the answer names. */
  async function answerConsent(started: Started, person: Actor): Promise<string> {
    const decision = await callAs(
      app(),
      person,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow: true },
    );
    expect(decision.statusCode, decision.body).toBe(200);
    return decision.json<{ redirectTo: string }>().redirectTo;
  }

  /** The whole flow for `person`: tokens for the app. */
  /**
   * An app connected by a portal patient, and a reader of the patient's record with its access
   * token on either node, already seen to answer 200 on both.
   */
  async function connectedReader() {
    const registered = await registerApp();
    const { actor: patient } = await portalPatient();
    const { tokens, started } = await connect(registered, patient);
    const readOn = (node: number) => recordStatusOn(node, tokens.access_token);
    expect(await readOn(0)).toBe(200);
    expect(await readOn(1)).toBe(200);
    return { registered, patient, tokens, started, readOn };
  }

  /** The status `readOn(node)` answers once it is `expected`, or after a second if it never is. */
  const statusWithinASecond = async (
    readOn: (node: number) => Promise<number>,
    node: number,
    expected: number,
  ): Promise<number> =>
    (
      await askUntil(
        () => readOn(node),
        (status) => status === expected,
        1000,
      )
    ).answer;

  async function connect(registered: App, person: Actor) {
    const started = await startAuthorization(registered);
    const callback = await decideAndReturn(started, person, true);
    const tokens = await client.authorizationCodeGrant(started.config, callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
    });
    return { tokens, started, callback };
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('A12/authorization code + PKCE: a patient connects an app, which reads the patient’s own record and nothing else', async () => {
    const registered = await registerApp();
    const { actor: patient, patientId } = await portalPatient();
    const started = await startAuthorization(registered);

    const view = await callAs(app(1), patient, 'GET', `/api/oauth/interactions/${started.uid}`);
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({
      interaction: {
        client: { clientId: registered.clientId, name: 'Patient companion' },
        redirectOrigin: 'http://127.0.0.1:8765',
        scopes: [{ scope: 'portal:read', label: 'Read your health record', held: true }],
        grantable: true,
      },
    });

    const callback = await decideAndReturn(started, patient, true);
    const tokens = await client.authorizationCodeGrant(started.config, callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
    });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      sub: patient.userId,
      client_id: registered.clientId,
      scope: 'portal:read',
    });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // Its own record, on either node.
    const record = await callAs(app(1), bearer(tokens.access_token), 'GET', '/api/portal/record');
    expect(record.statusCode, record.body).toBe(200);
    expect(record.json<{ record: { patient: { id: string } } }>().record.patient.id).toBe(
      patientId,
    );
    // Nothing a person's own session is needed for: not the account, not consenting for others.
    for (const [method, url, body] of [
      ['GET', '/api/auth/me', undefined],
      ['GET', '/api/account/connected-apps', undefined],
      ['POST', '/api/portal/consents', { documentId: '00000000-0000-4000-8000-000000000000' }],
    ] as const) {
      const refused = await callAs(app(), bearer(tokens.access_token), method, url, body);
      expect(refused.statusCode, `${method} ${url}`).toBe(403);
    }
    const step = await callAs(
      app(),
      bearer(tokens.access_token),
      'POST',
      '/api/oauth/interactions/aaaaaaaaaaaaaaaaaaaaa/decision',
      { allow: true },
    );
    expect(step.statusCode).toBe(403);
    // requireAccess itself lets the app read the person's own record and nothing more: not a
    // write of it, and not the same record named by id.
    const own = await callAs(app(), bearer(tokens.access_token), 'POST', ACCESS_PROBE, {
      permission: 'patient:read',
    });
    expect(own.statusCode, own.body).toBe(200);
    for (const body of [
      { permission: 'patient:write' },
      { permission: 'patient:read', patientId },
      { permission: 'patient:write', patientId },
    ]) {
      const beyond = await callAs(app(), bearer(tokens.access_token), 'POST', ACCESS_PROBE, body);
      expect(beyond.statusCode, JSON.stringify(body)).toBe(403);
    }
    // The person's own session may do all of it (the probe is not what refuses the app).
    const self = await callAs(app(), patient, 'POST', ACCESS_PROBE, {
      permission: 'patient:write',
      patientId,
    });
    expect(self.statusCode, self.body).toBe(200);

    // The provider's own browser session never consents for the person: the same browser
    // asking again is sent to the consent page again, not straight back to the app with a code.
    const again = await startAuthorizationWith(started.config, {}, started.browser);
    expect(again.uid).not.toBe(started.uid);

    // The record's audit trail names the app that read it.
    const events = await app()
      .database.db.selectFrom('audit_events')
      .select(['actor_type', 'actor_id', 'details'])
      .where('action', '=', 'patient.read')
      .where('target_id', '=', patientId)
      .execute();
    expect(events.at(-1)).toMatchObject({
      actor_type: 'user',
      actor_id: patient.userId,
      details: expect.objectContaining({ oauthClient: registered.clientId }),
    });
  });

  it('A12/refresh reuse: a refresh token is replaced on use, and a replaced one coming back ends the grant and its access tokens', async () => {
    const registered = await registerApp();
    const { actor: patient } = await portalPatient();
    const { tokens, started } = await connect(registered, patient);
    const first = tokens.refresh_token!;

    const second = await client.refreshTokenGrant(started.config, first);
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(second.refresh_token).not.toBe(first);
    // The clock stands still until node 0 has refused, so its allowing answers cannot age out
    // on their own first.
    clock.pause();
    for (const node of [0, 1]) expect(await recordStatusOn(node, second.access_token)).toBe(200);

    // A thief replays the first refresh token: refused, and the whole grant dies with it.
    expect(await oauthErrorOf(client.refreshTokenGrant(started.config, first))).toBe(
      'invalid_grant',
    );
    expect(
      await oauthErrorOf(client.refreshTokenGrant(started.config, second.refresh_token!)),
    ).toBe('invalid_grant');
    // Node 0 ended the grant (its token endpoint saw the reuse): refused there at once; node 1
    // had let the second token through too, and refuses both within a second.
    const accessTokens = [tokens.access_token, second.access_token];
    for (const token of accessTokens) expect(await recordStatusOn(0, token)).toBe(401);
    clock.resume();
    for (const token of accessTokens) {
      const elsewhere = await askUntil(
        () => recordStatusOn(1, token),
        (status) => status === 401,
        1000,
      );
      expect(elsewhere.answer).toBe(401);
    }
  });

  it('A12/disconnect: the account page lists the app by name, and disconnecting stops its tokens at once on this node and within a second on every other', async () => {
    const registered = await registerApp({ name: 'Sleep diary' });
    const { actor: patient } = await portalPatient();
    const { tokens, started } = await connect(registered, patient);

    const listed = await callAs(app(1), patient, 'GET', '/api/account/connected-apps');
    expect(listed.statusCode).toBe(200);
    const apps = listed.json<{
      apps: Array<{ grantId: string; client: { name: string }; scopes: Array<{ label: string }> }>;
    }>().apps;
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({
      client: { name: 'Sleep diary' },
      scopes: [{ label: 'Read your health record' }],
    });
    // Another person can neither see nor end it.
    const { actor: stranger } = await portalPatient();
    const theirs = await callAs(app(), stranger, 'GET', '/api/account/connected-apps');
    expect(theirs.json<{ apps: unknown[] }>().apps).toEqual([]);
    const foreign = await callAs(
      app(),
      stranger,
      'POST',
      `/api/account/connected-apps/${apps[0]!.grantId}/revoke`,
      {},
    );
    expect(foreign.statusCode).toBe(404);
    // The clock stands still until the disconnecting node has refused (see the reuse test).
    clock.pause();
    for (const node of [0, 1]) expect(await recordStatusOn(node, tokens.access_token)).toBe(200);

    const revoked = await callAs(
      app(),
      patient,
      'POST',
      `/api/account/connected-apps/${apps[0]!.grantId}/revoke`,
      {},
    );
    expect(revoked.statusCode).toBe(200);
    // Both nodes had let the token through: the node that disconnected refuses it at once, the
    // other within a second.
    const here = await callAs(app(0), bearer(tokens.access_token), 'GET', '/api/portal/record');
    expect(here.statusCode).toBe(401);
    clock.resume();
    const elsewhere = await askUntil(
      async () =>
        (await callAs(app(1), bearer(tokens.access_token), 'GET', '/api/portal/record')).statusCode,
      (status) => status === 401,
      1000,
    );
    expect(elsewhere.answer).toBe(401);
    expect(
      await oauthErrorOf(client.refreshTokenGrant(started.config, tokens.refresh_token!)),
    ).toBe('invalid_grant');
    const after = await callAs(app(), patient, 'GET', '/api/account/connected-apps');
    expect(after.json<{ apps: unknown[] }>().apps).toEqual([]);
  });

  it('A12/PKCE downgrade: a `plain` challenge and a missing challenge never reach the consent page', async () => {
    const registered = await registerApp();
    const config = await peer(registered);
    const base = {
      redirect_uri: REDIRECT_URI,
      scope: 'portal:read',
      state: 'xyz',
      resource: `${issuer()}/api`,
    };
    const downgrades: Array<Record<string, string>> = [
      { code_challenge: client.randomPKCECodeVerifier(), code_challenge_method: 'plain' },
      {},
    ];
    for (const pkce of downgrades) {
      const url = client.buildAuthorizationUrl(config, { ...base, ...pkce });
      const answer = await new Browser().get(app(), url.href);
      const location = String(answer.headers.location ?? '');
      expect(location.startsWith('/connect/')).toBe(false);
      expect(location.startsWith(REDIRECT_URI)).toBe(true);
      expect(new URL(location).searchParams.get('error')).toBe('invalid_request');
    }
  });

  it('A12/open redirect: a redirect URI not registered exactly gets Haven’s error page, never a redirect', async () => {
    const registered = await registerApp();
    const config = await peer(registered);
    for (const redirect of [
      'https://attacker.example/callback',
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?next=https://attacker.example`,
    ]) {
      const url = await authorizationUrl(config, redirect);
      const answer = await new Browser().get(app(), url.href);
      expect(answer.statusCode).toBe(400);
      expect(answer.headers.location).toBeUndefined();
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.body).toContain('Haven could not continue this sign-in');
      expect(answer.body).not.toContain('<script');
    }
  });

  it('A12/loopback name stored earlier: an app registered with http://localhost before the rule tightened is never sent there', async () => {
    // Registration refuses http://localhost now (RFC 8252 §8.3); an app stored before that keeps
    // the address in its row, and the provider must not honour it.
    const legacyUri = 'http://localhost:8765/callback';
    const registered = await registerApp({ redirectUris: [REDIRECT_URI] });
    await app()
      .database.db.updateTable('oauth_clients')
      .set({ redirect_uris: [legacyUri, REDIRECT_URI] })
      .where('client_id', '=', registered.clientId)
      .execute();
    const config = await peer(registered);
    const refused = await new Browser().get(
      app(),
      (await authorizationUrl(config, legacyUri)).href,
    );
    expect(refused.statusCode).toBe(400);
    expect(refused.headers.location).toBeUndefined();
    expect(refused.body).toContain('Haven could not continue this sign-in');
    // Its other, valid address still works: the request goes on to Haven's consent step.
    const allowed = await new Browser().get(
      app(),
      (await authorizationUrl(config, REDIRECT_URI)).href,
    );
    expect(allowed.statusCode).toBe(303);
    expect(allowed.headers.location).not.toContain('localhost');
  });

  it('A12/implicit downgrade: response_type=token is refused and no token is ever in a redirect', async () => {
    const registered = await registerApp();
    const answer = await new Browser().get(
      app(),
      `/oauth/authorize?response_type=token&client_id=${registered.clientId}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&scope=portal%3Aread`,
    );
    const location = String(answer.headers.location ?? '');
    expect(location).not.toMatch(/access_token/);
    expect(location.startsWith('/connect/')).toBe(false);
    // The error goes back in the fragment, as a response_type=token client expects it.
    const url = new URL(location);
    expect(`${url.origin}${url.pathname}`).toBe(REDIRECT_URI);
    expect(new URLSearchParams(url.hash.slice(1)).get('error')).toBe('unsupported_response_type');
  });

  it('A12/forwarded consent: a consent made for a request started in another browser gives that browser nothing', async () => {
    const registered = await registerApp();
    const { actor: patient } = await portalPatient();
    // An attacker starts an authorization in their own browser and lures the patient to the
    // consent page; the patient allows. The resume step needs the starting browser's cookie.
    const started = await startAuthorization(registered);
    const redirectTo = await answerConsent(started, patient);
    // Another browser, even one signed in as the patient, lacks the provider's resume cookie.
    const stranger = new Browser().signIn(patient);
    const resumed = await stranger.get(app(), redirectTo);
    expect(String(resumed.headers.location ?? '')).not.toContain('code=');
    expect(resumed.statusCode).toBe(400);
    // A second decision on the same request is refused: a request is decided once.
    const again = await callAs(
      app(),
      patient,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow: true },
    );
    expect(again.statusCode).toBe(404);
  });

  it('A12/consent phishing: the browser that started a request collects no code for a consent another person gave', async () => {
    const registered = await registerApp();
    const { actor: victim } = await portalPatient();
    const { actor: attacker } = await portalPatient();
    // The attacker starts a real app's request in their own browser and sends the victim the
    // consent link; the victim, signed in to Haven, allows.
    const started = await startAuthorization(registered);
    const redirectTo = await answerConsent(started, victim);
    // The attacker's browser holds the provider's resume cookie, but not the victim's session:
    // neither signed out nor signed in as themselves does it get a code, on either node.
    for (const node of [0, 1]) {
      if (node === 1) started.browser.signIn(attacker);
      const resumed = await started.browser.get(app(node), redirectTo);
      expect(resumed.statusCode, resumed.body).toBe(403);
      expect(resumed.headers.location).toBeUndefined();
      expect(resumed.body).toContain('answered on the consent page by another account');
    }
    // The same browser signed in as the person who answered finishes it (the refusals spent
    // nothing): what is refused is the person, not the request.
    const finished = await started.browser.signIn(victim).get(app(), redirectTo);
    expect(finished.statusCode).toBe(303);
    expect(new URL(String(finished.headers.location)).searchParams.get('code')).toBeTruthy();
  });

  it("A12/consent phishing by an app: a token an app holds for the person, planted as the browser's cookie, is not the person's session", async () => {
    // The attacker's app is connected by the victim: it holds a token acting for them.
    const { patient: victim, tokens } = await connectedReader();
    const started = await startAuthorization(await registerApp());
    const redirectTo = await answerConsent(started, victim);
    started.browser.set(ACCESS_COOKIE, tokens.access_token);
    const resumed = await started.browser.get(app(), redirectTo);
    expect(resumed.statusCode, resumed.body).toBe(403);
    expect(String(resumed.headers.location ?? '')).not.toContain('code=');
    // Nor is the person's own session token sent in a header: the browser's session is its
    // cookie.
    const headed = await started.browser.get(app(), redirectTo, {
      authorization: victim.authorization,
    });
    expect(headed.statusCode, headed.body).toBe(403);
  });

  it("A12/consent swap: a person's browser is not handed an app connection another person consented to", async () => {
    const registered = await registerApp();
    const { actor: person } = await portalPatient();
    const { actor: other } = await portalPatient();
    // The request starts in the person's own browser; someone else answers its consent link.
    const started = await startAuthorization(registered);
    started.browser.signIn(person);
    const resumed = await started.browser.get(app(), await answerConsent(started, other));
    expect(resumed.statusCode).toBe(403);
    expect(String(resumed.headers.location ?? '')).not.toContain('code=');
  });

  it('A12/Z2 intersection: a person cannot grant an app what their own account does not hold', async () => {
    const registered = await registerApp();
    const clinician = await createActor(app(), ['clinician']);
    const started = await startAuthorization(registered);
    const view = await callAs(app(), clinician, 'GET', `/api/oauth/interactions/${started.uid}`);
    expect(view.json()).toMatchObject({
      interaction: { scopes: [{ scope: 'portal:read', held: false }], grantable: false },
    });
    const allow = await callAs(
      app(),
      clinician,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow: true },
    );
    expect(allow.statusCode).toBe(403);
    // Declining still works, and tells the app so.
    const callback = await decideAndReturn(started, clinician, false);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('A12/Z2 role removed: an app loses what the person no longer holds within a second on every node', async () => {
    const { patient, readOn } = await connectedReader();
    // Any writer, an operator's bare UPDATE included: no node is told, each asks again in time.
    await app()
      .database.db.updateTable('users')
      .set({ roles: ['participant'] })
      .where('id', '=', patient.userId)
      .execute();
    for (const node of [0, 1]) {
      expect(await statusWithinASecond(readOn, node, 403)).toBe(403);
    }
  });

  it('A12/code replay: an authorization code works once; a second exchange is refused and ends the grant', async () => {
    const registered = await registerApp();
    const { actor: patient } = await portalPatient();
    const started = await startAuthorization(registered);
    const callback = await decideAndReturn(started, patient, true);
    const checks = { pkceCodeVerifier: started.verifier, expectedState: started.state };
    const tokens = await client.authorizationCodeGrant(started.config, callback, checks);
    expect(
      await oauthErrorOf(client.authorizationCodeGrant(started.config, callback, checks)),
    ).toBe('invalid_grant');
    const dead = await callAs(app(), bearer(tokens.access_token), 'GET', '/api/portal/record');
    expect(dead.statusCode).toBe(401);
  });

  it('A12/PKCE: a stolen code without its verifier is worthless', async () => {
    const registered = await registerApp();
    const { actor: patient } = await portalPatient();
    const started = await startAuthorization(registered);
    const callback = await decideAndReturn(started, patient, true);
    expect(
      await oauthErrorOf(
        client.authorizationCodeGrant(started.config, callback, {
          pkceCodeVerifier: client.randomPKCECodeVerifier(),
          expectedState: started.state,
        }),
      ),
    ).toBe('invalid_grant');
  });

  it('A12/disabled app: a disabled app’s person tokens stop at once on this node, within a second on every other, and it cannot start again', async () => {
    const { registered, readOn } = await connectedReader();
    const disabled = await callAs(
      app(),
      admin,
      'POST',
      `/api/admin/oauth-clients/${registered.clientId}/disable`,
      {},
    );
    expect(disabled.statusCode).toBe(200);
    expect(await readOn(0)).toBe(401);
    expect(await statusWithinASecond(readOn, 1, 401)).toBe(401);
    const config = await peer({ ...registered });
    const url = await authorizationUrl(config, REDIRECT_URI);
    const answer = await new Browser().get(app(), url.href);
    expect(answer.statusCode).toBe(400);
    expect(answer.headers.location).toBeUndefined();
  });

  it('A12/grant types by kind: an app cannot use client_credentials, so it never holds a token without a person', async () => {
    const registered = await registerApp();
    expect(registered.response.statusCode).toBe(201);
    const basic = Buffer.from(
      `${encodeURIComponent(registered.clientId)}:${encodeURIComponent(registered.clientSecret)}`,
    ).toString('base64');
    const answer = await fetch(`http://127.0.0.1:${ports[0]}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${issuer()}/api` }),
    });
    const body = (await answer.json()) as Record<string, unknown>;
    expect(body.access_token).toBeUndefined();
    expect(answer.status).toBe(400);
    expect(body).toMatchObject({
      error: 'invalid_request',
      error_description: 'requested grant type is not allowed for this client',
    });
  });

  it('A12/revoked app token: an app’s access token it revoked (RFC 7009) stops at once on this node, within a second on every other', async () => {
    const { tokens, started, readOn } = await connectedReader();
    await client.tokenRevocation(started.config, tokens.access_token);
    expect(await readOn(0)).toBe(401);
    expect(await statusWithinASecond(readOn, 1, 401)).toBe(401);
  });

  it('A12/disabled account: an app’s tokens for a person whose account is disabled stop within a second on every node', async () => {
    const { patient, readOn } = await connectedReader();
    // Any writer, an operator's bare UPDATE included: each node asks the database again in time.
    await app()
      .database.db.updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', patient.userId)
      .execute();
    for (const node of [0, 1]) {
      expect(await statusWithinASecond(readOn, node, 401)).toBe(401);
    }
  });

  it('A7/A12 disabled then enabled: an administrator disabling the person ends the app’s grant for good; enabling the account again revives nothing', async () => {
    const { patient, started, tokens, readOn } = await connectedReader();
    clock.pause();
    const disabled = await callAs(
      app(),
      admin,
      'POST',
      `/api/admin/users/${patient.userId}/disable`,
      {},
    );
    expect(disabled.statusCode, disabled.body).toBe(200);
    // The grant is gone on the node that disabled the account, from the next request on.
    expect(await readOn(0)).toBe(401);
    clock.resume();
    const enabled = await callAs(
      app(),
      admin,
      'POST',
      `/api/admin/users/${patient.userId}/enable`,
      {},
    );
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(
      await oauthErrorOf(client.refreshTokenGrant(started.config, tokens.refresh_token!)),
    ).toBe('invalid_grant');
    for (const node of [0, 1]) expect(await statusWithinASecond(readOn, node, 401)).toBe(401);
    const listed = await app()
      .database.db.selectFrom('oauth_payloads')
      .select('id')
      .where('account_id', '=', patient.userId)
      .execute();
    expect(listed).toEqual([]);
  });

  it('A7/A12 password changed: the apps acting for the person end with their other sessions', async () => {
    const { patient, started, tokens, readOn } = await connectedReader();
    const password = 'correct horse battery staple 42';
    await app()
      .database.db.updateTable('users')
      .set({ password_hash: await app().identity!.services.hashing.hash(password) })
      .where('id', '=', patient.userId)
      .execute();
    clock.pause();
    const changed = await callAs(app(), patient, 'POST', '/api/account/password', {
      currentPassword: password,
      newPassword: 'a quite different passphrase 77',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(await readOn(0)).toBe(401);
    clock.resume();
    expect(
      await oauthErrorOf(client.refreshTokenGrant(started.config, tokens.refresh_token!)),
    ).toBe('invalid_grant');
    expect(await statusWithinASecond(readOn, 1, 401)).toBe(401);
    // The person's own session that changed the password goes on.
    expect((await callAs(app(), patient, 'GET', '/api/auth/me')).statusCode).toBe(200);
  });

  it('A12/disabled app mid-consent: an app disabled while its consent page is open gets neither the page nor a grant', async () => {
    const registered = await registerApp();
    const { actor: patient } = await portalPatient();
    const started = await startAuthorization(registered);
    const before = await callAs(app(), patient, 'GET', `/api/oauth/interactions/${started.uid}`);
    expect(before.statusCode).toBe(200);
    const disabled = await callAs(
      app(),
      admin,
      'POST',
      `/api/admin/oauth-clients/${registered.clientId}/disable`,
      {},
    );
    expect(disabled.statusCode).toBe(200);
    const view = await callAs(app(), patient, 'GET', `/api/oauth/interactions/${started.uid}`);
    expect(view.statusCode).toBe(404);
    const allow = await callAs(
      app(),
      patient,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow: true },
    );
    expect(allow.statusCode).toBe(404);
    const grants = await app()
      .database.db.selectFrom('oauth_payloads')
      .select('id')
      .where('model', '=', 'Grant')
      .where('account_id', '=', patient.userId)
      .execute();
    expect(grants).toEqual([]);
  });

  it('A12/T5 CORS per client: a browser may call the token endpoint only for a public app, from that app’s own origin', async () => {
    const spaOrigin = 'https://companion.example';
    const spa = await registerApp({
      publicClient: true,
      redirectUris: [`${spaOrigin}/callback`, REDIRECT_URI],
    });
    expect(spa.response.statusCode).toBe(201);
    const confidential = await registerApp({ redirectUris: ['https://portal.clinic.example/cb'] });
    const preflight = (origin: string, headers = 'content-type', method = 'POST') =>
      app().inject({
        method: 'OPTIONS',
        url: '/oauth/token',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': headers,
        },
      });
    const ok = await preflight(spaOrigin);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(spaOrigin);
    expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
    for (const refused of [
      await preflight('https://attacker.example'),
      // A confidential app's origin: its secret must never be in a browser.
      await preflight('https://portal.clinic.example'),
      await preflight(spaOrigin, 'content-type, authorization'),
      await preflight(spaOrigin, 'content-type', 'PUT'),
    ]) {
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    }

    // The token request itself: the public app from its origin gets an answer it may read.
    const { actor: patient } = await portalPatient();
    const config = await client.discovery(
      new URL(issuer()),
      spa.clientId,
      undefined,
      client.None(),
      {
        execute: [client.allowInsecureRequests],
        [client.customFetch]: (url, init) => {
          const target = new URL(url);
          const headers = new Headers(init.headers);
          if (init.method === 'POST') headers.set('origin', spaOrigin);
          return fetch(`http://127.0.0.1:${ports[0]}${target.pathname}${target.search}`, {
            ...init,
            headers,
            body: init.body as BodyInit,
          });
        },
      },
    );
    const started = await startAuthorizationWith(config);
    const callback = await decideAndReturn(started, patient, true);
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      code_verifier: started.verifier,
      client_id: spa.clientId,
    });
    const tokenRequest = (origin: string, clientId = spa.clientId) =>
      fetch(`http://127.0.0.1:${ports[0]}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({ ...Object.fromEntries(form), client_id: clientId }),
      });
    // From another origin the code is not even looked at.
    const foreign = await tokenRequest('https://attacker.example');
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const answer = await tokenRequest(spaOrigin);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(spaOrigin);
    expect(((await answer.json()) as { refresh_token?: string }).refresh_token).toEqual(
      expect.any(String),
    );
    // A confidential app's token request from a browser origin is refused outright.
    const fromBrowser = await fetch(`http://127.0.0.1:${ports[0]}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://portal.clinic.example',
        authorization: `Basic ${Buffer.from(`${confidential.clientId}:${confidential.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
    });
    expect(fromBrowser.status).toBe(400);
    expect(fromBrowser.headers.get('access-control-allow-origin')).toBeNull();
  });

  describe('registration', () => {
    it('A12/Z5 app registration: scopes, redirect URIs and secrets follow the kind', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ scopes: ['audit:read'] }, 'scopes'],
        [{ redirectUris: ['http://clinic.example/callback'] }, 'redirectUris/0'],
        [{ redirectUris: ['http://localhost:8765/callback'] }, 'redirectUris/0'],
        [{ redirectUris: ['https://clinic.example/callback#x'] }, 'redirectUris/0'],
        [{ redirectUris: ['https://user:pw@clinic.example/callback'] }, 'redirectUris/0'],
        [{ kind: 'machine', scopes: ['portal:read'], redirectUris: undefined }, 'scopes'],
        [
          { publicClient: true, kind: 'machine', scopes: ['audit:read'], redirectUris: undefined },
          'publicClient',
        ],
        [{ kind: 'machine', scopes: ['audit:read'] }, 'redirectUris'],
      ];
      for (const [body, field] of cases) {
        const { response } = await registerApp(body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
        expect(
          response.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field),
        ).toContain(field);
      }
      const native = await registerApp({ publicClient: true });
      expect(native.response.statusCode).toBe(201);
      expect(native.response.json()).toMatchObject({
        clientSecret: null,
        client: { kind: 'app', publicClient: true, redirectUris: [REDIRECT_URI] },
      });
    });

    it('A12/Z2 rescoping: a client keeps to its kind’s scopes after registration too', async () => {
      const appClient = await registerApp();
      const machine = await registerApp({
        kind: 'machine',
        scopes: ['audit:read'],
        redirectUris: undefined,
      });
      for (const [clientId, scopes, kept] of [
        [appClient.clientId, ['audit:read'], ['portal:read']],
        [machine.clientId, ['portal:read'], ['audit:read']],
      ] as const) {
        const changed = await callAs(
          app(),
          admin,
          'PUT',
          `/api/admin/oauth-clients/${clientId}/scopes`,
          { scopes },
        );
        expect(changed.statusCode, clientId).toBe(400);
        expect(
          changed.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field),
        ).toEqual(['scopes']);
        const row = await app()
          .database.db.selectFrom('oauth_clients')
          .select('scopes')
          .where('client_id', '=', clientId)
          .executeTakeFirstOrThrow();
        expect(row.scopes).toEqual(kept);
      }
    });
  });
});
