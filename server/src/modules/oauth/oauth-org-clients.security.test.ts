// An organization's own OAuth clients (A12, issue 12 item 4): only an org_admin of the
// organization manages them (403 for its other members, 404 outside it, Z4), only the clients it
// owns (another organization's are 404 through its path), only with scopes an org admin may
// give (Z3), every route under step-up MFA and every change audited as a platform admin's (Z5).
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test/databases.js';
import { useClinic, type Actor, type Method } from '../../../test/clinical-actors.js';

const REDIRECT_URI = 'https://companion.example/callback';
const APP = {
  name: 'Companion app',
  kind: 'app',
  scopes: ['portal:read'],
  redirectUris: [REDIRECT_URI],
} as const;

const base = (organizationId: string) => `/api/organizations/${organizationId}/oauth-clients`;

/** Every route of an organization's clients, on one client where it names one. */
function everyRoute(organizationId: string, clientId: string): Array<[Method, string, unknown]> {
  const url = base(organizationId);
  return [
    ['GET', url, undefined],
    ['POST', url, APP],
    ['POST', `${url}/${clientId}/secret`, {}],
    ['PUT', `${url}/${clientId}/scopes`, { scopes: ['portal:read'] }],
    ['POST', `${url}/${clientId}/disable`, {}],
  ];
}

