// Clinical notes (Z4, L3, V1): append-only and versioned. A correction adds a version with its
// reason; no version is ever changed or deleted (the database refuses both). Notes are scoped
// by patient AND organization in every query, and each read and write is one PHI audit event.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Type, type Static } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { organizationScope } from '../../platform/access/scopes.js';
import { auditPhi } from '../../platform/access/phi-audit.js';
import type { IdentityContext } from '../identity/session-kit.js';
import { isUniqueViolation } from '../../platform/db/sql-text.js';
import { PatientParams, UUID, findPatient, findWritablePatient, type Db } from './patient-model.js';
import { FieldErrors, cleanProse, cleanText } from '../../platform/text.js';

const NoteVersionSchema = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    body: Type.String({ maxLength: 20_000 }),
    shareable: Type.Boolean(),
    author: Type.Object(
      { id: Type.String({ maxLength: 36 }), displayName: Type.String({ maxLength: 100 }) },
      { additionalProperties: false },
    ),
    createdAt: Type.String({ maxLength: 40 }),
    correctionReason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
  },
  { additionalProperties: false },
);
const NoteSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    createdAt: Type.String({ maxLength: 40 }),
    current: NoteVersionSchema,
    versionCount: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);
const NoteAnswer = Type.Object({ note: NoteSchema }, { additionalProperties: false });
const NoteParams = Type.Object({ patientId: UUID, noteId: UUID }, { additionalProperties: false });
const NoteBody = Type.String({ minLength: 1, maxLength: 20_000 });
// 20 000 characters of up to 4 UTF-8 bytes each, plus the rest of the body.
const NOTE_BODY_LIMIT = 90_000;

type NoteVersionView = Static<typeof NoteVersionSchema>;
type NoteView = Static<typeof NoteSchema>;

interface VersionRow {
  version: number;
  body: string;
  shareable: boolean;
  author_id: string | null;
  author_name: string | null;
  created_at: Date;
  correction_reason: string | null;
}

function toVersionView(row: VersionRow): NoteVersionView {
  return {
    version: row.version,
    body: row.body,
    shareable: row.shareable,
    // author_id is a foreign key that every write sets; the fallback only guards old rows.
    author: { id: row.author_id ?? '', displayName: row.author_name ?? 'Unknown author' },
    createdAt: row.created_at.toISOString(),
    correctionReason: row.correction_reason,
  };
}

/**
 * The notes of one patient of one organization with their current version, newest first
 * (or just `noteId`). Author names come from a join on users, never from a copy in the note.
 */
async function listNotes(
  db: Db,
  organizationId: string,
  patientId: string,
  noteId?: string,
): Promise<NoteView[]> {
  let query = db
    .selectFrom('clinical_notes as n')
    .innerJoin('clinical_note_versions as v', 'v.note_id', 'n.id')
    .leftJoin('users as u', 'u.id', 'v.author_id')
    .select([
      'n.id',
      'n.created_at as note_created_at',
      'v.version',
      'v.body',
      'v.shareable',
      'v.author_id',
      'u.display_name as author_name',
      'v.created_at',
      'v.correction_reason',
      sql<string>`(select count(*) from clinical_note_versions c where c.note_id = n.id)`.as(
        'version_count',
      ),
    ])
    .where('n.patient_id', '=', patientId)
    .where('n.organization_id', '=', organizationId)
    .where(
      sql<boolean>`v.version = (select max(m.version) from clinical_note_versions m where m.note_id = n.id)`,
    )
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc');
  if (noteId !== undefined) query = query.where('n.id', '=', noteId);
  const rows = await query.execute();
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.note_created_at.toISOString(),
    current: toVersionView(row),
    versionCount: Number(row.version_count),
  }));
}

async function findNote(db: Db, organizationId: string, patientId: string, noteId: string) {
  const [note] = await listNotes(db, organizationId, patientId, noteId);
  if (!note) throw new HavenError('NOT_FOUND', 'The note was not found.');
  return note;
}

function cleanNoteBody(body: string, reason?: string): { body: string; reason?: string } {
  const errors = new FieldErrors();
  const cleanBody = cleanProse(errors, 'body.body', body, 20_000);
  const cleanReason =
    reason === undefined
      ? undefined
      : cleanText(errors, 'body.reason', reason, { required: true, maxLength: 500 });
  errors.throwIfAny();
  if (cleanBody === undefined) throw new HavenError('VALIDATION_FAILED');
  return { body: cleanBody, ...(cleanReason === undefined ? {} : { reason: cleanReason }) };
}

