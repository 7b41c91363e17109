// Consent documents, a patient's consent records and the consent gate. Shared by the staff
// routes (patients module), the patient portal and break-glass, so these functions know nothing
// of requests: callers pass their transaction, scope the patient first and write their own PHI
// audit event. Every query still carries the organization or patient id in its WHERE clause (Z4).
import { sql, type Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import type { ConsentChannel, ConsentKind, DatabaseSchema } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { isUniqueViolation } from '../../platform/db/sql-text.js';

type Db = Kysely<DatabaseSchema>;

export const CONSENT_KINDS = ['hipaa_notice', 'terms', 'treatment', 'research'] as const;
export const ConsentKindSchema = Type.Union([
  Type.Literal('hipaa_notice'),
  Type.Literal('terms'),
  Type.Literal('treatment'),
  Type.Literal('research'),
]);
export const ConsentChannelSchema = Type.Union([
  Type.Literal('portal'),
  Type.Literal('in_person'),
  Type.Literal('paper'),
  Type.Literal('phone'),
]);

export const ConsentDocumentSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    kind: ConsentKindSchema,
    version: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: 200 }),
    body: Type.String({ maxLength: 20000 }),
    required: Type.Boolean(),
    publishedAt: Type.String({ maxLength: 40 }),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ConsentDocumentView = Static<typeof ConsentDocumentSchema>;

export const ConsentRecordSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    documentId: Type.String({ maxLength: 36 }),
    kind: ConsentKindSchema,
    version: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: 200 }),
    channel: ConsentChannelSchema,
    givenAt: Type.String({ maxLength: 40 }),
    withdrawnAt: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ConsentRecordView = Static<typeof ConsentRecordSchema>;

export const ConsentGateSchema = Type.Object(
  {
    satisfied: Type.Boolean(),
    missing: Type.Array(
      Type.Object(
        {
          documentId: Type.String({ maxLength: 36 }),
          kind: ConsentKindSchema,
          version: Type.Integer({ minimum: 1 }),
          title: Type.String({ maxLength: 200 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: CONSENT_KINDS.length },
    ),
  },
  { additionalProperties: false },
);
export type ConsentGateView = Static<typeof ConsentGateSchema>;

/** The highest version of each kind in the organization: the current document of that kind. */
const isCurrentVersion = sql<boolean>`d.version = (
  select max(c.version) from consent_documents c
  where c.organization_id = d.organization_id and c.kind = d.kind)`;

/** Every version of the organization's consent documents, newest first (or current ones only). */
export async function listConsentDocuments(
  db: Db,
  organizationId: string,
  options: { currentOnly?: boolean } = {},
): Promise<ConsentDocumentView[]> {
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
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    version: row.version,
    title: row.title,
    body: row.body,
    required: row.required,
    publishedAt: row.published_at.toISOString(),
    current: Boolean(row.current),
  }));
}

/**
 * One patient's consent records. Only documents of the patient's own organization are joined,
 * so a stray row could never show another organization's document.
 */
function patientConsentRecords(db: Db, patientId: string) {
  return db
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
}

/** The patient's consent records, newest first, withdrawn ones included. */
export async function listPatientConsents(db: Db, patientId: string): Promise<ConsentRecordView[]> {
  const rows = await patientConsentRecords(db, patientId)
    .orderBy('pc.given_at', 'desc')
    .orderBy('pc.id', 'desc')
    .execute();
  return rows.map(toRecordView);
}

function toRecordView(row: {
  id: string;
  document_id: string;
  kind: ConsentKind;
  version: number;
  title: string;
  channel: ConsentChannel;
  given_at: Date;
  withdrawn_at: Date | null;
  current: boolean;
}): ConsentRecordView {
  return {
    id: row.id,
    documentId: row.document_id,
    kind: row.kind,
    version: row.version,
    title: row.title,
    channel: row.channel,
    givenAt: row.given_at.toISOString(),
    withdrawnAt: row.withdrawn_at ? row.withdrawn_at.toISOString() : null,
    current: Boolean(row.current),
  };
}

/**
 * The consent gate: for every kind whose current (highest) version is required, the patient
 * must hold a live consent to exactly that version. A consent to an older version, or a
 * withdrawn one, does not count; publishing a new required version re-opens the gate.
 */