describeEachEngine('A12 OAuth clients of an organization', (engine) => {
  const clinic = useClinic(engine);
  let adminA: Actor;
  let adminB: Actor;
  let memberA: Actor;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    adminA = await clinic.actor(['clinician']);
    adminB = await clinic.actor(['clinician']);
    memberA = await clinic.actor(['clinician']);
    orgA = await clinic.organization({
      members: [
        [adminA, 'org_admin'],
        [memberA, 'clinician'],
      ],
    });
    orgB = await clinic.organization({ members: [[adminB, 'org_admin']] });
  });

  async function createApp(
    admin: Actor,
    organizationId: string,
  ): Promise<{ clientId: string; clientSecret: string }> {
    const response = await clinic.call(admin, 'POST', base(organizationId), APP);
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json<{ client: { clientId: string }; clientSecret: string }>();
    return { clientId: body.client.clientId, clientSecret: body.clientSecret };
  }

  async function clientRow(clientId: string) {
    const [row] = await clinic.rows('oauth_clients', { client_id: clientId });
    return row;
  }

  it('A12/Z4: an org admin registers a client owned by their organization, and lists only its clients', async () => {
    const { clientId } = await createApp(adminA, orgA);
    const other = await createApp(adminB, orgB);
    expect((await clientRow(clientId))?.owner_organization_id).toBe(orgA);
    const listed = await clinic.call(adminA, 'GET', base(orgA));
    expect(listed.statusCode).toBe(200);
    const ids = listed
      .json<{ clients: Array<{ clientId: string }> }>()
      .clients.map((c) => c.clientId);
    expect(ids).toContain(clientId);
    expect(ids).not.toContain(other.clientId);
    // The owner is the path's organization: the body cannot name another one.
    const elsewhere = await clinic.call(adminA, 'POST', base(orgA), {
      ...APP,
      ownerOrganizationId: orgB,
    });
    expect(elsewhere.statusCode).toBe(400);
  });

  it("A12/Z4: a plain member gets 403, another organization's admin and a machine client nothing", async () => {
    const { clientId } = await createApp(adminA, orgA);
    const machine = await clinic.machineClient(['orgs:members', 'audit:read']);
    const before = await clinic.rows('oauth_clients', { owner_organization_id: orgA });
    for (const [method, url, body] of everyRoute(orgA, clientId)) {
      const asMember = await clinic.call(memberA, method, url, body);
      expect(asMember.statusCode, `member ${method} ${url}`).toBe(403);
      expect(asMember.json<{ code: string }>().code).toBe('FORBIDDEN');
      const asOutsider = await clinic.call(adminB, method, url, body);
      expect(asOutsider.statusCode, `outsider ${method} ${url}`).toBe(404);
      expect((await clinic.call(machine, method, url, body)).statusCode).toBe(403);
      expect((await clinic.call(null, method, url, body)).statusCode).toBe(401);
    }
    expect(await clinic.rows('oauth_clients', { owner_organization_id: orgA })).toEqual(before);
    expect((await clientRow(clientId))?.disabled_at).toBeNull();
  });

  it("A12/Z4: organization B's client, or a platform client, cannot be seen or changed through A's path", async () => {
    // Even by a person who administers both: the path's organization must own the client.
    const both = await clinic.actor(['clinician']);
    await clinic.addMember(orgA, both, 'org_admin');
    await clinic.addMember(orgB, both, 'org_admin');
    const { clientId: clientOfB } = await createApp(adminB, orgB);
    const platformAdmin = await clinic.actor(['admin']);
    const platform = await clinic.call(platformAdmin, 'POST', '/api/admin/oauth-clients', APP);
    const platformClient = platform.json<{ client: { clientId: string } }>().client.clientId;
    for (const clientId of [clientOfB, platformClient]) {
      const before = await clientRow(clientId);
      for (const [method, url, body] of everyRoute(orgA, clientId).slice(2)) {
        const response = await clinic.call(both, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
        expect(response.json<{ code: string }>().code).toBe('NOT_FOUND');
      }
      expect(await clientRow(clientId)).toEqual(before);
      const listed = await clinic.call(both, 'GET', base(orgA));
      expect(listed.body).not.toContain(clientId);
    }
    // Through B's own path the same person manages B's client.
    const disabled = await clinic.call(both, 'POST', `${base(orgB)}/${clientOfB}/disable`, {});
    expect(disabled.statusCode).toBe(200);
  });

  it('A12/Z3: an org admin cannot give a platform-wide scope, nor take the secret of a client holding one', async () => {
    const machine = await clinic.call(adminA, 'POST', base(orgA), {
      name: 'Audit feed',
      scopes: ['audit:read'],
    });
    expect(machine.statusCode).toBe(403);
    expect(await clinic.rows('oauth_clients', { name: 'Audit feed' })).toEqual([]);

    const { clientId: appId } = await createApp(adminA, orgA);
    const widened = await clinic.call(adminA, 'PUT', `${base(orgA)}/${appId}/scopes`, {
      scopes: ['audit:read'],
    });
    expect(widened.statusCode).toBe(403);
    expect((await clientRow(appId))?.scopes).toEqual(['portal:read']);

    // A platform admin's machine client for organization A: its org admin may see and disable
    // it, but never receive its secret (that would hand them audit:read).
    const platformAdmin = await clinic.actor(['admin']);
    const feed = await clinic.call(platformAdmin, 'POST', '/api/admin/oauth-clients', {
      name: 'SIEM of A',
      scopes: ['audit:read'],
      ownerOrganizationId: orgA,
    });
    const feedId = feed.json<{ client: { clientId: string } }>().client.clientId;
    const hash = (await clientRow(feedId))?.secret_sha256;
    const rotated = await clinic.call(adminA, 'POST', `${base(orgA)}/${feedId}/secret`, {});
    expect(rotated.statusCode).toBe(403);
    expect(rotated.body).not.toContain('clientSecret');
    expect((await clientRow(feedId))?.secret_sha256).toBe(hash);
    const listed = await clinic.call(adminA, 'GET', base(orgA));
    expect(listed.body).toContain(feedId);
    const disabled = await clinic.call(adminA, 'POST', `${base(orgA)}/${feedId}/disable`, {});
    expect(disabled.statusCode).toBe(200);
    expect((await clientRow(feedId))?.disabled_at).not.toBeNull();
  });

  it('A12/Z5 step-up: without a fresh MFA check no route of an organization client answers', async () => {
    const { clientId } = await createApp(adminA, orgA);
    const stale = await clinic.actor(['clinician'], { mfa: false });
    await clinic.addMember(orgA, stale, 'org_admin');
    for (const [method, url, body] of everyRoute(orgA, clientId)) {
      const response = await clinic.call(stale, method, url, body);
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json<{ code: string }>().code).toBe('STEP_UP_REQUIRED');
    }
    const row = await clientRow(clientId);
    expect(row?.disabled_at).toBeNull();
    expect(await clinic.rows('oauth_clients', { owner_organization_id: orgA })).not.toContainEqual(
      expect.objectContaining({ created_by: stale.userId }),
    );
  });

  it("A12/Z5 audit: every change through the organization's path is audited as a platform admin's, naming the org admin", async () => {
    const { clientId, clientSecret } = await createApp(adminA, orgA);
    const url = `${base(orgA)}/${clientId}`;
    expect(
      (await clinic.call(adminA, 'PUT', `${url}/scopes`, { scopes: ['portal:read'] })).statusCode,
    ).toBe(200);
    const rotated = await clinic.call(adminA, 'POST', `${url}/secret`, {});
    expect(rotated.statusCode).toBe(200);
    expect(rotated.headers['cache-control']).toBe('no-store');
    const fresh = rotated.json<{ clientSecret: string }>().clientSecret;
    expect(fresh).not.toBe(clientSecret);
    expect((await clinic.call(adminA, 'POST', `${url}/disable`, {})).statusCode).toBe(200);
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
    expect(events[0]?.details).toMatchObject({ organizationId: orgA, kind: 'app' });
    for (const event of events) {
      expect(event).toMatchObject({ actor_type: 'user', actor_id: adminA.userId });
      const text = JSON.stringify(event.details);
      expect(text).not.toContain(clientSecret);
      expect(text).not.toContain(fresh);
    }
  });
});
