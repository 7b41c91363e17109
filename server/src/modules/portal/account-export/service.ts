// The signed-in user's own data, in one download (every role): the account, its live sessions
// and, for a patient with a linked record, what the portal shows of that record. Every query is
// keyed on the caller's own user id or the record linked to it, so the export can hold nothing
// of another user or patient beyond the display names of staff who wrote notes or read the record.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { auditPhi, requireUser } from '../../../platform/access/index.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { IdentityApi } from '../../identity/index.js';
import { listPatientConsents } from '../../patients/index.js';
import { listSharedNotes, loadPatientRecordView } from '../repo.js';
import { ACCESS_LOG_MAX_LIMIT, type AccessEntry } from '../schemas.js';
import { listAccessLog } from '../service.js';
import { findAccount, findLinkedPatientId } from './repo.js';
import type { AccountExport, PatientExport } from './schemas.js';

type Db = Kysely<DatabaseSchema>;

/** The whole access list, every page of it: the export is complete, never cut short. */
async function completeAccessLog(db: Db, patientId: string): Promise<AccessEntry[]> {
  const entries: AccessEntry[] = [];
  let before: string | undefined;
  do {
    const page = await listAccessLog(db, patientId, { before, limit: ACCESS_LOG_MAX_LIMIT });
    entries.push(...page.entries);
    before = page.nextBefore ?? undefined;
  } while (before !== undefined);
  return entries;
}

async function exportPatient(db: Db, patientId: string): Promise<PatientExport> {
  const record = await loadPatientRecordView(db, patientId);
  if (!record) throw new HavenError('NOT_FOUND');
  const accessLog = await completeAccessLog(db, patientId);
  return {
    record,
    consents: await listPatientConsents(db, patientId),
    notes: await listSharedNotes(db, patientId, { complete: true }),
    accessLog,
  };
}

/** Everything of the caller's own, in one transaction; audited, and as a PHI export if a record. */
export async function exportAccount(
  ctx: ModuleContext,
  identity: Pick<IdentityApi, 'listUserSessions'>,
  request: FastifyRequest,
): Promise<AccountExport> {
  const { userId } = requireUser(request);
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    const user = await findAccount(trx, userId);
    if (!user) throw new HavenError('UNAUTHENTICATED');
    const sessions = await identity.listUserSessions(trx, userId, now);
    const linkedId = await findLinkedPatientId(trx, userId);
    const patient = linkedId === undefined ? null : await exportPatient(trx, linkedId);
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'account.exported',
      target: { type: 'user', id: userId },
      details: { patientIncluded: patient !== null, sessions: sessions.length },
    });
    if (patient && linkedId !== undefined) {
      await auditPhi(trx, request, {
        action: 'patient.exported',
        patientId: linkedId,
        details: {
          consents: patient.consents.length,
          notes: patient.notes.length,
          accessEntries: patient.accessLog.length,
        },
      });
    }
    return {
      exportedAt: now.toISOString(),
      account: {
        id: user.id,
        email: user.email,
        displayName: user.display_name,
        roles: user.roles,
        createdAt: user.created_at.toISOString(),
        mfaEnrolled: user.totp_enrolled_at !== null,
      },
      sessions: sessions.map((s) => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        userAgent: s.userAgent,
      })),
      patient,
    };
  });
}
