// Portal controls a seventh mutation hunt found no test for (R1): the account export, which
// carries the whole record, every session and the access log out in one answer, counts in the
// strict sensitive rate class, not the lenient read one.
import { expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic } from '../../../test/clinical-actors.js';

describeClinic(
  'portal rate classes (round 7)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    it('R1 — the account export counts in the strict sensitive class: the third export in the window is 429', async () => {
      const organizationId = await clinic.organization();
      const { patient } = await clinic.portalPatient(organizationId);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await clinic.app.inject({
          method: 'GET',
          url: '/api/account/export',
          remoteAddress: '203.0.113.76',
          headers: { authorization: patient.authorization },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([200, 200, 429]);
    });
  },
);
