// Client management (A12, Z5): platform administrators only, every route under step-up MFA,
// every change audited without the secret, and the secret stored only as its SHA-256.
import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test/databases.js';
import { useClinic, type Actor } from '../../../test/clinical-actors.js';

const BASE = '/api/admin/oauth-clients';
const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

describeEachEngine('A12 OAuth client management', (engine) => {
  const clinic = useClinic(engine);
  let admin: Actor;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
  });

  async function create(): Promise<{ clientId: string; clientSecret: string }> {
    const response = await clinic.call(admin, 'POST', BASE, {
      name: 'Research pipeline',
      scopes: ['audit:read'],
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<{ client: { clientId: string }; clientSecret: string }>();
    return { clientId: body.client.clientId, clientSecret: body.clientSecret };
  }

  /** A client-credentials request at the token endpoint with this secret. */
  const tokenWith = (clientId: string, secret: string) =>
    clinic.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      },
      payload: 'grant_type=client_credentials&scope=audit%3Aread',
    });

  it('A12/table theft: the secret is 256 random bits, shown once, stored only as its SHA-256', async () => {
    const { clientId, clientSecret } = await create();
    expect(Buffer.from(clientSecret, 'base64url')).toHaveLength(32);
    const [row] = await clinic.rows('oauth_clients', { client_id: clientId });
    expect(row?.secret_sha256).toBe(sha256(clientSecret));
    expect(JSON.stringify(row)).not.toContain(clientSecret);
    const listed = await clinic.call(admin, 'GET', BASE);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).toContain(clientId);
    expect(listed.body).not.toContain(clientSecret);
    expect(listed.body).not.toContain(sha256(clientSecret));
    // The stored hash is no credential: whoever reads the table cannot present it as the secret.
    expect((await tokenWith(clientId, sha256(clientSecret))).statusCode).toBe(401);
    expect((await tokenWith(clientId, clientSecret)).statusCode).toBe(200);
  });

  it('A12/Z5 rotation: a rotated secret replaces the old one, which stops authenticating', async () => {
    const { clientId, clientSecret } = await create();
    const rotated = await clinic.call(admin, 'POST', `${BASE}/${clientId}/secret`, {});
    expect(rotated.statusCode).toBe(200);
    const fresh = rotated.json<{ clientSecret: string }>().clientSecret;
    expect(fresh).not.toBe(clientSecret);
    const [row] = await clinic.rows('oauth_clients', { client_id: clientId });
    expect(row?.secret_sha256).toBe(sha256(fresh));
    expect((await tokenWith(clientId, clientSecret)).statusCode).toBe(401);
    expect((await tokenWith(clientId, fresh)).statusCode).toBe(200);
  });

  it('A12/Z5 audit: every change is an audit event naming the admin and the client, never the secret', async () => {
    const { clientId, clientSecret } = await create();
    await clinic.call(admin, 'PUT', `${BASE}/${clientId}/scopes`, { scopes: ['audit:read'] });
    const rotated = await clinic.call(admin, 'POST', `${BASE}/${clientId}/secret`, {});
    await clinic.call(admin, 'POST', `${BASE}/${clientId}/disable`, {});
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_type', 'actor_id', 'details'])
      .where('target_id', '=', clientId)
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.action)).toEqual([
      'oauth.client.create',
      'oauth.client.scopes',
      'oauth.client.rotate',
      'oauth.client.disable',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ actor_type: 'user', actor_id: admin.userId });
      const text = JSON.stringify(event.details);
      expect(text).not.toContain(clientSecret);
      expect(text).not.toContain(rotated.json<{ clientSecret: string }>().clientSecret);
    }
  });

  it('A12/Z5 step-up: without a fresh MFA check no client route answers', async () => {
    const { clientId } = await create();
    const stale = await clinic.actor(['admin'], { mfa: false });
    for (const [method, url, body] of [
      ['GET', BASE, undefined],
      ['POST', BASE, { name: 'Sneaky', scopes: ['audit:read'] }],
      ['POST', `${BASE}/${clientId}/secret`, {}],
      ['PUT', `${BASE}/${clientId}/scopes`, { scopes: ['audit:read'] }],
      ['POST', `${BASE}/${clientId}/disable`, {}],
    ] as const) {
      const response = await clinic.call(stale, method, url, body);
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json<{ code: string }>().code).toBe('STEP_UP_REQUIRED');
    }
    const [row] = await clinic.rows('oauth_clients', { client_id: clientId });
    expect(row?.disabled_at).toBeNull();
  });

  it('A12/Z3 least privilege: clinicians, org admins and machine clients cannot manage clients', async () => {
    const { clientId } = await create();
    const clinician = await clinic.actor(['clinician']);
    const machine = await clinic.machineClient(['audit:read', 'oauth:manage']);
    for (const caller of [clinician, machine]) {
      const response = await clinic.call(caller, 'POST', `${BASE}/${clientId}/disable`, {});
      expect(response.statusCode).toBe(403);
    }
    expect((await clinic.call(null, 'GET', BASE)).statusCode).toBe(401);
    const [row] = await clinic.rows('oauth_clients', { client_id: clientId });
    expect(row?.disabled_at).toBeNull();
  });

  it('A12/Z4: an unknown client answers 404', async () => {
    const response = await clinic.call(admin, 'POST', `${BASE}/${'x'.repeat(22)}/disable`, {});
    expect(response.statusCode).toBe(404);
  });
});
