// Consent documents and patient consents. Every query carries the organization or the patient
// in its WHERE clause (Z4); a patient's records only ever join documents of its organization.
import { sql } from 'kysely';
import type { ConsentChannel, ConsentKind } from '../../../platform/db/schema.js';
import type { Db } from '../records/repo.js';

/** The highest version of each kind in the organization: the current document of that kind. */
const isCurrentVersion = sql<boolean>`d.version = (
  select max(c.version) from consent_documents c
  where c.organization_id = d.organization_id and c.kind = d.kind)`;

/** Every version of the organization's documents, newest first (or the current ones only). */
export async function selectConsentDocuments(
  db: Db,
  organizationId: string,
  options: { currentOnly?: boolean } = {},
) {
  let query = db
    .selectFrom('consent_documents as d')
    .select([
      'd.id',
      'd.kind',
      'd.version',
      'd.title',
      'd.body',
      'd.required',
      'd.published_at',
      isCurrentVersion.as('current'),
    ])
    .where('d.organization_id', '=', organizationId)
    .orderBy('d.published_at', 'desc')
    .orderBy('d.kind')
    .orderBy('d.version', 'desc');
  if (options.currentOnly) query = query.where(isCurrentVersion);
  return query.execute();
}

export interface ConsentRecordRow {
  id: string;
  document_id: string;
  kind: ConsentKind;
  version: number;
  title: string;
  channel: ConsentChannel;
  given_at: Date;
  withdrawn_at: Date | null;
  current: boolean;
}

/**
 * One patient's consent records, newest first (or just `consentId`). Only documents of the
 * patient's own organization are joined, so a stray row could never show another
 * organization's document.
 */
export async function selectPatientConsents(
  db: Db,
  patientId: string,
  consentId?: string,
): Promise<ConsentRecordRow[]> {
  let query = db
    .selectFrom('patient_consents as pc')
    .innerJoin('patients as p', 'p.id', 'pc.patient_id')
    .innerJoin('consent_documents as d', (join) =>
      join
        .onRef('d.id', '=', 'pc.document_id')
        .onRef('d.organization_id', '=', 'p.organization_id'),
    )
    .select([
      'pc.id',
      'pc.document_id',
      'd.kind',
      'd.version',
      'd.title',
      'pc.channel',
      'pc.given_at',
      'pc.withdrawn_at',
      isCurrentVersion.as('current'),
    ])
    .where('pc.patient_id', '=', patientId);
  if (consentId !== undefined) query = query.where('pc.id', '=', consentId);
  return query.orderBy('pc.given_at', 'desc').orderBy('pc.id', 'desc').execute();
}

/** The organization's current required documents the patient holds no live consent to. */
export async function selectMissingConsents(db: Db, patientId: string, organizationId: string) {
  return db
    .selectFrom('consent_documents as d')
    .select(['d.id', 'd.kind', 'd.version', 'd.title'])
    .where('d.organization_id', '=', organizationId)
    .where('d.required', '=', true)
    .where(isCurrentVersion)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('patient_consents as pc')
            .innerJoin('patients as p', 'p.id', 'pc.patient_id')
            .select(sql`1`.as('one'))
            .whereRef('pc.document_id', '=', 'd.id')
            .where('pc.patient_id', '=', patientId)
            .where('p.organization_id', '=', organizationId)
            .where('pc.withdrawn_at', 'is', null),
        ),
      ),
    )
    .orderBy('d.kind')
    .execute();
}

/** One of the organization's documents and whether it is the current version of its kind. */
export async function selectDocument(db: Db, organizationId: string, documentId: string) {
  return db
    .selectFrom('consent_documents as d')
    .select(['d.id', isCurrentVersion.as('current')])
    .where('d.id', '=', documentId)
    .where('d.organization_id', '=', organizationId)
    .executeTakeFirst();
}

export async function hasLiveConsent(
  db: Db,
  patientId: string,
  documentId: string,
): Promise<boolean> {
  const live = await db
    .selectFrom('patient_consents')
    .select('id')
    .where('patient_id', '=', patientId)
    .where('document_id', '=', documentId)
    .where('withdrawn_at', 'is', null)
    .executeTakeFirst();
  return live !== undefined;
}

export async function insertConsent(
  db: Db,
  values: { patientId: string; documentId: string; channel: ConsentChannel; recordedBy: string },
): Promise<string> {
  const inserted = await db
    .insertInto('patient_consents')
    .values({
      patient_id: values.patientId,
      document_id: values.documentId,
      channel: values.channel,
      recorded_by: values.recordedBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inserted.id;
}

/** The patient's consent, locked until commit; undefined when it is not theirs. */
export async function lockConsent(db: Db, patientId: string, consentId: string) {
  return db
    .selectFrom('patient_consents')
    .select(['id', 'withdrawn_at'])
    .where('id', '=', consentId)
    .where('patient_id', '=', patientId)
    .forUpdate()
    .executeTakeFirst();
}

/** Withdraws the patient's live consent; false when it was no longer live. */
export async function markWithdrawn(
  db: Db,
  patientId: string,
  consentId: string,
  withdrawnBy: string,
): Promise<boolean> {
  const updated = await db
    .updateTable('patient_consents')
    .set({ withdrawn_at: sql<Date>`now()`, withdrawn_by: withdrawnBy })
    .where('id', '=', consentId)
    .where('patient_id', '=', patientId)
    .where('withdrawn_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return updated !== undefined;
}

/** Locks the organization's row: publications in one organization queue on it. */
export async function lockOrganization(db: Db, organizationId: string): Promise<void> {
  await db
    .selectFrom('organizations')
    .select('id')
    .where('id', '=', organizationId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** The highest version of the kind published in the organization; 0 when none is. */
export async function latestDocumentVersion(
  db: Db,
  organizationId: string,
  kind: ConsentKind,
): Promise<number> {
  const previous = await db
    .selectFrom('consent_documents')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('organization_id', '=', organizationId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return Number(previous?.version ?? 0);
}

export async function insertDocument(
  db: Db,
  values: {
    organizationId: string;
    kind: ConsentKind;
    version: number;
    title: string;
    body: string;
    required: boolean;
    publishedBy: string;
  },
): Promise<string> {
  const created = await db
    .insertInto('consent_documents')
    .values({
      organization_id: values.organizationId,
      kind: values.kind,
      version: values.version,
      title: values.title,
      body: values.body,
      required: values.required,
      published_by: values.publishedBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return created.id;
}
