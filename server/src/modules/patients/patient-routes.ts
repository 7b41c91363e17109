// Patients of the active organization (Z4, L3, V1): search, create, read, change, archive and
// restore, and the portal invitation. Every query names the organization in its WHERE clause;
// every read and write of a record is one PHI audit event in the same transaction.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql, type Updateable } from 'kysely';
import { Type } from 'typebox';
import type { PatientsTable } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { organizationScope } from '../../platform/access/scopes.js';
import { auditPhi } from '../../platform/access/phi-audit.js';
import { normalizeEmail } from '../identity/login-throttle.js';
import { inviteUser } from '../identity/onboarding.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { isUniqueViolation } from '../../platform/db/sql-text.js';
import {
  Empty,
  PatientAnswer,
  PatientInputSchema,
  PatientParams,
  PatientPatchSchema,
  PatientSearchSchema,
  PatientSummarySchema,
  cleanPatientInput,
  findPatient,
  findWritablePatient,
  patientColumns,
  patientNotFound,
  toPatientView,
  toSummary,
  type Db,
  type PatientInput,
  type PatientPatch,
  type PatientRow,
} from './patient-model.js';
import { FieldErrors, cleanText, checkBirthDate } from '../../platform/text.js';
import { escapeLike } from '../../platform/db/sql-text.js';

const mrnTaken = () =>
  new HavenError('CONFLICT', 'Another patient of this organization has this MRN.', {
    errors: [{ field: 'body.mrn', message: 'is already in use in this organization' }],
  });

/** Key order and absent-vs-undefined do not matter; jsonb does not keep key order either. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Names (camelCase) of the fields whose new value differs from the stored one. */
function changedFields(row: PatientRow, patch: PatientPatch): Array<keyof PatientInput> {
  const stored: PatientInput = {
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    sex: row.sex,
    address: row.address,
    contactMethods: row.contact_methods,
  };
  return (Object.keys(patch) as Array<keyof PatientInput>).filter(
    (key) => patch[key] !== undefined && canonical(patch[key]) !== canonical(stored[key]),
  );
}

