// OAuth client controls a seventh mutation hunt found no test for: a client always holds at
// least one scope (A12: oidc-provider reads a client registered without scopes as one that may
// ask for any), on registration and on a change of its scopes; a client's name, which the
// consent page shows people, is one line without control characters (V1).
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';

const CLIENTS = '/api/admin/oauth-clients';

describeClinic('OAuth client controls (round 7)', (clinic) => {
  let admin: Actor;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
  });

  const clientCount = async (): Promise<number> =>
    (await clinic.db.selectFrom('oauth_clients').select('client_id').execute()).length;

  it('A12 — a client cannot be registered or left with no scopes (which the provider reads as every scope)', async () => {
    const before = await clientCount();
    for (const body of [
      { name: 'Reporting', scopes: [] },
      {
        name: 'Companion',
        kind: 'app',
        scopes: [],
        redirectUris: ['http://127.0.0.1:8765/callback'],
      },
    ]) {
      const refused = await clinic.call(admin, 'POST', CLIENTS, body);
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    }
    expect(await clientCount()).toBe(before);

    const created = await clinic.call(admin, 'POST', CLIENTS, {
      name: 'Reporting',
      scopes: ['audit:read'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const { clientId } = created.json<{ client: { clientId: string } }>().client;
    const emptied = await clinic.call(admin, 'PUT', `${CLIENTS}/${clientId}/scopes`, {
      scopes: [],
    });
    expect(emptied.statusCode, emptied.body).toBe(400);
    const row = await clinic.db
      .selectFrom('oauth_clients')
      .select('scopes')
      .where('client_id', '=', clientId)
      .executeTakeFirstOrThrow();
    expect(row.scopes).toEqual(['audit:read']);
  });

  it('V1 — a client name with a line break or another control character is refused (it is shown on the consent page)', async () => {
    const before = await clientCount();
    for (const name of ['Reporting\nApprove everything', 'Tab\there', 'Bell\u0007', 'Del\u007f']) {
      const refused = await clinic.call(admin, 'POST', CLIENTS, { name, scopes: ['audit:read'] });
      expect(refused.statusCode, JSON.stringify(name)).toBe(400);
      expect(refused.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    }
    expect(await clientCount()).toBe(before);
  });
});
