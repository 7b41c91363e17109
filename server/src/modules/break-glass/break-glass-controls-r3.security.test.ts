// Break-glass controls whose removal no test noticed (round 3): a grant is found only for the
// admin holding it, even once it ended (Z5); the picker never lists archived records (Z5); the
// oversight list is audited (L3); the search has its own small body limit (T4); the break-glass
// routes count in the strict sensitive class (R1); the audit page names a file only to a reader
// file access allows (Z4).
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor, type Clinic } from '../../../test/clinical-actors.js';
import { GENEROUS_RATE_LIMITS, archivePatientRow } from '../../../test/actors.js';
import { recordAudit } from '../../platform/audit/audit.js';

const MASTER_KEY = randomBytes(32).toString('base64');
const REASON = 'Patient unconscious in ER, record needed';

interface Grant {
  id: string;
  active: boolean;
}
interface PatientMatch {
  id: string;
}

async function lastSeq(clinic: Clinic): Promise<string> {
  const row = await clinic.db
    .selectFrom('audit_events')
    .select(clinic.db.fn.max('seq').as('max'))
    .executeTakeFirstOrThrow();
  return String(row.max ?? 0);
}
function eventsSince(clinic: Clinic, seq: string) {
  return clinic.db
    .selectFrom('audit_events')
    .select(['action', 'actor_id', 'target_type', 'target_id', 'outcome', 'details'])
    .where('seq', '>', seq)
    .orderBy('seq')
    .execute();
}
async function grantFor(clinic: Clinic, actor: Actor, patientId: string): Promise<Grant> {
  const res = await clinic.call(actor, 'POST', '/api/break-glass/grants', {
    patientId,
    reason: REASON,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ grant: Grant }>().grant;
}

describeClinic(
  'break-glass controls (round 3)',
  { env: { HAVEN_MASTER_KEY: MASTER_KEY } },
  (clinic) => {
    let admin: Actor;
    let otherAdmin: Actor;
    let organizationId: string;
    let patientId: string;

    const readRecord = (actor: Actor, grantId: string) =>
      clinic.call(actor, 'GET', `/api/break-glass/grants/${grantId}/record`);
    const search = (actor: Actor, query: string) =>
      clinic.call(actor, 'POST', '/api/break-glass/patients/search', { query });

    beforeAll(async () => {
      admin = await clinic.actor(['admin'], { displayName: 'Alex Admin' });
      otherAdmin = await clinic.actor(['admin'], { displayName: 'Sam Admin' });
      organizationId = await clinic.organization({ name: 'Harbor Clinic' });
      ({ patientId } = await clinic.portalPatient(organizationId, {
        mrn: 'R3-100',
        givenName: 'Jordan',
        familyName: 'Quill',
      }));
    });

    it("Z5/grant-held-by-caller: another admin's revoked or expired grant answers 404 like a missing one, not 403, and nothing is audited", async () => {
      const revoked = await grantFor(clinic, admin, patientId);
      const revoke = await clinic.call(
        admin,
        'POST',
        `/api/admin/break-glass/grants/${revoked.id}/revoke`,
        {},
      );
      expect(revoke.statusCode, revoke.body).toBe(200);
      const expired = await grantFor(clinic, admin, patientId);
      await clinic.db
        .updateTable('break_glass_grants')
        .set({ expires_at: new Date(Date.now() - 60_000) })
        .where('id', '=', expired.id)
        .execute();
      const missing = await readRecord(otherAdmin, randomUUID());
      expect(missing.statusCode).toBe(404);
      for (const grant of [revoked, expired]) {
        const since = await lastSeq(clinic);
        const res = await readRecord(otherAdmin, grant.id);
        expect(res.statusCode, res.body).toBe(404);
        expect(res.json()).toEqual({ ...missing.json(), requestId: res.json().requestId });
        expect(await eventsSince(clinic, since)).toEqual([]);
        // The holder learns that their own grant ended.
        const own = await readRecord(admin, grant.id);
        expect(own.statusCode).toBe(403);
        expect(own.json().code).toBe('BREAK_GLASS_INACTIVE');
      }
    });

    it('Z5/search-archived: an archived record is never listed by the break-glass search, whatever its name', async () => {
      const archived = await clinic.patient(organizationId, {
        givenName: 'Abel',
        familyName: 'Archwright',
        mrn: 'R3-ARCH',
      });
      const live = await clinic.patient(organizationId, {
        givenName: 'Zed',
        familyName: 'Archwright',
      });
      await archivePatientRow(clinic.db, archived);
      const since = await lastSeq(clinic);
      for (const query of ['Archwright', 'Archwright Abel', 'R3-ARCH']) {
        const res = await search(admin, query);
        expect(res.statusCode, res.body).toBe(200);
        const ids = res.json<{ patients: PatientMatch[] }>().patients.map((p) => p.id);
        expect(ids, query).not.toContain(archived);
        if (query === 'Archwright') expect(ids).toEqual([live]);
      }
      // Nor is it named in the audit trail of the listings.
      expect(JSON.stringify(await eventsSince(clinic, since))).not.toContain(archived);
    });

    it('L3/break-glass-list-audited: listing the grants is itself an audit event of the admin who looked', async () => {
      await grantFor(clinic, admin, patientId);
      for (const [query, active] of [
        ['', null],
        ['?active=true', true],
      ] as const) {
        const since = await lastSeq(clinic);
        const res = await clinic.call(otherAdmin, 'GET', `/api/admin/break-glass/grants${query}`);
        expect(res.statusCode, res.body).toBe(200);
        const count = res.json<{ grants: Grant[] }>().grants.length;
        expect(count).toBeGreaterThan(0);
        expect(await eventsSince(clinic, since)).toEqual([
          expect.objectContaining({
            action: 'breakglass.listed',
            actor_id: otherAdmin.userId,
            outcome: 'success',
            details: expect.objectContaining({ count, active }),
          }),
        ]);
      }
    });

    it('T4/break-glass-search-body-limit: a search body over 1 KiB is refused with 413 before it is parsed or audited', async () => {
      const bodyOf = (bytes: number) => {
        const json = JSON.stringify({ query: 'Quill' });
        return `${json.slice(0, -1)}${' '.repeat(bytes - json.length)}}`;
      };
      const send = (bytes: number) =>
        clinic.app.inject({
          method: 'POST',
          url: '/api/break-glass/patients/search',
          headers: { authorization: admin.authorization, 'content-type': 'application/json' },
          payload: bodyOf(bytes),
        });
      const atLimit = await send(1024);
      expect(atLimit.statusCode, atLimit.body).toBe(200);
      const since = await lastSeq(clinic);
      const over = await send(4096);
      expect(over.statusCode, over.body).toBe(413);
      expect(over.json().code).toBe('PAYLOAD_TOO_LARGE');
      expect(await eventsSince(clinic, since)).toEqual([]);
    });

    it('Z4/audit-names-file: the audit page names a patient file only to a reader file access allows', async () => {
      const uploader = await clinic.actor(['clinician'], { displayName: 'Uma Uploader' });
      await clinic.addMember(organizationId, uploader, 'clinician');
      const sessionId = randomUUID();
      await clinic.db
        .insertInto('upload_sessions')
        .values({
          id: sessionId,
          owner_id: uploader.userId,
          patient_id: patientId,
          organization_id: organizationId,
          protocol: 'tus',
          object_key: `uploads/${sessionId}`,
          storage_upload_id: `r3-${sessionId}`,
          file_name: 'quill-biopsy-result.pdf',
          file_type: 'pdf',
          content_type: 'application/pdf',
          declared_size: 10,
          received_bytes: 10,
          status: 'completed',
          expires_at: new Date(Date.now() + 3_600_000),
          closed_at: new Date(),
        })
        .execute();
      const file = await clinic.db
        .insertInto('files')
        .values({
          session_id: sessionId,
          owner_id: uploader.userId,
          patient_id: patientId,
          organization_id: organizationId,
          bucket: 'default',
          object_key: `uploads/${sessionId}`,
          name: 'quill-biopsy-result.pdf',
          file_type: 'pdf',
          content_type: 'application/pdf',
          size: 10,
          status: 'clean',
          scanned_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await recordAudit(clinic.db, {
        actor: { type: 'user', id: uploader.userId },
        action: 'fixture.file-viewed',
        target: { type: 'file', id: file.id },
        outcome: 'success',
      });
      const namesFor = async (reader: Actor) => {
        const res = await clinic.call(reader, 'GET', `/api/admin/audit-events?targetId=${file.id}`);
        expect(res.statusCode, res.body).toBe(200);
        return {
          body: res.body,
          names: res
            .json<{ events: Array<{ targetName?: string | null }> }>()
            .events.map((e) => e.targetName),
        };
      };
      // An auditor with no relationship to the file reads only the clinic.
      const outsider = await namesFor(admin);
      expect(outsider.names).toEqual(['A file at Harbor Clinic']);
      expect(outsider.body).not.toContain('biopsy');
      // Its owner, auditing too, reads the file's name: an uploader of a record's file is its owner
      // while still staff of the record's organization, and as staff they may name its patient.
      const auditingUploader = await clinic.actor(['admin', 'clinician'], {
        displayName: 'Ola Owner',
      });
      await clinic.addMember(organizationId, auditingUploader, 'clinician');
      await clinic.db
        .updateTable('files')
        .set({ owner_id: auditingUploader.userId })
        .where('id', '=', file.id)
        .execute();
      const owner = await namesFor(auditingUploader);
      expect(owner.names).toEqual(['quill-biopsy-result.pdf (Jordan Quill)']);
    });
  },
);

describeClinic(
  'break-glass rate class (round 3)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_MASTER_KEY: MASTER_KEY, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    let admin: Actor;
    let patientId: string;

    const from = (remoteAddress: string, method: 'GET' | 'POST', url: string, payload?: object) =>
      clinic.app.inject({
        method,
        url,
        remoteAddress,
        headers: { authorization: admin.authorization },
        ...(payload === undefined ? {} : { payload }),
      });

    beforeAll(async () => {
      admin = await clinic.actor(['admin']);
      const organizationId = await clinic.organization();
      patientId = await clinic.patient(organizationId, {
        givenName: 'Rita',
        familyName: 'Ratecap',
      });
    });

    it('R1/break-glass-sensitive-class: the break-glass search and record reads count in the strict sensitive class', async () => {
      const searches: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await from('203.0.113.10', 'POST', '/api/break-glass/patients/search', {
          query: 'Ratecap',
        });
        searches.push(res.statusCode);
      }
      expect(searches).toEqual([200, 200, 429]);

      const granted = await from('203.0.113.20', 'POST', '/api/break-glass/grants', {
        patientId,
        reason: REASON,
      });
      expect(granted.statusCode, granted.body).toBe(201);
      const grantId = granted.json<{ grant: Grant }>().grant.id;
      const reads: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await from('203.0.113.30', 'GET', `/api/break-glass/grants/${grantId}/record`);
        reads.push(res.statusCode);
      }
      expect(reads).toEqual([200, 200, 429]);
    });
  },
);
