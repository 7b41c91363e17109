// Break-glass (Z5, L3): an admin may see one patient's record, as the patient sees it in the
// portal, only with a stated reason, a fresh MFA check, for a limited time, read-only and fully
// audited. A grant opens exactly one route (the record view below); it carries no scope, so every
// staff route (and every write) stays closed to the admin. Each use is a patient.read event with
// the grant id, which the patient sees in their access list.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { HavenError, type FieldError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { auditPhi } from '../../platform/access/phi-audit.js';
import { requireUser } from '../../platform/access/scopes.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { ConsentRecordSchema, listPatientConsents } from '../patients/consents.js';
import { FieldErrors, cleanProse } from '../../platform/text.js';
import {
  PatientRecordViewSchema,
  SHARED_NOTES_LIMIT,
  SharedNoteSchema,
  listSharedNotes,
  loadPatientRecordView,
} from '../portal/patient-views.js';

type Db = Kysely<DatabaseSchema>;

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Iso = Type.String({ maxLength: 40 });
const Empty = Type.Object({}, { additionalProperties: false });
const GrantParams = Type.Object({ grantId: Uuid }, { additionalProperties: false });
/** Control characters other than tab and line breaks are refused in the reason. */
const REASON_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$';
const MIN_REASON = 10;
const MAX_REASON = 500;
/** The most grants one listing shows, newest first. */
export const GRANT_LIST_LIMIT = 200;

export const GrantSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    adminId: Type.String({ maxLength: 36 }),
    adminDisplayName: Type.String({ maxLength: 100 }),
    patientId: Type.String({ maxLength: 36 }),
    organizationId: Type.String({ maxLength: 36 }),
    reason: Type.String({ maxLength: MAX_REASON }),
    createdAt: Iso,
    expiresAt: Iso,
    revokedAt: Type.Union([Iso, Type.Null()]),
    active: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type GrantView = Static<typeof GrantSchema>;
const GrantAnswer = Type.Object({ grant: GrantSchema }, { additionalProperties: false });

const GrantRequestBody = Type.Object(
  {
    patientId: Type.Optional(Uuid),
    organizationId: Type.Optional(Uuid),
    mrn: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9-]{0,31}$', minLength: 1, maxLength: 32 }),
    ),
    reason: Type.String({ minLength: MIN_REASON, maxLength: MAX_REASON, pattern: REASON_PATTERN }),
  },
  { additionalProperties: false },
);
type GrantRequest = Static<typeof GrantRequestBody>;

function grantQuery(db: Db) {
  return db
    .selectFrom('break_glass_grants as g')
    .innerJoin('users as u', 'u.id', 'g.admin_id')
    .select([
      'g.id',
      'g.admin_id',
      'u.display_name as admin_display_name',
      'g.patient_id',
      'g.organization_id',
      'g.reason',
      'g.created_at',
      'g.expires_at',
      'g.revoked_at',
    ]);
}
type GrantRow = NonNullable<Awaited<ReturnType<ReturnType<typeof grantQuery>['executeTakeFirst']>>>;

const isActive = (row: { revoked_at: Date | null; expires_at: Date }, now: Date): boolean =>
  row.revoked_at === null && row.expires_at.getTime() > now.getTime();

function toGrantView(row: GrantRow, now: Date): GrantView {
  return {
    id: row.id,
    adminId: row.admin_id,
    adminDisplayName: row.admin_display_name,
    patientId: row.patient_id,
    organizationId: row.organization_id,
    reason: row.reason,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    revokedAt: row.revoked_at ? row.revoked_at.toISOString() : null,
    active: isActive(row, now),
  };
}

/** Exactly one way of naming the patient: their id, or their organization and MRN. */
function patientLookup(
  body: GrantRequest,
): { by: 'id'; patientId: string } | { by: 'mrn'; organizationId: string; mrn: string } {
  const errors: FieldError[] = [];
  const { patientId, organizationId, mrn } = body;
  if (patientId !== undefined && organizationId === undefined && mrn === undefined) {
    return { by: 'id', patientId };
  }
  if (patientId === undefined && organizationId !== undefined && mrn !== undefined) {
    return { by: 'mrn', organizationId, mrn };
  }
  if (patientId !== undefined) {
    errors.push({
      field: 'patientId',
      message: 'Give either patientId, or organizationId and mrn.',
    });
  } else {
    if (organizationId === undefined) {
      errors.push({ field: 'organizationId', message: 'organizationId is required with mrn.' });
    }
    if (mrn === undefined) {
      errors.push({ field: 'mrn', message: 'mrn is required with organizationId.' });
    }
  }
  throw new HavenError('VALIDATION_FAILED', 'Name the patient in exactly one way.', { errors });
}