export async function consentGate(
  db: Db,
  patientId: string,
  organizationId: string,
): Promise<ConsentGateView> {
  const missing = await db
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
  return {
    satisfied: missing.length === 0,
    missing: missing.map((row) => ({
      documentId: row.id,
      kind: row.kind,
      version: row.version,
      title: row.title,
    })),
  };
}

/** 409 CONSENT_REQUIRED, listing each missing document, unless the gate is satisfied. */
export async function requireConsent(
  db: Db,
  patientId: string,
  organizationId: string,
): Promise<void> {
  const gate = await consentGate(db, patientId, organizationId);
  if (gate.satisfied) return;
  throw new HavenError(
    'CONSENT_REQUIRED',
    'The patient has not consented to every required document.',
    {
      errors: gate.missing.map((doc) => ({
        field: `consents.${doc.kind}`,
        message: `Consent to "${doc.title}" version ${doc.version} (document ${doc.documentId}) is required.`,
      })),
    },
  );
}

const notFound = (what: string) => new HavenError('NOT_FOUND', `${what} was not found.`);

/**
 * Records a consent of a patient of `organizationId` to one of that organization's documents.
 * Another organization's patient or document → 404; `currentVersionOnly` (the portal) refuses a
 * superseded version with 409; a live consent to that version already → 409.
 */
export async function recordConsent(
  db: Db,
  input: {
    patientId: string;
    organizationId: string;
    documentId: string;
    channel: ConsentChannel;
    recordedBy: string;
    currentVersionOnly: boolean;
  },
): Promise<ConsentRecordView> {
  const patient = await db
    .selectFrom('patients')
    .select('id')
    .where('id', '=', input.patientId)
    .where('organization_id', '=', input.organizationId)
    .executeTakeFirst();
  if (!patient) throw notFound('The patient');
  const document = await db
    .selectFrom('consent_documents as d')
    .select(['d.id', isCurrentVersion.as('current')])
    .where('d.id', '=', input.documentId)
    .where('d.organization_id', '=', input.organizationId)
    .executeTakeFirst();
  if (!document) throw notFound('The consent document');
  if (input.currentVersionOnly && !document.current) {
    throw new HavenError('CONFLICT', 'A newer version of this document has been published.');
  }
  const live = await db
    .selectFrom('patient_consents')
    .select('id')
    .where('patient_id', '=', input.patientId)
    .where('document_id', '=', input.documentId)
    .where('withdrawn_at', 'is', null)
    .executeTakeFirst();
  if (live) throw liveConsentConflict();
  let inserted: { id: string };
  try {
    inserted = await db
      .insertInto('patient_consents')
      .values({
        patient_id: input.patientId,
        document_id: input.documentId,
        channel: input.channel,
        recorded_by: input.recordedBy,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
  } catch (error) {
    // A concurrent request recorded the same consent first (patient_consents_live_idx).
    if (isUniqueViolation(error)) throw liveConsentConflict();
    throw error;
  }
  return findConsent(db, input.patientId, inserted.id);
}

const liveConsentConflict = () =>
  new HavenError('CONFLICT', 'The patient already holds a live consent to this document version.');

async function findConsent(db: Db, patientId: string, consentId: string) {
  const rows = await patientConsentRecords(db, patientId).where('pc.id', '=', consentId).execute();
  const row = rows[0];
  if (!row) throw notFound('The consent');
  return toRecordView(row);
}

/** Withdraws one of the patient's consents: not theirs → 404; already withdrawn → 409. */
export async function withdrawConsent(
  db: Db,
  input: { patientId: string; consentId: string; withdrawnBy: string },
): Promise<ConsentRecordView> {
  const existing = await db
    .selectFrom('patient_consents')
    .select(['id', 'withdrawn_at'])
    .where('id', '=', input.consentId)
    .where('patient_id', '=', input.patientId)
    .forUpdate()
    .executeTakeFirst();
  if (!existing) throw notFound('The consent');
  if (existing.withdrawn_at !== null) {
    throw new HavenError('CONFLICT', 'This consent has already been withdrawn.');
  }
  const updated = await db
    .updateTable('patient_consents')
    .set({ withdrawn_at: sql<Date>`now()`, withdrawn_by: input.withdrawnBy })
    .where('id', '=', input.consentId)
    .where('patient_id', '=', input.patientId)
    .where('withdrawn_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  // Lost a race with a concurrent withdrawal that committed between the lock and the update.
  if (!updated) throw new HavenError('CONFLICT', 'This consent has already been withdrawn.');
  return findConsent(db, input.patientId, input.consentId);
}
