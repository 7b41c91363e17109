// A12: a public app (a native or browser app, which has no secret) revokes its own tokens, as
// RFC 7009 §5 lets it, naming itself by client_id alone: an app signing a person out ends the
// grant instead of leaving a refresh token alive. Naming a client without its secret opens
// nothing else: a confidential client must still present its secret, introspection stays closed
// to public apps, and a public app's revocation of another app's token changes nothing. A
// browser app revokes from its own origin only (CORS, T5), as it asks for tokens.
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import {
  APP_REDIRECT_URI,
  oauthAppFlow,
  oauthErrorOf,
  type Registered,
} from '../../../test/oauth-app-flow.js';

interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
}

describeClinic(
  'A12 public apps revoke their own tokens',
  // The browser app's origin is also on Haven's own CORS allowlist, whose hook would let it send
  // credentials: the OAuth endpoints must take that back.
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_CORS_ORIGINS: 'https://companion.example' } },
  (clinic) => {
    let admin: Actor;
    let organizationId: string;

    beforeAll(async () => {
      admin = await clinic.actor(['admin']);
      organizationId = await clinic.organization({ name: 'Clinic' });
    });

    const { register, protocol, startAuthorization, decide, exchange } = oauthAppFlow(
      clinic,
      () => admin,
      'state-public',
    );

    /** A form POST naming the client by client_id alone, as a public app sends it. */
    const byClientId = (url: string, clientId: string, form: Record<string, string>) =>
      clinic.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ ...form, client_id: clientId }).toString(),
      });

    const readRecordWith = async (accessToken: string): Promise<number> =>
      (await clinic.call({ authorization: `Bearer ${accessToken}` }, 'GET', '/api/portal/record'))
        .statusCode;

    /**
     * A portal patient connects a new app, public (exchanging its code by client_id alone) or
     * confidential: the app and its tokens, already seen to read the record.
     */
    async function appConnected(
      kind: 'public' | 'confidential',
      redirectUris: readonly string[] = [APP_REDIRECT_URI],
    ): Promise<{ registered: Registered; tokens: Tokens }> {
      const registered = await register({
        name: kind === 'public' ? 'Pocket companion' : 'Clinic portal',
        kind: 'app',
        scopes: ['portal:read'],
        redirectUris,
        ...(kind === 'public' && { publicClient: true }),
      });
      const { patient } = await clinic.portalPatient(organizationId);
      const started = await startAuthorization(registered);
      const callback = await decide(started, patient, true);
      const answer =
        kind === 'public'
          ? await byClientId('/oauth/token', registered.clientId, {
              grant_type: 'authorization_code',
              code: callback.searchParams.get('code') ?? '',
              redirect_uri: APP_REDIRECT_URI,
              code_verifier: started.verifier,
            })
          : await exchange(registered, started, callback);
      expect(answer.statusCode, answer.body).toBe(200);
      const tokens = answer.json<Tokens>();
      expect(await readRecordWith(tokens.access_token)).toBe(200);
      return { registered, tokens };
    }

    it('A12/public revocation: a public app revoking its refresh token by client_id ends the grant, access tokens included', async () => {
      const { registered, tokens } = await appConnected('public');
      const { clientId } = registered;
      const revoked = await byClientId('/oauth/token/revocation', clientId, {
        token: tokens.refresh_token,
      });
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect(revoked.json()).toEqual({});
      expect(await readRecordWith(tokens.access_token)).toBe(401);
      const refreshed = await byClientId('/oauth/token', clientId, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      });
      expect(refreshed.statusCode, refreshed.body).toBe(400);
      expect(oauthErrorOf(refreshed)).toBe('invalid_grant');
    });

    it("A12/public revocation across clients: a public app naming itself cannot end another app's grant", async () => {
      const { clientId } = (await appConnected('public')).registered;
      const other = await appConnected('confidential');
      const foreign = await byClientId('/oauth/token/revocation', clientId, {
        token: other.tokens.refresh_token,
      });
      expect(foreign.statusCode, foreign.body).toBe(200);
      expect(await readRecordWith(other.tokens.access_token)).toBe(200);
    });

    it('A12/client authentication: a confidential app naming itself by client_id without its secret is refused (401 invalid_client), and its grant lives', async () => {
      const { registered, tokens } = await appConnected('confidential');
      const unauthenticated = await byClientId('/oauth/token/revocation', registered.clientId, {
        token: tokens.refresh_token,
      });
      expect(unauthenticated.statusCode, unauthenticated.body).toBe(401);
      expect(oauthErrorOf(unauthenticated)).toBe('invalid_client');
      expect(await readRecordWith(tokens.access_token)).toBe(200);
      // With its secret, the same request revokes.
      const revoked = await protocol('/oauth/token/revocation', registered, {
        token: tokens.refresh_token,
      });
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect(await readRecordWith(tokens.access_token)).toBe(401);
    });

    it('A12/introspection: a public app cannot introspect, even its own token (401 invalid_client)', async () => {
      const { registered, tokens } = await appConnected('public');
      const { clientId } = registered;
      const asked = await byClientId('/oauth/token/introspection', clientId, {
        token: tokens.access_token,
      });
      expect(asked.statusCode, asked.body).toBe(401);
      expect(oauthErrorOf(asked)).toBe('invalid_client');
      expect(asked.body).not.toContain('"active"');
    });

    // --- a browser app (T5) -----------------------------------------------------------------------

    const SPA_ORIGIN = 'https://companion.example'; // on HAVEN_CORS_ORIGINS above

    const preflight = (origin: string) =>
      clinic.app.inject({
        method: 'OPTIONS',
        url: '/oauth/token/revocation',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });

    /** A revocation sent by a browser page of `origin`, naming the client by client_id. */
    const revokeFrom = (origin: string, clientId: string, token: string, secret?: string) =>
      clinic.app.inject({
        method: 'POST',
        url: '/oauth/token/revocation',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
        payload: new URLSearchParams({
          token,
          client_id: clientId,
          ...(secret !== undefined && { client_secret: secret }),
        }).toString(),
      });

    it('A12/T5 revocation from a browser: a public app revokes from its own origin and reads the answer; a preflight from any other origin is refused', async () => {
      const { registered, tokens } = await appConnected('public', [
        `${SPA_ORIGIN}/callback`,
        APP_REDIRECT_URI,
      ]);
      const allowed = await preflight(SPA_ORIGIN);
      expect(allowed.statusCode, allowed.body).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();
      const refused = await preflight('https://attacker.example');
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();

      const revoked = await revokeFrom(SPA_ORIGIN, registered.clientId, tokens.refresh_token);
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect(revoked.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
      expect(revoked.headers['access-control-allow-credentials']).toBeUndefined();
      expect(await readRecordWith(tokens.access_token)).toBe(401);
    });

    it('A12/T5 revocation from a foreign origin: a page of another origin (or a confidential app in a browser) is refused and nothing is revoked', async () => {
      const { registered, tokens } = await appConnected('public', [
        `${SPA_ORIGIN}/callback`,
        APP_REDIRECT_URI,
      ]);
      const foreign = await revokeFrom(
        'https://attacker.example',
        registered.clientId,
        tokens.refresh_token,
      );
      expect(foreign.statusCode, foreign.body).toBe(400);
      expect(oauthErrorOf(foreign)).toBe('invalid_request');
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      expect(await readRecordWith(tokens.access_token)).toBe(200);

      // Its site is that same origin: a confidential app is refused there for being confidential.
      const confidential = await appConnected('confidential', [
        `${SPA_ORIGIN}/callback`,
        APP_REDIRECT_URI,
      ]);
      const inBrowser = await revokeFrom(
        SPA_ORIGIN,
        confidential.registered.clientId,
        confidential.tokens.refresh_token,
        confidential.registered.clientSecret,
      );
      expect(inBrowser.statusCode, inBrowser.body).toBe(400);
      expect(await readRecordWith(confidential.tokens.access_token)).toBe(200);
    });
  },
);
