// Business-logic round 7 (OAuth clients): disabling a client is final, but a disabled client
// still took a new secret (returned once, audited as a rotation), new scopes, and a second
// disable that moved its disabled_at forward, erasing when it was really disabled. Now the
// secret and the scopes of a disabled client answer 409, and disabling it again changes nothing.
import { expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';

const BASE = '/api/admin/oauth-clients';

describeClinic('oauth logic r7: a disabled client stays as it was disabled', (clinic) => {
  it('A12/state machine: a disabled client takes no new secret or scopes (409), and a second disable keeps its time and records nothing', async () => {
    const admin = await clinic.actor(['admin']);
    const created = await clinic.call(admin, 'POST', BASE, {
      name: 'Lab sync',
      scopes: ['audit:read'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const { clientId } = created.json<{ client: { clientId: string } }>().client;
    const disabled = await clinic.call(admin, 'POST', `${BASE}/${clientId}/disable`, {});
    expect(disabled.statusCode, disabled.body).toBe(200);
    const [first] = await clinic.rows('oauth_clients', { client_id: clientId });

    const again = await clinic.call(admin, 'POST', `${BASE}/${clientId}/disable`, {});
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ client: { disabled: true } });
    const rotated = await clinic.call(admin, 'POST', `${BASE}/${clientId}/secret`, {});
    expect(rotated.statusCode, rotated.body).toBe(409);
    expect(rotated.body).not.toContain('clientSecret');
    const rescoped = await clinic.call(admin, 'PUT', `${BASE}/${clientId}/scopes`, {
      scopes: ['audit:read'],
    });
    expect(rescoped.statusCode, rescoped.body).toBe(409);

    const [after] = await clinic.rows('oauth_clients', { client_id: clientId });
    expect(after).toMatchObject({
      disabled_at: first!.disabled_at,
      secret_sha256: first!.secret_sha256,
      scopes: ['audit:read'],
    });
    const events = await clinic.rows('audit_events', { target_id: clientId });
    expect(events.map((event) => event.action).sort()).toEqual([
      'oauth.client.create',
      'oauth.client.disable',
    ]);
  });
});
