// What a patient sees of their own record, shared by the portal, the account export and
// break-glass (which shows an admin exactly the patient's view and nothing more). These functions
// know nothing of requests: the caller scopes the patient first (patientSelfScope, a grant row)
// and writes its own audit event. Every query carries the patient id in its WHERE clause (Z4).
import { sql, type Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import type { DatabaseSchema } from '../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

const Iso = Type.String({ maxLength: 40 });
const Id = Type.String({ maxLength: 36 });

const AddressSchema = Type.Object(
  {
    line1: Type.String({ maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ maxLength: 100 }),
    region: Type.Optional(Type.String({ maxLength: 100 })),
    postalCode: Type.String({ maxLength: 20 }),
    country: Type.String({ maxLength: 2 }),
  },
  { additionalProperties: false },
);

const ContactMethodSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('phone'), Type.Literal('email')]),
    value: Type.String({ maxLength: 254 }),
    verified: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const PatientRecordViewSchema = Type.Object(
  {
    patient: Type.Object(
      {
        id: Id,
        mrn: Type.String({ maxLength: 32 }),
        givenName: Type.String({ maxLength: 100 }),
        familyName: Type.String({ maxLength: 100 }),
        birthDate: Type.String({ maxLength: 10 }),
        sex: Type.Union([
          Type.Literal('female'),
          Type.Literal('male'),
          Type.Literal('other'),
          Type.Literal('unknown'),
        ]),
        address: Type.Union([AddressSchema, Type.Null()]),
        contactMethods: Type.Array(ContactMethodSchema, { maxItems: 10 }),
      },
      { additionalProperties: false },
    ),
    organization: Type.Object(
      { id: Id, name: Type.String({ maxLength: 120 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PatientRecordView = Static<typeof PatientRecordViewSchema>;

export const SharedNoteSchema = Type.Object(
  {
    id: Id,
    body: Type.String({ maxLength: 20000 }),
    createdAt: Iso,
    updatedAt: Iso,
    author: Type.Object(
      { displayName: Type.String({ maxLength: 100 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SharedNote = Static<typeof SharedNoteSchema>;

export const AccessEntrySchema = Type.Object(
  {
    at: Iso,
    action: Type.String({ maxLength: 100 }),
    actor: Type.Object(
      {
        kind: Type.Union([
          Type.Literal('you'),
          Type.Literal('staff'),
          Type.Literal('break_glass'),
          Type.Literal('system'),
        ]),
        displayName: Type.String({ maxLength: 100 }),
      },
      { additionalProperties: false },
    ),
    grantId: Type.Union([Id, Type.Null()]),
    reason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AccessEntry = Static<typeof AccessEntrySchema>;

/** The most shared notes one answer carries (the contract has no paging for them). */
export const SHARED_NOTES_LIMIT = 500;
/** Access-log page size: default and maximum. */
export const ACCESS_LOG_DEFAULT_LIMIT = 50;
export const ACCESS_LOG_MAX_LIMIT = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The record as the patient sees it; undefined when no such patient exists. */
export async function loadPatientRecordView(
  db: Db,
  patientId: string,
): Promise<PatientRecordView | undefined> {
  const row = await db
    .selectFrom('patients as p')
    .innerJoin('organizations as o', 'o.id', 'p.organization_id')
    .select([
      'p.id',
      'p.mrn',
      'p.given_name',
      'p.family_name',
      // A date column read as text: no Date object, so no time zone can shift the day.
      sql<string>`to_char(p.birth_date, 'YYYY-MM-DD')`.as('birth_date'),
      'p.sex',
      'p.address',
      'p.contact_methods',
      'o.id as organization_id',
      'o.name as organization_name',
    ])
    .where('p.id', '=', patientId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    patient: {
      id: row.id,
      mrn: row.mrn,
      givenName: row.given_name,
      familyName: row.family_name,
      birthDate: row.birth_date,
      sex: row.sex,
      address: row.address,
      contactMethods: row.contact_methods,
    },
    organization: { id: row.organization_id, name: row.organization_name },
  };
}

/**
 * The patient's notes whose current (highest) version is shareable, newest first, each with its
 * current version only: a note made private by a correction disappears, and the text of earlier
 * versions never reaches the patient.
 */
/**
 * The patient's shared notes, newest first: the newest SHARED_NOTES_LIMIT for the portal page,
 * every one of them with `complete` (the account export holds all of the patient's data).
 */
export async function listSharedNotes(
  db: Db,
  patientId: string,
  options: { complete?: boolean } = {},
): Promise<SharedNote[]> {
  const rows = await db
    .selectFrom('clinical_notes as n')
    .innerJoin('clinical_note_versions as v', 'v.note_id', 'n.id')
    .leftJoin('users as u', 'u.id', 'v.author_id')
    .select([
      'n.id',
      'n.created_at',
      'v.body',
      'v.created_at as updated_at',
      'u.display_name as author_name',
    ])
    .where('n.patient_id', '=', patientId)
    .where(
      'v.version',
      '=',
      sql<number>`(select max(c.version) from clinical_note_versions c where c.note_id = n.id)`,
    )
    .where('v.shareable', '=', true)
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc')
    .$if(options.complete !== true, (query) => query.limit(SHARED_NOTES_LIMIT))
    .execute();
  return rows.map((row) => ({
    id: row.id,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    author: { displayName: row.author_name ?? 'Care team' },
  }));
}

/**
 * Who touched the patient's record, newest first, from the audit log: every event whose target
 * is this patient. `before` is the seq of the last entry of the previous page. Only the
 * display names of the people involved are looked up, and break-glass reasons only from grants
 * on this same patient.
 */
export async function listAccessLog(
  db: Db,
  patientId: string,
  options: { before?: string; limit?: number; breakGlassOnly?: boolean } = {},
): Promise<{ entries: AccessEntry[]; nextBefore: string | null }> {
  const limit = Math.min(
    Math.max(options.limit ?? ACCESS_LOG_DEFAULT_LIMIT, 1),
    ACCESS_LOG_MAX_LIMIT,
  );
  const patient = await db
    .selectFrom('patients')
    .select('portal_user_id')
    .where('id', '=', patientId)
    .executeTakeFirst();
  if (!patient) return { entries: [], nextBefore: null };
  let query = db
    .selectFrom('audit_events')
    .select(['seq', 'occurred_at', 'actor_type', 'actor_id', 'action', 'details'])
    .where('target_type', '=', 'patient')
    .where('target_id', '=', patientId)
    .orderBy('seq', 'desc')
    .limit(limit + 1);
  if (options.before !== undefined) query = query.where('seq', '<', options.before);
  // Emergency accesses must not drown among routine staff reads: the patient can list them alone.
  if (options.breakGlassOnly === true) {
    query = query.where(sql<boolean>`details ->> 'grantId' IS NOT NULL`);
  }
  const rows = await query.execute();
  const page = rows.slice(0, limit);

  const grantIdOf = (details: Record<string, unknown>): string | null => {
    const value = details.grantId;
    return typeof value === 'string' && UUID.test(value) ? value : null;
  };
  const userIds = [
    ...new Set(
      page
        .filter((r) => r.actor_type === 'user' && r.actor_id !== null && UUID.test(r.actor_id))
        .map((r) => r.actor_id as string),
    ),
  ];
  const grantIds = [...new Set(page.map((r) => grantIdOf(r.details)).filter((id) => id !== null))];
  const names = new Map<string, string>();
  if (userIds.length > 0) {
    const users = await db
      .selectFrom('users')
      .select(['id', 'display_name'])
      .where('id', 'in', userIds)
      .execute();
    for (const user of users) names.set(user.id, user.display_name);
  }
  const reasons = new Map<string, string>();
  if (grantIds.length > 0) {
    const grants = await db
      .selectFrom('break_glass_grants')
      .select(['id', 'reason'])
      .where('id', 'in', grantIds)
      .where('patient_id', '=', patientId)
      .execute();
    for (const grant of grants) reasons.set(grant.id, grant.reason);
  }

  const entries = page.map((row): AccessEntry => {
    const grantId = grantIdOf(row.details);
    const base = { at: row.occurred_at.toISOString(), action: row.action, grantId };
    if (row.actor_type !== 'user' || row.actor_id === null) {
      // Machines (system jobs, OAuth clients) are not people the patient could identify.
      return { ...base, actor: { kind: 'system', displayName: 'Haven' }, reason: null };
    }
    const displayName = names.get(row.actor_id) ?? 'Staff';
    if (grantId !== null) {
      return {
        ...base,
        actor: { kind: 'break_glass', displayName },
        reason: reasons.get(grantId) ?? null,
      };
    }
    if (patient.portal_user_id !== null && row.actor_id === patient.portal_user_id) {
      return { ...base, actor: { kind: 'you', displayName: 'You' }, reason: null };
    }
    return { ...base, actor: { kind: 'staff', displayName }, reason: null };
  });
  const last = page.at(-1);
  return { entries, nextBefore: rows.length > limit && last ? String(last.seq) : null };
}