export function registerPatientRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const db = deps.db;

  /** Runs `work` in one transaction after resolving the caller's organization. */
  async function inOrganization<T>(
    request: FastifyRequest,
    work: (trx: Db, scope: { userId: string; organizationId: string }) => Promise<T>,
  ): Promise<T> {
    const scope = await organizationScope(db, request);
    return db.transaction().execute((trx) => work(trx, scope));
  }

  app.post(
    '/api/patients/search',
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      bodyLimit: 4096,
      schema: {
        body: PatientSearchSchema,
        response: {
          200: Type.Object(
            {
              patients: Type.Array(PatientSummarySchema, { maxItems: 100 }),
              nextCursor: Type.Union([Type.String({ maxLength: 36 }), Type.Null()]),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const body = request.body as {
        name?: string;
        mrn?: string;
        birthDate?: string;
        includeArchived?: boolean;
        cursor?: string;
        limit?: number;
      };
      const errors = new FieldErrors();
      const name =
        body.name === undefined
          ? undefined
          : cleanText(errors, 'body.name', body.name, { required: true, maxLength: 100 });
      if (body.birthDate !== undefined) {
        checkBirthDate(errors, 'body.birthDate', body.birthDate, deps.now());
      }
      errors.throwIfAny();
      const limit = body.limit ?? 25;
      return inOrganization(request, async (trx, scope) => {
        let query = trx
          .selectFrom('patients as p')
          .select(patientColumns())
          .where('p.organization_id', '=', scope.organizationId)
          .orderBy(sql`lower(p.family_name)`)
          .orderBy(sql`lower(p.given_name)`)
          .orderBy('p.id')
          .limit(limit + 1);
        if (name !== undefined) {
          const prefix = `${escapeLike(name)}%`;
          query = query.where(
            sql<boolean>`(lower(p.family_name) like lower(${prefix}) or lower(p.given_name) like lower(${prefix}))`,
          );
        }
        if (body.mrn !== undefined) query = query.where('p.mrn', '=', body.mrn);
        if (body.birthDate !== undefined) {
          query = query.where('p.birth_date', '=', body.birthDate);
        }
        if (!body.includeArchived) query = query.where('p.archived_at', 'is', null);
        if (body.cursor !== undefined) {
          // The cursor is a patient of this organization, resolved in SQL: a foreign or unknown
          // id is a 404 like any other invisible patient, and never reveals where it would sort.
          const anchor = await trx
            .selectFrom('patients')
            .select('id')
            .where('id', '=', body.cursor)
            .where('organization_id', '=', scope.organizationId)
            .executeTakeFirst();
          if (!anchor) throw patientNotFound();
          query = query.where(
            sql<boolean>`(lower(p.family_name), lower(p.given_name), p.id) > (
              select lower(c.family_name), lower(c.given_name), c.id from patients c
              where c.id = ${anchor.id} and c.organization_id = ${scope.organizationId})`,
          );
        }
        const rows = await query.execute();
        const page = rows.slice(0, limit);
        for (const row of page) {
          await auditPhi(trx, request, { action: 'patient.listed', patientId: row.id });
        }
        const last = page[page.length - 1];
        return {
          patients: page.map(toSummary),
          nextCursor: rows.length > limit && last ? last.id : null,
        };
      });
    },
  );

  app.post(
    '/api/patients',
    {
      config: { access: requireScopes(['patients:write']), rateClass: 'write' },
      bodyLimit: 16_384,
      schema: { body: PatientInputSchema, response: { 201: PatientAnswer } },
    },
    async (request, reply) => {
      const input = cleanPatientInput(request.body as PatientInput, deps.now());
      try {
        const patient = await inOrganization(request, async (trx, scope) => {
          const taken = await trx
            .selectFrom('patients')
            .select('id')
            .where('organization_id', '=', scope.organizationId)
            .where('mrn', '=', input.mrn)
            .executeTakeFirst();
          if (taken) throw mrnTaken();
          const created = await trx
            .insertInto('patients')
            .values({
              organization_id: scope.organizationId,
              mrn: input.mrn,
              given_name: input.givenName,
              family_name: input.familyName,
              birth_date: input.birthDate,
              sex: input.sex,
              address: input.address ? JSON.stringify(input.address) : null,
              contact_methods: JSON.stringify(input.contactMethods ?? []),
              created_by: scope.userId,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          await auditPhi(trx, request, {
            action: 'patient.created',
            patientId: created.id,
            fields: Object.keys(input),
          });
          return findPatient(trx, scope.organizationId, created.id);
        });
        return await reply.code(201).send({ patient: toPatientView(patient) });
      } catch (error) {
        // Two creations with the same MRN raced past the check: UNIQUE (organization_id, mrn).
        if (isUniqueViolation(error)) throw mrnTaken();
        throw error;
      }
    },
  );

  app.get(
    '/api/patients/:patientId',
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      schema: { params: PatientParams, response: { 200: PatientAnswer } },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const patient = await inOrganization(request, async (trx, scope) => {
        const row = await findPatient(trx, scope.organizationId, patientId);
        await auditPhi(trx, request, { action: 'patient.read', patientId: row.id });
        return row;
      });
      return { patient: toPatientView(patient) };
    },
  );

  app.patch(
    '/api/patients/:patientId',
    {
      config: { access: requireScopes(['patients:write']), rateClass: 'write' },
      bodyLimit: 16_384,
      schema: { params: PatientParams, body: PatientPatchSchema, response: { 200: PatientAnswer } },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const patch = cleanPatientInput(request.body as PatientPatch, deps.now());
      try {
        const patient = await inOrganization(request, async (trx, scope) => {
          const row = await findWritablePatient(trx, scope.organizationId, patientId);
          const changed = changedFields(row, patch);
          if (changed.length === 0) {
            // Nothing was written, but the answer still discloses the record: that is a read.
            await auditPhi(trx, request, { action: 'patient.read', patientId: row.id });
            return row;
          }
          if (changed.includes('mrn') && patch.mrn !== undefined) {
            const taken = await trx
              .selectFrom('patients')
              .select('id')
              .where('organization_id', '=', scope.organizationId)
              .where('mrn', '=', patch.mrn)
              .where('id', '!=', row.id)
              .executeTakeFirst();
            if (taken) throw mrnTaken();
          }
          const has = (key: keyof PatientInput) => changed.includes(key);
          const update: Updateable<PatientsTable> = {};
          if (has('mrn')) update.mrn = patch.mrn;
          if (has('givenName')) update.given_name = patch.givenName;
          if (has('familyName')) update.family_name = patch.familyName;
          if (has('birthDate')) update.birth_date = patch.birthDate;
          if (has('sex')) update.sex = patch.sex;
          if (has('address')) update.address = patch.address ? JSON.stringify(patch.address) : null;
          if (has('contactMethods')) {
            update.contact_methods = JSON.stringify(patch.contactMethods ?? []);
          }
          await trx
            .updateTable('patients')
            .set({ ...update, updated_at: sql<Date>`now()` })
            .where('id', '=', row.id)
            .where('organization_id', '=', scope.organizationId)
            .execute();
          await auditPhi(trx, request, {
            action: 'patient.updated',
            patientId: row.id,
            fields: changed,
          });
          return findPatient(trx, scope.organizationId, row.id);
        });
        return { patient: toPatientView(patient) };
      } catch (error) {
        if (isUniqueViolation(error)) throw mrnTaken();
        throw error;
      }
    },
  );

  for (const [verb, action] of [
    ['archive', 'patient.archived'],
    ['restore', 'patient.restored'],
  ] as const) {
    app.post(
      `/api/patients/:patientId/${verb}`,
      {
        config: { access: requireScopes(['patients:write']), rateClass: 'write' },
        bodyLimit: 1024,
        schema: { params: PatientParams, body: Empty, response: { 200: PatientAnswer } },
      },
      async (request) => {
        const { patientId } = request.params as { patientId: string };
        const patient = await inOrganization(request, async (trx, scope) => {
          const row = await findPatient(trx, scope.organizationId, patientId, { lock: true });
          const archived = row.archived_at !== null;
          if (verb === 'archive' && archived) {
            throw new HavenError('CONFLICT', 'The patient record is already archived.');
          }
          if (verb === 'restore' && !archived) {
            throw new HavenError('CONFLICT', 'The patient record is not archived.');
          }
          await trx
            .updateTable('patients')
            .set({
              archived_at: verb === 'archive' ? sql<Date>`now()` : null,
              updated_at: sql<Date>`now()`,
            })
            .where('id', '=', row.id)
            .where('organization_id', '=', scope.organizationId)
            .execute();
          await auditPhi(trx, request, { action, patientId: row.id, fields: ['archivedAt'] });
          return findPatient(trx, scope.organizationId, row.id);
        });
        return { patient: toPatientView(patient) };
      },
    );
  }

  app.post(
    '/api/patients/:patientId/portal-invitation',
    {
      config: { access: requireScopes(['patients:write']), rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: {
        params: PatientParams,
        body: Type.Object(
          { email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object(
            { status: Type.Union([Type.Literal('invited'), Type.Literal('linked')]) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request, reply) => {
      const { patientId } = request.params as { patientId: string };
      const email = (request.body as { email: string }).email.trim();
      const scope = await organizationScope(db, request);
      const alreadyLinked = () =>
        new HavenError('CONFLICT', 'This patient record is already linked to a portal account.');
      const accountTaken = () =>
        new HavenError('CONFLICT', 'An account with this email cannot be linked to a patient.', {
          errors: [{ field: 'body.email', message: 'belongs to an account that cannot be linked' }],
        });

      /** Links the record to `userId` unless it (or the account) is linked already. */
      async function link(trx: Db, userId: string): Promise<void> {
        const linked = await trx
          .updateTable('patients')
          .set({ portal_user_id: userId, updated_at: sql<Date>`now()` })
          .where('id', '=', patientId)
          .where('organization_id', '=', scope.organizationId)
          .where('archived_at', 'is', null)
          .where('portal_user_id', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!linked) throw alreadyLinked();
        await auditPhi(trx, request, { action: 'patient.portal_invited', patientId });
      }

      try {
        const linkedExisting = await db.transaction().execute(async (trx) => {
          const patient = await findWritablePatient(trx, scope.organizationId, patientId);
          if (patient.portal_user_id !== null) throw alreadyLinked();
          const account = await trx
            .selectFrom('users')
            .select(['id', 'status', 'roles'])
            .where('email_normalized', '=', normalizeEmail(email))
            .forUpdate()
            .executeTakeFirst();
          if (!account) return false;
          const patientOnly =
            account.roles.length > 0 && account.roles.every((role) => role === 'patient');
          // Only an account whose email is proven (active) is linked at once. A pending one, such
          // as a self sign-up awaiting verification, holds a password chosen by whoever typed
          // this email in: linking it would hand the record to them if it is ever activated.
          if (!patientOnly || account.status !== 'active') throw accountTaken();
          const holder = await trx
            .selectFrom('patients')
            .select('id')
            .where('portal_user_id', '=', account.id)
            .executeTakeFirst();
          if (holder) throw accountTaken();
          await link(trx, account.id);
          return true;
        });
        if (linkedExisting) return await reply.code(201).send({ status: 'linked' });
        // No account with this email: invite one; the link commits (or not) with the invitation.
        await inviteUser(deps, {
          email,
          role: 'patient',
          invitedBy: scope.userId,
          auditAction: 'portal.user_invited',
          withinTransaction: async (trx, userId) => {
            // Only an account created by this very transaction (created_at is the transaction
            // start, now()): had another one with this email appeared since the check above,
            // inviteUser would have re-invited it as a patient, which must not stand.
            const account = await trx
              .selectFrom('users')
              .select('id')
              .where('id', '=', userId)
              .where(sql<boolean>`created_at = now()`)
              .executeTakeFirst();
            if (!account) throw accountTaken();
            await link(trx, userId);
          },
          ...requestContext(request),
        });
        return await reply.code(201).send({ status: 'invited' });
      } catch (error) {
        // The account was linked to another record concurrently (UNIQUE portal_user_id).
        if (isUniqueViolation(error)) throw accountTaken();
        throw error;
      }
    },
  );
}
