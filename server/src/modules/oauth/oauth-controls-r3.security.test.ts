// A12 controls of the OAuth module whose removal no test noticed (round 3): each decision a
// person makes about an app, and each disconnect, is in the audit trail (L3); a person whose
// account is disabled gets their apps no new token, by code or by refresh; an app's tokens stop
// when the person's grant to it has expired; a revoked token stays refused after the cleanup job,
// until it expires; the endpoints the discovery document names are the issuer's, whatever Host
// or X-Forwarded-Host a request carries; the protocol endpoints and client registration have
// small body limits of their own (T4), and registering clients counts in the sensitive rate
// class (R1). The browser's part of the authorization code flow is played with app.inject and a
// cookie jar (test/browser-cookies.ts), as in oauth-apps.security.test.ts.
import { decodeJwt } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { askUntil } from '../../../test/eventually.js';
import { Browser } from '../../../test/browser-cookies.js';
import {
  OAUTH_CLIENTS as CLIENTS,
  basicOf,
  oauthAppFlow,
  oauthErrorOf,
} from '../../../test/oauth-app-flow.js';
import { DELEGATION_GRANT_CLAIM } from '../../platform/auth/jwt-authenticator.js';
import { purgeExpiredOAuthRecords } from './index.js';

describeClinic('A12 OAuth controls (round 3)', (clinic) => {
  let admin: Actor;
  let organizationId: string;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    organizationId = await clinic.organization({ name: 'Clinic' });
  });

  const { issuer, register, registerApp, protocol, startAuthorization, decide, exchange, refresh } =
    oauthAppFlow(clinic, () => admin, 'state-r3');

  interface Tokens {
    readonly access_token: string;
    readonly refresh_token: string;
  }

  /** A portal patient who connects a new app: its tokens, already seen to read the record. */
  async function connected() {
    const registered = await registerApp();
    const { patient } = await clinic.portalPatient(organizationId);
    const started = await startAuthorization(registered);
    const answer = await exchange(registered, started, await decide(started, patient, true));
    expect(answer.statusCode, answer.body).toBe(200);
    const tokens = answer.json<Tokens>();
    const readRecord = async () =>
      (
        await clinic.call(
          { authorization: `Bearer ${tokens.access_token}` },
          'GET',
          '/api/portal/record',
        )
      ).statusCode;
    expect(await readRecord()).toBe(200);
    return { registered, patient, tokens, readRecord };
  }

  it('A12/L3 consent audited: allowing, declining and disconnecting an app are each an audit event naming the person and the app', async () => {
    const { registered, patient, tokens } = await connected();
    const grantId = String(decodeJwt(tokens.access_token)[DELEGATION_GRANT_CLAIM]);
    const declined = await startAuthorization(registered);
    const back = await decide(declined, patient, false);
    expect(back.searchParams.get('error')).toBe('access_denied');
    const disconnected = await clinic.call(
      patient,
      'POST',
      `/api/account/connected-apps/${grantId}/revoke`,
      {},
    );
    expect(disconnected.statusCode).toBe(200);

    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'actor_id', 'target_type', 'details'])
      .where('target_id', '=', registered.clientId)
      .where('action', 'like', 'oauth.%')
      .orderBy('seq')
      .execute();
    expect(events.map((event) => event.action)).toEqual([
      'oauth.client.create',
      'oauth.consent.granted',
      'oauth.consent.denied',
      'oauth.grant.revoked',
    ]);
    for (const event of events.slice(1)) {
      expect(event).toMatchObject({
        actor_type: 'user',
        actor_id: patient.userId,
        target_type: 'oauth_client',
      });
    }
    expect(events[1]?.details).toMatchObject({ scopes: 'portal:read', grantId });
    expect(events[2]?.details).toMatchObject({ scopes: 'portal:read' });
    expect(events[3]?.details).toMatchObject({ grantId });
  });

  it('A12/disabled account: a person whose account is disabled gets their app no new token, by refresh or by a code given before', async () => {
    const { registered, patient, tokens } = await connected();
    // The control: a refresh works while the account is active (and rotates the token).
    const refreshed = await refresh(registered, tokens.refresh_token);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const live = refreshed.json<Tokens>().refresh_token;
    // A second authorization, consented to, whose code the app has not exchanged yet.
    const started = await startAuthorization(registered);
    const callback = await decide(started, patient, true);

    await clinic.db
      .updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', patient.userId)
      .execute();
    const byRefresh = await refresh(registered, live);
    expect(byRefresh.statusCode, byRefresh.body).toBe(400);
    expect(oauthErrorOf(byRefresh)).toBe('invalid_grant');
    expect(byRefresh.json<{ access_token?: string }>().access_token).toBeUndefined();
    const byCode = await exchange(registered, started, callback);
    expect(byCode.statusCode, byCode.body).toBe(400);
    expect(oauthErrorOf(byCode)).toBe('invalid_grant');
  });

  it("A12/grant expiry: an app's access token stops within a second once the person's grant to it has expired", async () => {
    const { tokens, readRecord } = await connected();
    const grantId = String(decodeJwt(tokens.access_token)[DELEGATION_GRANT_CLAIM]);
    const expired = await clinic.db
      .updateTable('oauth_payloads')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('model', '=', 'Grant')
      .where('id', '=', grantId)
      .executeTakeFirst();
    expect(Number(expired.numUpdatedRows)).toBe(1);
    const refused = await askUntil(readRecord, (status) => status === 401, 1000);
    expect(refused.answer).toBe(401);
  });

  it("A12/one grant per person: two people connecting the same app each get their own grant, and a consent never extends another person's", async () => {
    const registered = await registerApp();
    const first = await clinic.portalPatient(organizationId);
    const second = await clinic.portalPatient(organizationId);
    const grants: string[] = [];
    for (const { patient, patientId } of [first, second]) {
      const started = await startAuthorization(registered);
      const answer = await exchange(registered, started, await decide(started, patient, true));
      expect(answer.statusCode, answer.body).toBe(200);
      const token = answer.json<Tokens>().access_token;
      const claims = decodeJwt(token);
      expect(claims.sub).toBe(patient.userId);
      grants.push(String(claims[DELEGATION_GRANT_CLAIM]));
      const record = await clinic.call(
        { authorization: `Bearer ${token}` },
        'GET',
        '/api/portal/record',
      );
      expect(record.statusCode, record.body).toBe(200);
      expect(record.json<{ record: { patient: { id: string } } }>().record.patient.id).toBe(
        patientId,
      );
    }
    expect(grants[0]).not.toBe(grants[1]);
    const stored = await clinic.db
      .selectFrom('oauth_payloads')
      .select(['id', 'account_id'])
      .where('model', '=', 'Grant')
      .where('id', 'in', grants)
      .orderBy('account_id')
      .execute();
    expect(stored).toEqual(
      [
        { id: grants[0], account_id: first.patient.userId },
        { id: grants[1], account_id: second.patient.userId },
      ].sort((a, b) => a.account_id.localeCompare(b.account_id)),
    );
  });

  it('A12/forged resume cookie: a browser that did not start the authorization cannot forge the cookie that binds the consent to the one that did', async () => {
    const registered = await registerApp();
    const { patient } = await clinic.portalPatient(organizationId);
    const started = await startAuthorization(registered);
    const decision = await clinic.call(
      patient,
      'POST',
      `/api/oauth/interactions/${started.uid}/decision`,
      { allow: true },
    );
    expect(decision.statusCode, decision.body).toBe(200);
    const redirectTo = decision.json<{ redirectTo: string }>().redirectTo;
    // The uid is in the consent link and the resume URL: a stranger knows it, and sets the
    // provider's resume cookie to it by hand (signed in as the patient, so only the cookie's
    // signature stands in the way).
    const stranger = new Browser().signIn(patient);
    stranger.set('_interaction_resume', started.uid);
    const forged = await stranger.get(clinic.app, redirectTo);
    expect(String(forged.headers.location ?? '')).not.toContain('code=');
    expect(forged.statusCode).toBe(400);
    // The browser that started it, signed in as the patient, still resumes (the control: the
    // request was not spent).
    const resumed = await started.browser.signIn(patient).get(clinic.app, redirectTo);
    expect(resumed.statusCode).toBe(303);
    expect(String(resumed.headers.location)).toContain('code=');
  });

  it("A12/T5 disabled public app: the token endpoint's preflight stops admitting a public app's origin once it is disabled", async () => {
    const origin = 'https://companion-r3.example';
    const spa = await register({
      name: 'Browser companion',
      kind: 'app',
      scopes: ['portal:read'],
      publicClient: true,
      redirectUris: [`${origin}/callback`],
    });
    const preflight = () =>
      clinic.app.inject({
        method: 'OPTIONS',
        url: '/oauth/token',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const before = await preflight();
    expect(before.statusCode).toBe(204);
    expect(before.headers['access-control-allow-origin']).toBe(origin);
    const disabled = await clinic.call(admin, 'POST', `${CLIENTS}/${spa.clientId}/disable`, {});
    expect(disabled.statusCode).toBe(200);
    const after = await preflight();
    expect(after.statusCode).toBe(403);
    expect(after.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('A12/revocation outlives cleanup: a revoked token stays refused after the cleanup job runs, until it expires', async () => {
    const machine = await register({ name: 'Lab integration', scopes: ['audit:read'] });
    const issued = await protocol('/oauth/token', machine, {
      grant_type: 'client_credentials',
      scope: 'audit:read',
    });
    expect(issued.statusCode, issued.body).toBe(200);
    const token = issued.json<{ access_token: string }>().access_token;
    const auditRead = async () =>
      (await clinic.call({ authorization: `Bearer ${token}` }, 'GET', '/api/admin/audit-events'))
        .statusCode;
    expect(await auditRead()).toBe(200);
    const revoked = await protocol('/oauth/token/revocation', machine, { token });
    expect(revoked.statusCode).toBe(200);
    expect(await auditRead()).toBe(401);

    // The cleanup job (A13) runs now: the token has not expired, so its revocation is kept.
    await purgeExpiredOAuthRecords(clinic.db, new Date());
    const introspected = await protocol('/oauth/token/introspection', machine, { token });
    expect(introspected.json()).toEqual({ active: false });
    expect(await auditRead()).toBe(401);
  });

  it("A12/discovery host: the endpoints the metadata names are the issuer's, whatever Host or X-Forwarded-Host the request carries", async () => {
    for (const headers of [
      { host: 'attacker.example' },
      { 'x-forwarded-host': 'attacker.example' },
      { host: 'attacker.example', 'x-forwarded-host': 'attacker.example' },
    ]) {
      const answer = await clinic.app.inject({
        method: 'GET',
        url: '/.well-known/openid-configuration',
        headers,
      });
      if (answer.statusCode !== 200) {
        // Refused before the provider saw it: nothing was written from the header at all.
        expect(answer.body, JSON.stringify(headers)).not.toContain('attacker.example');
        continue;
      }
      const metadata = answer.json<Record<string, unknown>>();
      expect(metadata.issuer).toBe(issuer());
      for (const name of [
        'authorization_endpoint',
        'token_endpoint',
        'introspection_endpoint',
        'revocation_endpoint',
        'jwks_uri',
      ]) {
        expect(String(metadata[name]), `${name} with ${JSON.stringify(headers)}`).toMatch(
          new RegExp(`^${issuer().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`),
        );
      }
      expect(answer.body).not.toContain('attacker.example');
    }
  });

  it('T4/oauth-form-body-limit: a protocol form over 8 KiB is refused with 413 before it is parsed, far below the global 1 MiB', async () => {
    const machine = await register({ name: 'Lab integration', scopes: ['audit:read'] });
    for (const url of ['/oauth/token', '/oauth/token/introspection', '/oauth/token/revocation']) {
      const over = await clinic.app.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicOf(machine),
        },
        payload: `grant_type=client_credentials&token=${'a'.repeat(16 * 1024)}`,
      });
      expect(over.statusCode, `${url}: ${over.body}`).toBe(413);
    }
  });

  it('T4/oauth-client-create-body-limit: a client registration over 4 KiB is refused with 413 before it is parsed', async () => {
    const body = JSON.stringify({ name: 'Padded', scopes: ['audit:read'] });
    const send = (bytes: number) =>
      clinic.app.inject({
        method: 'POST',
        url: CLIENTS,
        headers: { authorization: admin.authorization, 'content-type': 'application/json' },
        payload: `${body.slice(0, -1)}${' '.repeat(bytes - body.length)}}`,
      });
    const atLimit = await send(4096);
    expect(atLimit.statusCode, atLimit.body).toBe(201);
    const over = await send(16 * 1024);
    expect(over.statusCode, over.body).toBe(413);
    expect(over.json<{ code: string }>().code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describeClinic(
  'A12 OAuth rate classes (round 3)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    it('R1/oauth-client-create-sensitive-class: registering clients (each a new way into Haven) counts in the strict sensitive class', async () => {
      const admin = await clinic.actor(['admin']);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const response = await clinic.app.inject({
          method: 'POST',
          url: CLIENTS,
          remoteAddress: '203.0.113.61',
          headers: { authorization: admin.authorization },
          payload: { name: `Integration ${i}`, scopes: ['audit:read'] },
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([201, 201, 429]);
    });

    it('R1/oauth-consent-sensitive-class: consent decisions (each may give an app a record) count in the strict sensitive class', async () => {
      const patient = await clinic.actor(['patient']);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const response = await clinic.app.inject({
          method: 'POST',
          url: '/api/oauth/interactions/aaaaaaaaaaaaaaaaaaaaa/decision',
          remoteAddress: '203.0.113.62',
          headers: { authorization: patient.authorization },
          payload: { allow: true },
        });
        statuses.push(response.statusCode);
      }
      expect(statuses).toEqual([404, 404, 429]);
    });
  },
);
