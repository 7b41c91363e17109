// Audit-admin controls a seventh mutation hunt found no test for (R1): the CSV export (up to the
// whole audit log in one answer) and the verification of the audit chain (a scan of the whole
// log) count in the strict sensitive rate class, not the lenient read one.
import { expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';

describeClinic(
  'audit admin rate classes (round 7)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    async function threeTimes(
      admin: Actor,
      remoteAddress: string,
      method: 'GET' | 'POST',
      url: string,
    ): Promise<number[]> {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await clinic.app.inject({
          method,
          url,
          remoteAddress,
          headers: { authorization: admin.authorization },
          ...(method === 'POST' ? { payload: {} } : {}),
        });
        statuses.push(res.statusCode);
      }
      return statuses;
    }

    it('R1 — the audit CSV export counts in the strict sensitive class: the third export in the window is 429', async () => {
      const admin = await clinic.actor(['admin']);
      expect(
        await threeTimes(admin, '203.0.113.77', 'GET', '/api/admin/audit-events/export.csv'),
      ).toEqual([200, 200, 429]);
    });

    it('R1 — verifying the audit chain counts in the strict sensitive class: the third check in the window is 429', async () => {
      const admin = await clinic.actor(['admin']);
      const statuses = await threeTimes(
        admin,
        '203.0.113.78',
        'POST',
        '/api/admin/audit-log/verify',
      );
      // Whatever a check finds, the third one is refused before it scans anything.
      expect(statuses[2], JSON.stringify(statuses)).toBe(429);
      expect(statuses.slice(0, 2), JSON.stringify(statuses)).not.toContain(429);
    });
  },
);