export function registerNoteRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const db = deps.db;

  app.get(
    '/api/patients/:patientId/notes',
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      schema: {
        params: PatientParams,
        response: {
          200: Type.Object(
            { notes: Type.Array(NoteSchema, { maxItems: 100_000 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const scope = await organizationScope(db, request);
      return db.transaction().execute(async (trx) => {
        const patient = await findPatient(trx, scope.organizationId, patientId);
        const notes = await listNotes(trx, scope.organizationId, patient.id);
        await auditPhi(trx, request, { action: 'patient.notes_read', patientId: patient.id });
        return { notes };
      });
    },
  );

  app.get(
    '/api/patients/:patientId/notes/:noteId',
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      schema: {
        params: NoteParams,
        response: {
          200: Type.Object(
            { note: NoteSchema, versions: Type.Array(NoteVersionSchema, { maxItems: 100_000 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { patientId, noteId } = request.params as { patientId: string; noteId: string };
      const scope = await organizationScope(db, request);
      return db.transaction().execute(async (trx) => {
        const patient = await findPatient(trx, scope.organizationId, patientId);
        const note = await findNote(trx, scope.organizationId, patient.id, noteId);
        const versions = await trx
          .selectFrom('clinical_note_versions as v')
          .innerJoin('clinical_notes as n', 'n.id', 'v.note_id')
          .leftJoin('users as u', 'u.id', 'v.author_id')
          .select([
            'v.version',
            'v.body',
            'v.shareable',
            'v.author_id',
            'u.display_name as author_name',
            'v.created_at',
            'v.correction_reason',
          ])
          .where('v.note_id', '=', note.id)
          .where('n.patient_id', '=', patient.id)
          .where('n.organization_id', '=', scope.organizationId)
          .orderBy('v.version', 'asc')
          .execute();
        await auditPhi(trx, request, {
          action: 'patient.note_read',
          patientId: patient.id,
          details: { noteId: note.id },
        });
        return { note, versions: versions.map(toVersionView) };
      });
    },
  );

  app.post(
    '/api/patients/:patientId/notes',
    {
      config: { access: requireScopes(['notes:write']), rateClass: 'write' },
      bodyLimit: NOTE_BODY_LIMIT,
      schema: {
        params: PatientParams,
        body: Type.Object(
          { body: NoteBody, shareable: Type.Boolean() },
          { additionalProperties: false },
        ),
        response: { 201: NoteAnswer },
      },
    },
    async (request, reply) => {
      const { patientId } = request.params as { patientId: string };
      const input = request.body as { body: string; shareable: boolean };
      const { body } = cleanNoteBody(input.body);
      const scope = await organizationScope(db, request);
      const note = await db.transaction().execute(async (trx) => {
        const patient = await findWritablePatient(trx, scope.organizationId, patientId);
        const created = await trx
          .insertInto('clinical_notes')
          .values({
            patient_id: patient.id,
            organization_id: scope.organizationId,
            created_by: scope.userId,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('clinical_note_versions')
          .values({
            note_id: created.id,
            version: 1,
            body,
            shareable: input.shareable,
            author_id: scope.userId,
            correction_reason: null,
          })
          .execute();
        await auditPhi(trx, request, {
          action: 'patient.note_created',
          patientId: patient.id,
          details: { noteId: created.id },
        });
        return findNote(trx, scope.organizationId, patient.id, created.id);
      });
      return reply.code(201).send({ note });
    },
  );

  app.post(
    '/api/patients/:patientId/notes/:noteId/versions',
    {
      config: { access: requireScopes(['notes:write']), rateClass: 'write' },
      bodyLimit: NOTE_BODY_LIMIT,
      schema: {
        params: NoteParams,
        body: Type.Object(
          {
            body: NoteBody,
            shareable: Type.Boolean(),
            reason: Type.String({ minLength: 1, maxLength: 500 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: NoteAnswer },
      },
    },
    async (request, reply) => {
      const { patientId, noteId } = request.params as { patientId: string; noteId: string };
      const input = request.body as { body: string; shareable: boolean; reason: string };
      const { body, reason } = cleanNoteBody(input.body, input.reason);
      const scope = await organizationScope(db, request);
      try {
        const note = await db.transaction().execute(async (trx) => {
          const patient = await findWritablePatient(trx, scope.organizationId, patientId);
          // Corrections of one note queue on its row, so each reads the version before it.
          const locked = await trx
            .selectFrom('clinical_notes')
            .select('id')
            .where('id', '=', noteId)
            .where('patient_id', '=', patient.id)
            .where('organization_id', '=', scope.organizationId)
            .forUpdate()
            .executeTakeFirst();
          if (!locked) throw new HavenError('NOT_FOUND', 'The note was not found.');
          const latest = await trx
            .selectFrom('clinical_note_versions')
            .select((eb) => eb.fn.max('version').as('version'))
            .where('note_id', '=', locked.id)
            .executeTakeFirst();
          const version = Number(latest?.version ?? 0) + 1;
          await trx
            .insertInto('clinical_note_versions')
            .values({
              note_id: locked.id,
              version,
              body,
              shareable: input.shareable,
              author_id: scope.userId,
              correction_reason: reason ?? null,
            })
            .execute();
          await auditPhi(trx, request, {
            action: 'patient.note_corrected',
            patientId: patient.id,
            details: { noteId: locked.id, version },
          });
          return findNote(trx, scope.organizationId, patient.id, locked.id);
        });
        return await reply.code(201).send({ note });
      } catch (error) {
        // UNIQUE (note_id, version): a concurrent correction took this number despite the lock.
        if (isUniqueViolation(error)) {
          throw new HavenError('CONFLICT', 'The note was corrected at the same time; reload it.');
        }
        throw error;
      }
    },
  );
}
