// OAuth threats found by mutation round 8 (A12), proven at the queries that decide them, since
// the flows that reach them (a reconnect after a disconnect, a code exchange racing a disable)
// end early in every other layer today:
// - a token of a grant that was disconnected must stay dead when the person connects the same
//   app again (the new grant is another grant, not a revival of the old one);
// - an app is never handed a code or token for an account that is not active.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeClinic } from '../../../test/clinical-actors.js';
import { delegatedTokenState, isActiveUser } from './grants-repo.js';

describeClinic('OAuth controls (round 8)', (clinic) => {
  async function appWithGrant(accountId: string) {
    const clientId = `r8-app-${randomUUID()}`;
    await clinic.db
      .insertInto('oauth_clients')
      .values({
        client_id: clientId,
        name: 'Round 8 app',
        owner_organization_id: null,
        scopes: ['portal:read'],
        secret_sha256: null,
        kind: 'app',
        redirect_uris: ['https://app.example/callback'],
        public_client: true,
        disabled_at: null,
        created_by: accountId,
      })
      .execute();
    const grantId = randomUUID();
    await clinic.db
      .insertInto('oauth_payloads')
      .values({
        model: 'Grant',
        id: grantId,
        payload: JSON.stringify({ clientId, accountId }),
        grant_id: null,
        user_code: null,
        uid: null,
        account_id: accountId,
        expires_at: new Date(Date.now() + 3_600_000),
        consumed_at: null,
      })
      .execute();
    return { clientId, grantId };
  }

  it('A12/revival: a token naming a disconnected grant is refused although the person has a live grant for the same app', async () => {
    const person = await clinic.actor(['patient']);
    const { clientId, grantId } = await appWithGrant(person.userId);
    const token = { clientId, accountId: person.userId, jti: randomUUID() };
    // The live grant's own token passes: the check is not simply closed.
    expect(await delegatedTokenState(clinic.db, { ...token, grantId }, new Date())).toEqual([
      'patient',
    ]);
    // The grant the old token names is gone (disconnected); the live one is another grant.
    const disconnected = randomUUID();
    expect(
      await delegatedTokenState(clinic.db, { ...token, grantId: disconnected }, new Date()),
    ).toBeUndefined();
  });

  it('A12/disabled account: an account that is not active gets no code and no token', async () => {
    const active = await clinic.actor(['patient']);
    const disabled = await clinic.actor(['patient']);
    await clinic.db
      .updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', disabled.userId)
      .execute();
    expect(await isActiveUser(clinic.db, active.userId)).toBe(true);
    expect(await isActiveUser(clinic.db, disabled.userId)).toBe(false);
    expect(await isActiveUser(clinic.db, randomUUID())).toBe(false);
  });
});
