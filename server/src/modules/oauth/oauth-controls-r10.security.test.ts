// A12 controls of the OAuth module a review found missing (round 10):
// - revoking a refresh token (RFC 7009 §2.1) ends it and the grant it belongs to, access tokens
//   included; another client's revocation of it changes nothing;
// - two requests presenting one refresh token or one code at the same moment cannot both win:
//   one is refused as a reuse, and the grant ends (the winner's new tokens with it);
// - introspection (RFC 7662) calls an app's token inactive exactly when the API refuses it, and
//   reports the scope the API narrows it to;
// - a public app has no secret to rotate (409 on both routes, nothing written);
// - a machine asking for no scope gets the scopes granted to it (RFC 6749 §3.3, Z2).
// The browser's part of the authorization code flow is played with app.inject and a cookie jar
// (test/browser-cookies.ts), as in oauth-controls-r3.security.test.ts.
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { askUntil } from '../../../test/eventually.js';
import {
  APP_REDIRECT_URI as REDIRECT_URI,
  OAUTH_CLIENTS as CLIENTS,
  oauthAppFlow,
  oauthErrorOf,
  type Registered,
  type Started,
} from '../../../test/oauth-app-flow.js';
import { DELEGATION_GRANT_CLAIM } from '../../platform/auth/jwt-authenticator.js';
import { kyselyAdapter } from './adapter.js';
import { createTokenDecisions } from './token-decisions.js';

interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly scope?: string;
}

/** Of two answers to one code or refresh token sent at once: one 200, one invalid_grant. */
function oneWinner(answers: readonly LightMyRequestResponse[]): Tokens {
  expect(
    answers.map((answer) => answer.statusCode).sort(),
    answers.map((answer) => answer.body).join('\n'),
  ).toEqual([200, 400]);
  expect(oauthErrorOf(answers.find((answer) => answer.statusCode === 400)!)).toBe('invalid_grant');
  return answers.find((answer) => answer.statusCode === 200)!.json<Tokens>();
}

