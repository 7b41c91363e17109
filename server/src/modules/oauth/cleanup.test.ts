// A13: the OAuth cleanup removes expired artifacts and revoked-token ids only, and its job is
// scheduled with the others.
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { createUser } from '../../../test/actors.js';
import { describeEachEngine, useTestDatabase } from '../../../test/databases.js';
import { jobHandlers, jobSchedules } from '../../jobs/registry.js';
import { testAuditSealing } from '../../../test/audit-chain.js';
import { OAUTH_EXPIRY_GRACE_MS, purgeExpiredOAuthRecords } from './cleanup-repo.js';

const NOW = new Date('2030-01-01T12:00:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const MIN = 60_000;

describeEachEngine('A13 OAuth cleanup', (engine) => {
  const database = useTestDatabase(engine);
  let clientId: string;

  beforeAll(async () => {
    const admin = await createUser(database.db, { roles: ['admin'] });
    clientId = 'cleanupclient0000001';
    await database.db
      .insertInto('oauth_clients')
      .values({
        client_id: clientId,
        name: 'Cleanup probe',
        scopes: ['audit:read'],
        secret_sha256: '0'.repeat(64),
        created_by: admin.userId,
      })
      .execute();
  });

  async function artifact(id: string, expiresAt: Date | null): Promise<void> {
    await database.db
      .insertInto('oauth_payloads')
      .values({
        model: 'RefreshToken',
        id,
        payload: JSON.stringify({ jti: id }),
        grant_id: null,
        user_code: null,
        uid: null,
        expires_at: expiresAt,
      })
      .execute();
  }

  async function revoked(jti: string, expiresAt: Date): Promise<void> {
    await database.db
      .insertInto('oauth_revoked_access_tokens')
      .values({ jti, client_id: clientId, expires_at: expiresAt })
      .execute();
  }

  it('A13: expired OAuth artifacts and revoked-token ids go; live and recently expired ones stay', async () => {
    await artifact('long-expired', at(-OAUTH_EXPIRY_GRACE_MS - MIN));
    await artifact('just-expired', at(-MIN));
    await artifact('live', at(10 * MIN));
    await artifact('no-expiry', null);
    await revoked('old-jti', at(-OAUTH_EXPIRY_GRACE_MS - MIN));
    await revoked('fresh-jti', at(2 * MIN));

    expect(await purgeExpiredOAuthRecords(database.db, NOW)).toEqual({
      artifacts: 1,
      revokedTokens: 1,
    });
    const ids = (await database.db.selectFrom('oauth_payloads').select('id').execute())
      .map((row) => row.id)
      .sort();
    expect(ids).toEqual(['just-expired', 'live', 'no-expiry']);
    const jtis = (
      await database.db.selectFrom('oauth_revoked_access_tokens').select('jti').execute()
    ).map((row) => row.jti);
    expect(jtis).toEqual(['fresh-jti']);
    // A rerun finds nothing more to do.
    expect(await purgeExpiredOAuthRecords(database.db, NOW)).toEqual({
      artifacts: 0,
      revokedTokens: 0,
    });
  });

  it('A13: runs as the oauth.cleanup job every 10 minutes', async () => {
    expect(jobSchedules()).toContainEqual({ queue: 'oauth.cleanup', everyMs: 10 * MIN });
    await artifact('expired-for-the-job', new Date(Date.now() - OAUTH_EXPIRY_GRACE_MS - MIN));
    const handler = jobHandlers(testAuditSealing())['oauth.cleanup'];
    expect(handler).toBeDefined();
    // The job runs on the real clock, long after this test's NOW.
    await handler!(
      {},
      { jobId: 'test', attempt: 1, db: database.db, log: pino({ level: 'silent' }) },
    );
    const left = await database.db
      .selectFrom('oauth_payloads')
      .select('id')
      .where('id', '=', 'expired-for-the-job')
      .execute();
    expect(left).toEqual([]);
  });
});
