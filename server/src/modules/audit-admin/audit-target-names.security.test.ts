// Z4 and L3 on the audit page's target names: the log names people and things instead of
// UUIDs, but a patient's name is health data. Threats: an auditor with no relationship to a
// patient reading their name off the log; a grant that ended still naming the patient; a name
// shown without the search's audit record saying so.
import { randomBytes } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { recordAudit } from '../../platform/audit/audit.js';

const REASON = 'Unconscious patient, emergency department, next of kin unreachable';

interface Entry {
  targetType: string | null;
  targetId: string | null;
  targetName?: string | null;
}

describeClinic(
  'audit target names',
  { env: { HAVEN_MASTER_KEY: randomBytes(32).toString('base64') } },
  (clinic) => {
    let auditor: Actor;
    let organizationId: string;
    let patientId: string;
    let worker: Actor;

    /** The names the auditor reads for every event about the patient, the worker and the clinic. */
    async function namesSeenBy(reader: Actor): Promise<Map<string, string | null | undefined>> {
      const names = new Map<string, string | null | undefined>();
      for (const id of [patientId, worker.userId, organizationId]) {
        const res = await clinic.call(reader, 'GET', `/api/admin/audit-events?targetId=${id}`);
        expect(res.statusCode, res.body).toBe(200);
        for (const e of res.json<{ events: Entry[] }>().events) {
          names.set(`${e.targetType}`, e.targetName);
        }
      }
      return names;
    }

    async function lastSearchDetails(reader: Actor) {
      const row = await clinic.db
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'audit.searched')
        .where('actor_id', '=', reader.userId)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      return row.details;
    }

    beforeAll(async () => {
      auditor = await clinic.actor(['admin'], { displayName: 'Avery Auditor' });
      worker = await clinic.actor(['clinician'], { displayName: 'Casey Worker' });
      organizationId = await clinic.organization({
        name: 'Harbor Clinic',
        members: [[worker, 'clinician']],
      });
      patientId = await clinic.patient(organizationId, { givenName: 'Ada', familyName: 'Quill' });
      const by = { type: 'user', id: worker.userId } as const;
      await recordAudit(clinic.db, {
        actor: by,
        action: 'fixture.viewed',
        target: { type: 'patient', id: patientId },
        outcome: 'success',
      });
      await recordAudit(clinic.db, {
        actor: by,
        action: 'fixture.changed',
        target: { type: 'user', id: worker.userId },
        outcome: 'success',
      });
      await recordAudit(clinic.db, {
        actor: by,
        action: 'fixture.joined',
        target: { type: 'organization', id: organizationId },
        outcome: 'success',
      });
    });

    it('Z4/audit-names-patient: an auditor with no relationship reads the clinic, never the patient name', async () => {
      const names = await namesSeenBy(auditor);
      expect(names.get('patient')).toBe('A patient at Harbor Clinic');
      // Accounts and organizations are named for every auditor.
      expect(names.get('user')).toBe('Casey Worker');
      expect(names.get('organization')).toBe('Harbor Clinic');
      const res = await clinic.call(
        auditor,
        'GET',
        `/api/admin/audit-events?targetId=${patientId}`,
      );
      expect(res.body).not.toContain('Quill');
      expect((await lastSearchDetails(auditor)).patientsShown).toBe(0);
    });

    it('Z4/audit-names-patient: staff of the patient’s clinic who audit read the name, and the search records it', async () => {
      const staffAuditor = await clinic.actor(['admin', 'clinician'], {
        displayName: 'Sam Staff-Auditor',
      });
      await clinic.addMember(organizationId, staffAuditor, 'clinician');
      const chosen = await clinic.call(staffAuditor, 'PUT', '/api/organizations/active', {
        organizationId,
      });
      expect(chosen.statusCode, chosen.body).toBe(200);
      expect((await namesSeenBy(staffAuditor)).get('patient')).toBe('Ada Quill');
      const res = await clinic.call(
        staffAuditor,
        'GET',
        `/api/admin/audit-events?targetId=${patientId}`,
      );
      expect(res.json<{ events: Entry[] }>().events[0]?.targetName).toBe('Ada Quill');
      expect((await lastSearchDetails(staffAuditor)).patientsShown).toBe(1);
    });

    it('Z4/audit-names-grant: an auditor’s own live grant names the patient; once revoked it no longer does', async () => {
      const responder = await clinic.actor(['admin'], { displayName: 'Robin Responder' });
      const granted = await clinic.call(responder, 'POST', '/api/break-glass/grants', {
        patientId,
        reason: REASON,
      });
      expect(granted.statusCode, granted.body).toBe(201);
      const grantId = granted.json<{ grant: { id: string } }>().grant.id;
      expect((await namesSeenBy(responder)).get('patient')).toBe('Ada Quill');
      // An event about the grant itself names it by the patient, with the same rule.
      await recordAudit(clinic.db, {
        actor: { type: 'system' },
        action: 'fixture.grant-checked',
        target: { type: 'break_glass_grant', id: grantId },
        outcome: 'success',
      });
      const grantNames = async (reader: Actor) => {
        const res = await clinic.call(reader, 'GET', `/api/admin/audit-events?targetId=${grantId}`);
        return res.json<{ events: Entry[] }>().events.map((e) => e.targetName);
      };
      expect(await grantNames(responder)).toEqual(['Emergency access to Ada Quill']);
      expect(await grantNames(auditor)).toEqual(['Emergency access to a patient at Harbor Clinic']);
      // Another admin, without a grant of their own, still reads only the clinic.
      expect((await namesSeenBy(auditor)).get('patient')).toBe('A patient at Harbor Clinic');

      const revoked = await clinic.call(
        responder,
        'POST',
        `/api/admin/break-glass/grants/${grantId}/revoke`,
        {},
      );
      expect(revoked.statusCode, revoked.body).toBe(200);
      expect((await namesSeenBy(responder)).get('patient')).toBe('A patient at Harbor Clinic');
    });
  },
);