describeClinic('A12 OAuth controls (round 10)', { env: GENEROUS_RATE_LIMITS }, (clinic) => {
  let admin: Actor;
  let organizationId: string;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    organizationId = await clinic.organization({ name: 'Clinic' });
  });

  const { issuer, register, registerApp, protocol, startAuthorization, decide, exchange, refresh } =
    oauthAppFlow(clinic, () => admin, 'state-r10');
  /** The person allows on the consent page; the browser resumes and lands on the app. */
  const allow = (started: Started, person: Actor) => decide(started, person, true);

  const introspect = async (registered: Registered, token: string) => {
    const response = await protocol('/oauth/token/introspection', registered, { token });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ active: boolean; scope?: string; sub?: string }>();
  };

  const readRecordWith = async (accessToken: string): Promise<number> =>
    (await clinic.call({ authorization: `Bearer ${accessToken}` }, 'GET', '/api/portal/record'))
      .statusCode;

  /** A portal patient who connects a new app: its tokens, already seen to read the record. */
  async function connected() {
    const registered = await registerApp();
    const { patient } = await clinic.portalPatient(organizationId);
    const started = await startAuthorization(registered);
    const answer = await exchange(registered, started, await allow(started, patient));
    expect(answer.statusCode, answer.body).toBe(200);
    const tokens = answer.json<Tokens>();
    expect(await readRecordWith(tokens.access_token)).toBe(200);
    return { registered, patient, tokens };
  }

  /** Whether a refresh with `refreshToken` is refused as invalid_grant. */
  async function refreshRefused(registered: Registered, refreshToken: string): Promise<boolean> {
    const answer = await refresh(registered, refreshToken);
    return answer.statusCode === 400 && oauthErrorOf(answer) === 'invalid_grant';
  }

  // --- RFC 7009: revoking a refresh token ---------------------------------------------------

  for (const hint of [undefined, 'refresh_token', 'access_token'] as const) {
    it(`A12/refresh revocation: an app revoking its refresh token (token_type_hint ${hint ?? 'absent'}) ends it and its grant, access tokens included`, async () => {
      const { registered, tokens } = await connected();
      const revoked = await protocol('/oauth/token/revocation', registered, {
        token: tokens.refresh_token,
        ...(hint && { token_type_hint: hint }),
      });
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect(revoked.json()).toEqual({});
      expect(await refreshRefused(registered, tokens.refresh_token)).toBe(true);
      // RFC 7009 §2.1: the grant goes with it, so its access token stops at once on this node.
      expect(await readRecordWith(tokens.access_token)).toBe(401);
      expect(await introspect(registered, tokens.access_token)).toEqual({ active: false });
    });
  }

  it("A12/refresh revocation across clients: another app revoking an app's refresh token gets 200 and changes nothing", async () => {
    const { registered, tokens } = await connected();
    const stranger = await registerApp();
    const foreign = await protocol('/oauth/token/revocation', stranger, {
      token: tokens.refresh_token,
      token_type_hint: 'refresh_token',
    });
    expect(foreign.statusCode, foreign.body).toBe(200);
    expect(await readRecordWith(tokens.access_token)).toBe(200);
    const refreshed = await refresh(registered, tokens.refresh_token);
    expect(refreshed.statusCode, refreshed.body).toBe(200);
  });

  // --- one refresh token or code, two requests at once ---------------------------------------

  it('A12/refresh race: two refreshes with one token at the same moment — exactly one wins, the other is invalid_grant, and the grant ends', async () => {
    const { registered, tokens } = await connected();
    const answers = await Promise.all([
      refresh(registered, tokens.refresh_token),
      refresh(registered, tokens.refresh_token),
    ]);
    // Seen as a reuse: the grant is gone, with the chain the winner started.
    const won = oneWinner(answers);
    expect(await refreshRefused(registered, won.refresh_token)).toBe(true);
    expect(await readRecordWith(won.access_token)).toBe(401);
    expect(await readRecordWith(tokens.access_token)).toBe(401);
  });

  it('A12/code race: two exchanges of one code at the same moment — exactly one gets tokens, the other is invalid_grant, and the grant ends', async () => {
    const registered = await registerApp();
    const { patient } = await clinic.portalPatient(organizationId);
    const started = await startAuthorization(registered);
    const callback = await allow(started, patient);
    const answers = await Promise.all([
      exchange(registered, started, callback),
      exchange(registered, started, callback),
    ]);
    const won = oneWinner(answers);
    expect(await readRecordWith(won.access_token)).toBe(401);
    expect(await refreshRefused(registered, won.refresh_token)).toBe(true);
  });

  it("A12/refresh race at the store: of two consumes of one refresh token at once, one is refused as invalid_grant and the token's grant ends", async () => {
    // The same race at the adapter, on every engine: on PGlite the two requests above do not
    // meet between the provider's read of the token and its write (its one connection runs them
    // in turn there); on PostgreSQL they do.
    const { errors } = await import('oidc-provider');
    const { patient } = await clinic.portalPatient(organizationId);
    const grantId = `grant-${randomBytes(8).toString('hex')}`;
    const tokenId = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + 3_600_000);
    const row = { user_code: null, uid: null, account_id: patient.userId, expires_at: expiresAt };
    await clinic.db
      .insertInto('oauth_payloads')
      .values([
        { ...row, model: 'Grant', id: grantId, grant_id: null, payload: JSON.stringify({}) },
        {
          ...row,
          model: 'RefreshToken',
          id: tokenId,
          grant_id: grantId,
          payload: JSON.stringify({ grantId }),
        },
      ])
      .execute();
    const Adapter = kyselyAdapter(
      clinic.db,
      () => new Date(),
      createTokenDecisions(),
      errors.InvalidGrant,
    );
    const store = new Adapter('RefreshToken');
    const outcomes = await Promise.allSettled([store.consume(tokenId), store.consume(tokenId)]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected')!;
    expect(refused.reason).toBeInstanceOf(errors.InvalidGrant);
    expect(refused.reason).toMatchObject({ error: 'invalid_grant' });
    const left = await clinic.db
      .selectFrom('oauth_payloads')
      .select('model')
      .where((eb) => eb.or([eb('id', '=', grantId), eb('grant_id', '=', grantId)]))
      .execute();
    expect(left).toEqual([]);
  });

  // --- RFC 7662: introspection agrees with the API -------------------------------------------

  it('A12/introspection of a disconnected app: its token is inactive at once, as the API refuses it', async () => {
    const { registered, patient, tokens } = await connected();
    expect(await introspect(registered, tokens.access_token)).toMatchObject({
      active: true,
      scope: 'portal:read',
      sub: patient.userId,
    });
    const grantId = String(decodeJwt(tokens.access_token)[DELEGATION_GRANT_CLAIM]);
    const disconnected = await clinic.call(
      patient,
      'POST',
      `/api/account/connected-apps/${grantId}/revoke`,
      {},
    );
    expect(disconnected.statusCode).toBe(200);
    expect(await readRecordWith(tokens.access_token)).toBe(401);
    expect(await introspect(registered, tokens.access_token)).toEqual({ active: false });
  });

  it('A12/introspection after refresh reuse: the tokens of a grant a replayed refresh token ended are inactive', async () => {
    const { registered, tokens } = await connected();
    const rotated = await refresh(registered, tokens.refresh_token);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const second = rotated.json<Tokens>();
    expect(await introspect(registered, second.access_token)).toMatchObject({ active: true });
    expect(await refreshRefused(registered, tokens.refresh_token)).toBe(true);
    expect(await readRecordWith(second.access_token)).toBe(401);
    for (const token of [tokens.access_token, second.access_token]) {
      expect(await introspect(registered, token)).toEqual({ active: false });
    }
  });

  it("A12/introspection of a disabled person's app token: inactive within a second, as the API refuses it", async () => {
    const { registered, patient, tokens } = await connected();
    await clinic.db
      .updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', patient.userId)
      .execute();
    const seen = await askUntil(
      () => introspect(registered, tokens.access_token),
      (answer) => !answer.active,
      1000,
    );
    expect(seen.answer).toEqual({ active: false });
    expect(await readRecordWith(tokens.access_token)).toBe(401);
  });

  it('A12/Z2 introspection of a narrowed token: a person losing a role, the token reports only the scope the API still lets it use', async () => {
    const { registered, patient, tokens } = await connected();
    await clinic.db
      .updateTable('users')
      .set({ roles: ['participant'] })
      .where('id', '=', patient.userId)
      .execute();
    const seen = await askUntil(
      () => introspect(registered, tokens.access_token),
      (answer) => answer.scope === '',
      1000,
    );
    expect(seen.answer).toMatchObject({ active: true, scope: '' });
    expect(await readRecordWith(tokens.access_token)).toBe(403);
  });

  // --- a public app's secret -----------------------------------------------------------------

  it('A12/public app secret: rotating it is refused with 409 on the platform and the organization route, and nothing is written', async () => {
    const orgAdmin = await clinic.actor(['clinician']);
    const ownerId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    const byOrganization = `/api/organizations/${ownerId}/oauth-clients`;
    const created = await clinic.call(orgAdmin, 'POST', byOrganization, {
      name: 'Pocket app',
      kind: 'app',
      scopes: ['portal:read'],
      redirectUris: [REDIRECT_URI],
      publicClient: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const { clientId } = created.json<{ client: { clientId: string } }>().client;
    const before = await clinic.rows('oauth_clients', { client_id: clientId });

    for (const [actor, url] of [
      [admin, `${CLIENTS}/${clientId}/secret`],
      [orgAdmin, `${byOrganization}/${clientId}/secret`],
    ] as const) {
      const rotated = await clinic.call(actor, 'POST', url, {});
      expect(rotated.statusCode, `${url}: ${rotated.body}`).toBe(409);
      expect(rotated.json<{ code: string }>().code).toBe('CONFLICT');
    }
    expect(await clinic.rows('oauth_clients', { client_id: clientId })).toEqual(before);
    const rotations = await clinic.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', clientId)
      .where('action', '=', 'oauth.client.rotate')
      .execute();
    expect(rotations).toEqual([]);
  });

  // --- client credentials without a scope ----------------------------------------------------

  it('A12/Z2 default scope: a machine asking for no scope gets the scopes granted to it, named in the answer and the token', async () => {
    const machine = await register({ name: 'Audit export', scopes: ['audit:read'] });
    const answer = await protocol('/oauth/token', machine, {
      grant_type: 'client_credentials',
      resource: `${issuer()}/api`,
    });
    expect(answer.statusCode, answer.body).toBe(200);
    const { access_token: token, scope } = answer.json<{ access_token: string; scope?: string }>();
    expect(scope).toBe('audit:read');
    expect(decodeJwt(token).scope).toBe('audit:read');
    const audit = await clinic.call(
      { authorization: `Bearer ${token}` },
      'GET',
      '/api/admin/audit-events',
    );
    expect(audit.statusCode, audit.body).toBe(200);
    expect(await introspect(machine, token)).toMatchObject({ active: true, scope: 'audit:read' });
  });
});
