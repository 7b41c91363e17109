// Organization isolation (Z4) for a person who belongs to two organizations: what the
// administrator of one does to the membership there must not reach the other organization's
// membership, and one organization's member list names only its own members.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import {
  callAs,
  createActor,
  createOrganization,
  memberRoleOf,
  type Actor,
} from '../../../test/actors.js';

const ENV = {
  HAVEN_RATE_READ: '10000/60',
  HAVEN_RATE_WRITE: '10000/60',
  HAVEN_RATE_SENSITIVE: '10000/60',
};

describeEachEngine('organizations controls (r3)', (engine) => {
  let node: TestApp;
  let adminOfA: Actor;
  let adminOfB: Actor;
  let orgA: string;
  let orgB: string;
  const db = () => node.database.db;

  const roleOf = (organizationId: string, userId: string) =>
    memberRoleOf(db(), organizationId, userId);

  /** A clinician who is a plain member of both A and B. */
  async function sharedMember(): Promise<Actor> {
    const person = await createActor(node.app, ['clinician']);
    for (const organizationId of [orgA, orgB]) {
      await db()
        .insertInto('organization_members')
        .values({ organization_id: organizationId, user_id: person.userId, role: 'clinician' })
        .execute();
    }
    return person;
  }

  beforeAll(async () => {
    node = await createTestApp(engine, { env: ENV });
    adminOfA = await createActor(node.app, ['clinician']);
    adminOfB = await createActor(node.app, ['clinician']);
    orgA = await createOrganization(db(), {
      members: [{ userId: adminOfA.userId, role: 'org_admin' }],
    });
    orgB = await createOrganization(db(), {
      members: [{ userId: adminOfB.userId, role: 'org_admin' }],
    });
  });
  afterAll(async () => {
    await node.close();
  });

  it("Z4/cross-organization: A's administrator promoting a shared member changes the role in A only", async () => {
    const person = await sharedMember();
    const response = await callAs(
      node.app,
      adminOfA,
      'PUT',
      `/api/organizations/${orgA}/members/${person.userId}`,
      { role: 'org_admin' },
    );
    expect(response.statusCode).toBe(200);
    expect(await roleOf(orgA, person.userId)).toBe('org_admin');
    // B's administration stays with B: the person does not become an administrator there.
    expect(await roleOf(orgB, person.userId)).toBe('clinician');
    expect(await roleOf(orgB, adminOfB.userId)).toBe('org_admin');
  });

  it("Z4/cross-organization: A's administrator removing a shared member leaves the membership in B", async () => {
    const person = await sharedMember();
    const response = await callAs(
      node.app,
      adminOfA,
      'DELETE',
      `/api/organizations/${orgA}/members/${person.userId}`,
    );
    expect(response.statusCode).toBe(204);
    expect(await roleOf(orgA, person.userId)).toBeUndefined();
    expect(await roleOf(orgB, person.userId)).toBe('clinician');
  });

  it("Z4/cross-organization: an organization's member list names its own members only", async () => {
    const response = await callAs(node.app, adminOfA, 'GET', `/api/organizations/${orgA}/members`);
    expect(response.statusCode).toBe(200);
    const { members } = response.json<{ members: Array<{ userId: string }> }>();
    const ids = members.map((m) => m.userId);
    expect(ids).toContain(adminOfA.userId);
    expect(ids).not.toContain(adminOfB.userId);
    expect(response.body).not.toContain(adminOfB.email);
  });
});
