// Who may read or change one patient record (Z4, Z5). Three relationships allow it today, each
// checked by a query that carries the caller in its WHERE clause, so a record the caller has no
// relationship to is never loaded and looks exactly like a missing one:
// - a break-glass grant: read only, this admin's own grant on this patient, unexpired, unrevoked;
// - self: the user whose account the record is linked to (patients.portal_user_id);
// - membership: clinical staff (org_admin or clinician) in the organization the session works in.
import { isClinicalStaff, linkedPatientScope, organizationScope } from './scopes.js';
import type {
  ActionOf,
  AccessResolver,
  PatientAccess,
  PatientAccessBasis,
  ResolverInput,
} from './permissions.js';

type Input = ResolverInput<'patient'>;

/**
 * The scope staff must hold for each action before membership counts. Without it the caller is
 * not acting as staff, so a missing active organization (409) is no reason to refuse them: a
 * patient asking for someone else's record gets the same 404 as for a missing one.
 */
const STAFF_SCOPE: Readonly<Record<ActionOf<'patient'>, string>> = Object.freeze({
  read: 'patients:read',
  write: 'patients:write',
});
const BREAK_GLASS_SCOPE = 'breakglass:request';

function holds(input: Input, scope: string): boolean {
  return input.request.principal?.scopes.has(scope) === true;
}

/** The record linked to the caller's account; its own 404 says that no record is linked. */
async function ownRecord(input: Input): Promise<PatientAccess> {
  // input.userId is the person requireAccess established: their own session, or an app they
  // connected when the permission is patient:read (require-access.ts decides which).
  const self = await linkedPatientScope(input.db, input.userId);
  return { ...self, basis: { via: 'self' } };
}

function accessTo(
  input: Input,
  patientId: string,
  organizationId: string,
  basis: PatientAccessBasis,
): PatientAccess {
  return { userId: input.userId, patientId, organizationId, basis };
}

async function asSelf(input: Input, patientId: string): Promise<PatientAccess | undefined> {
  const row = await input.db
    .selectFrom('patients')
    .select('organization_id')
    .where('id', '=', patientId)
    .where('portal_user_id', '=', input.userId)
    .executeTakeFirst();
  return row && accessTo(input, patientId, row.organization_id, { via: 'self' });
}

async function asMember(input: Input, patientId: string): Promise<PatientAccess | undefined> {
  if (!holds(input, STAFF_SCOPE[input.action])) return undefined;
  const scope = await organizationScope(input.db, input.request);
  // A researcher member is not staff of the record's organization, whatever scopes they hold.
  if (!isClinicalStaff(scope)) return undefined;
  const { organizationId, role } = scope;
  const row = await input.db
    .selectFrom('patients')
    .select('id')
    .where('id', '=', patientId)
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row && accessTo(input, patientId, organizationId, { via: 'organization', role });
}

/**
 * A grant opens reads only. FOR SHARE makes a concurrent revocation wait for the caller's
 * transaction, so a grant revoked is never used after its revocation commits.
 */
async function underGrant(
  input: Input,
  patientId: string,
  grantId: string,
): Promise<PatientAccess | undefined> {
  if (input.action !== 'read' || !holds(input, BREAK_GLASS_SCOPE)) return undefined;
  const grant = await input.db
    .selectFrom('break_glass_grants')
    .select('organization_id')
    .where('id', '=', grantId)
    .where('admin_id', '=', input.userId)
    .where('patient_id', '=', patientId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', input.now)
    .forShare()
    .executeTakeFirst();
  return (
    grant && accessTo(input, patientId, grant.organization_id, { via: 'break_glass', grantId })
  );
}

export const resolvePatientAccess: AccessResolver<'patient'> = async (input) => {
  const { target } = input;
  if ('ownRecord' in target) return ownRecord(input);
  // Staff routes ask for membership alone: a clinician who is also a patient somewhere does not
  // reach their own record through them.
  if ('via' in target) return asMember(input, target.patientId);
  // Acting under a grant is explicit: a grant that does not cover the record never falls back
  // to another relationship, and no other relationship is widened by holding a grant.
  if (target.grantId !== undefined) return underGrant(input, target.patientId, target.grantId);
  // Self first: a relationship that holds is not hidden behind a staff member's 409 for having
  // no active organization.
  return (await asSelf(input, target.patientId)) ?? asMember(input, target.patientId);
};