/**
 * The reason as stored and shown to the patient: NFC, trimmed, with no invisible or reordering
 * characters (bidirectional overrides, C1 controls, lone surrogates), and 10–500 characters
 * counted in code points, as the database's length() counts them.
 */
function cleanReason(raw: string): string {
  const errors = new FieldErrors();
  const prose = cleanProse(errors, 'reason', raw, MAX_REASON);
  if (prose === undefined) {
    throw new HavenError('VALIDATION_FAILED', 'State the reason for this access.', {
      errors: errors.list,
    });
  }
  const reason = prose.trim();
  if (Array.from(reason).length < MIN_REASON) {
    throw new HavenError('VALIDATION_FAILED', 'State the reason for this access.', {
      errors: [{ field: 'reason', message: `At least ${MIN_REASON} characters.` }],
    });
  }
  return reason;
}

export function registerBreakGlassRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const { db } = deps;

  /** A denial that must outlive the request's failure: written in its own transaction. */
  async function auditDenied(
    request: FastifyRequest,
    adminId: string,
    action: 'breakglass.denied' | 'breakglass.refused',
    target: { type: string; id: string },
    details: Record<string, string | number | boolean | null>,
  ): Promise<void> {
    await recordAudit(db, {
      actor: { type: 'user', id: adminId },
      action,
      target,
      outcome: 'denied',
      details,
      ...requestContext(request),
    });
  }

  app.post(
    '/api/break-glass/grants',
    {
      config: {
        access: requireScopes(['breakglass:request'], { stepUp: true }),
        rateClass: 'sensitive',
      },
      bodyLimit: 4096,
      schema: { body: GrantRequestBody, response: { 201: GrantAnswer } },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const body = request.body as GrantRequest;
      const lookup = patientLookup(body);
      const reason = cleanReason(body.reason);
      const now = deps.now();
      const grant = await db.transaction().execute(async (trx) => {
        const patient = await (
          lookup.by === 'id'
            ? trx
                .selectFrom('patients')
                .select(['id', 'organization_id'])
                .where('id', '=', lookup.patientId)
            : trx
                .selectFrom('patients')
                .select(['id', 'organization_id'])
                .where('organization_id', '=', lookup.organizationId)
                .where('mrn', '=', lookup.mrn)
        ).executeTakeFirst();
        if (!patient) return undefined;
        const inserted = await trx
          .insertInto('break_glass_grants')
          .values({
            admin_id: userId,
            patient_id: patient.id,
            organization_id: patient.organization_id,
            reason,
            created_at: now,
            expires_at: new Date(now.getTime() + deps.config.clinical.breakGlassMs),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        // The reason lives in the grant row (shown to the patient); the audit log gets its length.
        await auditPhi(trx, request, {
          action: 'breakglass.granted',
          patientId: patient.id,
          grantId: inserted.id,
          details: {
            reasonLength: reason.length,
            minutes: Math.round(deps.config.clinical.breakGlassMs / 60_000),
          },
        });
        return grantQuery(trx).where('g.id', '=', inserted.id).executeTakeFirstOrThrow();
      });
      if (!grant) {
        // The MRN is PHI: the denial records only how the patient was named, never the value.
        await auditDenied(
          request,
          userId,
          'breakglass.denied',
          lookup.by === 'id'
            ? { type: 'patient', id: lookup.patientId }
            : { type: 'organization', id: lookup.organizationId },
          { lookup: lookup.by === 'id' ? 'patient_id' : 'organization_mrn' },
        );
        throw new HavenError('NOT_FOUND', 'No such patient.');
      }
      reply.code(201);
      return { grant: toGrantView(grant, now) };
    },
  );

  app.get(
    '/api/break-glass/grants/:grantId/record',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'sensitive' },
      schema: {
        params: GrantParams,
        response: {
          200: Type.Object(
            {
              grant: GrantSchema,
              record: PatientRecordViewSchema,
              consents: Type.Array(ConsentRecordSchema, { maxItems: 1000 }),
              notes: Type.Array(SharedNoteSchema, { maxItems: SHARED_NOTES_LIMIT }),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const { grantId } = request.params as { grantId: string };
      const now = deps.now();
      const result = await db.transaction().execute(async (trx) => {
        // Only the admin who holds the grant: anyone else's grant is as missing as no grant.
        // FOR SHARE waits for a concurrent revocation, so a revoked grant is never used after it.
        const grant = await grantQuery(trx)
          .where('g.id', '=', grantId)
          .where('g.admin_id', '=', userId)
          .forShare('g')
          .executeTakeFirst();
        if (!grant) throw new HavenError('NOT_FOUND');
        if (!isActive(grant, now)) {
          return {
            inactive: grant.revoked_at ? ('revoked' as const) : ('expired' as const),
            grant,
          };
        }
        const record = await loadPatientRecordView(trx, grant.patient_id);
        if (!record) throw new HavenError('NOT_FOUND');
        const consents = await listPatientConsents(trx, grant.patient_id);
        const notes = await listSharedNotes(trx, grant.patient_id);
        await auditPhi(trx, request, {
          action: 'patient.read',
          patientId: grant.patient_id,
          grantId: grant.id,
          details: { via: 'break_glass' },
        });
        return { inactive: undefined, grant, record, consents, notes };
      });
      if (result.inactive !== undefined) {
        await auditDenied(
          request,
          userId,
          'breakglass.refused',
          { type: 'break_glass_grant', id: result.grant.id },
          { grantId: result.grant.id, state: result.inactive },
        );
        throw new HavenError(
          'BREAK_GLASS_INACTIVE',
          `This grant was ${result.inactive === 'revoked' ? 'revoked' : 'expired'}; request a new one.`,
        );
      }
      return {
        grant: toGrantView(result.grant, now),
        record: result.record,
        consents: result.consents,
        notes: result.notes,
      };
    },
  );

  app.get(
    '/api/admin/break-glass/grants',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'read' },
      schema: {
        querystring: Type.Object(
          { active: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { grants: Type.Array(GrantSchema, { maxItems: GRANT_LIST_LIMIT }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const { active } = request.query as { active?: boolean };
      const now = deps.now();
      let query = grantQuery(db)
        .orderBy('g.created_at', 'desc')
        .orderBy('g.id', 'desc')
        .limit(GRANT_LIST_LIMIT);
      if (active === true) {
        query = query.where('g.revoked_at', 'is', null).where('g.expires_at', '>', now);
      } else if (active === false) {
        query = query.where((eb) =>
          eb.or([eb('g.revoked_at', 'is not', null), eb('g.expires_at', '<=', now)]),
        );
      }
      const rows = await query.execute();
      await recordAudit(db, {
        actor: { type: 'user', id: userId },
        action: 'breakglass.listed',
        outcome: 'success',
        details: { count: rows.length, active: active ?? null },
        ...requestContext(request),
      });
      return { grants: rows.map((row) => toGrantView(row, now)) };
    },
  );

  app.post(
    '/api/admin/break-glass/grants/:grantId/revoke',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'sensitive' },
      schema: { params: GrantParams, body: Empty, response: { 200: GrantAnswer } },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const { grantId } = request.params as { grantId: string };
      const now = deps.now();
      const grant = await db.transaction().execute(async (trx) => {
        const current = await grantQuery(trx)
          .where('g.id', '=', grantId)
          .forUpdate('g')
          .executeTakeFirst();
        if (!current) throw new HavenError('NOT_FOUND');
        if (!isActive(current, now)) {
          throw new HavenError(
            'CONFLICT',
            current.revoked_at ? 'This grant was already revoked.' : 'This grant has expired.',
          );
        }
        await trx
          .updateTable('break_glass_grants')
          .set({ revoked_at: now, revoked_by: userId })
          .where('id', '=', grantId)
          .where('revoked_at', 'is', null)
          .execute();
        await auditPhi(trx, request, {
          action: 'breakglass.revoked',
          patientId: current.patient_id,
          grantId,
        });
        return grantQuery(trx).where('g.id', '=', grantId).executeTakeFirstOrThrow();
      });
      return { grant: toGrantView(grant, now) };
    },
  );
}
