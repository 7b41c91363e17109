// The caller's recent patient views, read from the audit log Haven already keeps (L3): every
// opening of a record is a `patient.read` event naming the reader and the patient. Only the
// caller's own events count, and only patients of the given organization are returned.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/** How far back views count: older ones are not "recent". */
const WINDOW_DAYS = 90;

export interface RecentPatientRow {
  id: string;
  mrn: string;
  given_name: string;
  family_name: string;
  archived_at: Date | null;
  viewed_at: Date;
}

/**
 * The patients of `organizationId` that `userId` opened most recently, newest first, each once.
 * Views under a break-glass grant are left out: they are not the reader's own patients.
 */
export async function selectRecentPatients(
  db: Db,
  userId: string,
  organizationId: string,
  now: Date,
  limit: number,
): Promise<RecentPatientRow[]> {
  const since = new Date(now.getTime() - WINDOW_DAYS * 86_400_000);
  const views = db
    .selectFrom('audit_events')
    .select(['target_id'])
    .select((eb) => [eb.fn.max('occurred_at').as('viewed_at'), eb.fn.max('seq').as('last_seq')])
    .where('actor_type', '=', 'user')
    .where('actor_id', '=', userId)
    .where('occurred_at', '>=', since)
    .where('action', '=', 'patient.read')
    .where('target_type', '=', 'patient')
    .where('outcome', '=', 'success')
    .where(sql<boolean>`details ->> 'grantId' IS NULL`)
    .groupBy('target_id')
    .as('views');
  return (
    db
      .selectFrom(views)
      .innerJoin('patients', (join) => join.on(sql<boolean>`patients.id::text = views.target_id`))
      .select([
        'patients.id',
        'patients.mrn',
        'patients.given_name',
        'patients.family_name',
        'patients.archived_at',
        'views.viewed_at',
      ])
      .where('patients.organization_id', '=', organizationId)
      // The sequence orders views exactly, even two within one millisecond.
      .orderBy('views.last_seq', 'desc')
      .limit(limit)
      .execute()
  );
}
