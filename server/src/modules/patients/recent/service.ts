// The caller's recent patients (Z4, L3): requireAccess names the active organization first, only
// its patients and only the caller's own views are listed, and the listing is one batched PHI
// audit event naming the patients shown, as a search page is.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Static } from 'typebox';
import { auditPhiBatch, requireAccess } from '../../../platform/access/index.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { selectRecentPatients } from './repo.js';
import { RECENT_PATIENTS_MAX, type RecentPatients } from './schemas.js';

export async function listRecentPatients(
  db: Kysely<DatabaseSchema>,
  request: FastifyRequest,
  now: Date,
): Promise<Static<typeof RecentPatients>> {
  return db.transaction().execute(async (trx) => {
    const { organizationId, userId } = await requireAccess(
      trx,
      request,
      'organization:list_patients',
      {},
    );
    const rows = await selectRecentPatients(trx, userId, organizationId, now, RECENT_PATIENTS_MAX);
    await auditPhiBatch(trx, request, {
      action: 'patient.listed',
      patientIds: rows.map((row) => row.id),
      organizationId,
      details: { list: 'recent' },
    });
    return {
      patients: rows.map((row) => ({
        id: row.id,
        mrn: row.mrn,
        givenName: row.given_name,
        familyName: row.family_name,
        archived: row.archived_at !== null,
        viewedAt: new Date(row.viewed_at).toISOString(),
      })),
    };
  });
}
