// The signed-in user's own data, in one download (every role): the account, its live sessions
// and, for a patient with a linked record, what the portal shows of that record. Every query is
// keyed on the caller's own user id or the record linked to it, so the export can hold nothing
// of another user or patient beyond the display names of staff who wrote notes or read the record.
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { auditPhi } from '../../platform/access/phi-audit.js';
import { requireUser } from '../../platform/access/scopes.js';
import { listUserSessions } from '../identity/sessions.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { ConsentRecordSchema, listPatientConsents } from '../patients/consents.js';
import {
  ACCESS_LOG_MAX_LIMIT,
  AccessEntrySchema,
  PatientRecordViewSchema,
  SharedNoteSchema,
  listAccessLog,
  listSharedNotes,
  loadPatientRecordView,
  type AccessEntry,
} from './patient-views.js';

/** Documentation bound of the export's lists; the export itself is complete, never cut short. */
const EXPORT_LIST_BOUND = 1_000_000;

const Iso = Type.String({ maxLength: 40 });

const PatientExportSchema = Type.Object(
  {
    record: PatientRecordViewSchema,
    consents: Type.Array(ConsentRecordSchema, { maxItems: EXPORT_LIST_BOUND }),
    notes: Type.Array(SharedNoteSchema, { maxItems: EXPORT_LIST_BOUND }),
    accessLog: Type.Array(AccessEntrySchema, { maxItems: EXPORT_LIST_BOUND }),
  },
  { additionalProperties: false },
);
type PatientExport = Static<typeof PatientExportSchema>;

const AccountExportSchema = Type.Object(
  {
    exportedAt: Iso,
    account: Type.Object(
      {
        id: Type.String({ maxLength: 36 }),
        email: Type.String({ maxLength: 254 }),
        displayName: Type.String({ maxLength: 100 }),
        roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
        createdAt: Iso,
        mfaEnrolled: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    sessions: Type.Array(
      Type.Object(
        {
          id: Type.String({ maxLength: 36 }),
          createdAt: Iso,
          lastSeenAt: Iso,
          userAgent: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
    patient: Type.Union([PatientExportSchema, Type.Null()]),
  },
  { additionalProperties: false },
);

export function registerAccountExportRoute(app: FastifyInstance, deps: IdentityContext): void {
  app.get(
    '/api/account/export',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'sensitive' },
      schema: { response: { 200: AccountExportSchema } },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const now = deps.now();
      return deps.db.transaction().execute(async (trx) => {
        const user = await trx
          .selectFrom('users')
          .select(['id', 'email', 'display_name', 'roles', 'created_at', 'totp_enrolled_at'])
          .where('id', '=', userId)
          .executeTakeFirst();
        if (!user) throw new HavenError('UNAUTHENTICATED');
        const sessions = await listUserSessions(trx, userId, now);
        // Not patientSelfScope: having no linked record is an ordinary answer here, not a 404.
        const linked = await trx
          .selectFrom('patients')
          .select('id')
          .where('portal_user_id', '=', userId)
          .executeTakeFirst();
        let patient: PatientExport | null = null;
        if (linked) {
          const record = await loadPatientRecordView(trx, linked.id);
          if (!record) throw new HavenError('NOT_FOUND');
          const accessLog: AccessEntry[] = [];
          let before: string | undefined;
          do {
            const page = await listAccessLog(trx, linked.id, {
              before,
              limit: ACCESS_LOG_MAX_LIMIT,
            });
            accessLog.push(...page.entries);
            before = page.nextBefore ?? undefined;
          } while (before !== undefined);
          patient = {
            record,
            consents: await listPatientConsents(trx, linked.id),
            notes: await listSharedNotes(trx, linked.id, { complete: true }),
            accessLog,
          };
        }
        await recordAudit(trx, {
          actor: { type: 'user', id: userId },
          action: 'account.exported',
          target: { type: 'user', id: userId },
          outcome: 'success',
          details: { patientIncluded: patient !== null, sessions: sessions.length },
          ...requestContext(request),
        });
        if (patient && linked) {
          await auditPhi(trx, request, {
            action: 'patient.exported',
            patientId: linked.id,
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
    },
  );
}
