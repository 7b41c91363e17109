// Break-glass threat found by mutation round 8 (Z5): naming the patient by organization and
// MRN must open only that organization's patient. MRNs are unique per organization, not across
// the platform, so an MRN of one organization named with another organization's id is no
// patient at all, never the first record anywhere that carries the MRN.
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';

const ENV = { HAVEN_MASTER_KEY: randomBytes(32).toString('base64') };
const REASON = 'Patient unconscious in ER, record needed';

describeClinic('break-glass controls (round 8)', { env: ENV }, (clinic) => {
  it("Z5/wrong record: an MRN named with another organization's id opens nothing (404, audited without the MRN)", async () => {
    const admin = await clinic.actor(['admin']);
    const named = await clinic.organization({ name: 'Named Clinic R8' });
    const holder = await clinic.organization({ name: 'Holder Clinic R8' });
    const patientId = await clinic.patient(holder, { mrn: 'ONLY-HOLDER-8' });

    const res = await clinic.call(admin, 'POST', '/api/break-glass/grants', {
      organizationId: named,
      mrn: 'ONLY-HOLDER-8',
      reason: REASON,
    });
    expect(res.statusCode, res.body).toBe(404);
    expect(res.body).not.toContain(patientId);
    expect(await clinic.rows('break_glass_grants', { patient_id: patientId })).toEqual([]);
    const denied = await clinic.rows('audit_events', {
      action: 'breakglass.denied',
      target_id: named,
    });
    expect(denied).toHaveLength(1);
    expect(JSON.stringify(denied[0]?.details)).not.toContain('ONLY-HOLDER-8');

    // The same MRN with its own organization's id opens exactly that record.
    const own = await clinic.call(admin, 'POST', '/api/break-glass/grants', {
      organizationId: holder,
      mrn: 'ONLY-HOLDER-8',
      reason: REASON,
    });
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json<{ grant: { patientId: string } }>().grant.patientId).toBe(patientId);
  });
});
