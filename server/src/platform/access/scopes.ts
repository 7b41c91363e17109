// Who may touch which clinical rows (Z4). Every clinical query starts from one of these scopes
// and puts it in its WHERE clause: rows outside the caller's organization or own record are
// never loaded, so "someone else's" and "missing" are the same 404 by construction.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole } from '../db/schema.js';
import { HavenError } from '../errors.js';
import { requirePrincipal } from '../auth/access.js';

type Db = Kysely<DatabaseSchema>;

/** A member working in their active organization. */
export interface OrganizationScope {
  readonly userId: string;
  readonly organizationId: string;
  readonly role: OrganizationRole;
}

/** A patient-role user and the one patient record linked to their account. */
export interface PatientSelfScope {
  readonly userId: string;
  readonly patientId: string;
  readonly organizationId: string;
}

/**
 * The caller's user id; clinical data is only ever read by people, never by machine clients.
 * A person's own signed-in session only: an app acting for the person (an OAuth grant, A12)
 * has no session and is refused here (see requirePerson for the one place it is let in).
 */
export function requireUser(request: FastifyRequest): { userId: string; sessionId: string } {
  const principal = requirePrincipal(request);
  if (principal.kind !== 'user' || principal.sessionId === undefined) {
    throw new HavenError('FORBIDDEN', 'Clinical data is only available to signed-in people.');
  }
  return { userId: principal.subject, sessionId: principal.sessionId };
}

/**
 * The person behind the request: their own session, or an app the person connected (A12,
 * `delegation`), whose token holds only consented scopes the person still has. Used only by
 * requireAccess for a person's reads of their own record; everything else stays requireUser.
 */
export function requirePerson(request: FastifyRequest): { userId: string } {
  const principal = requirePrincipal(request);
  const person = principal.sessionId !== undefined || principal.delegation !== undefined;
  if (principal.kind !== 'user' || !person) {
    throw new HavenError('FORBIDDEN', 'Clinical data is only available to signed-in people.');
  }
  return { userId: principal.subject };
}

/**
 * The organization this session works in. The session's chosen organization when the caller
 * is still a member of it; otherwise their only membership; otherwise 409 NO_ACTIVE_ORGANIZATION.
 */
export async function organizationScope(
  db: Db,
  request: FastifyRequest,
): Promise<OrganizationScope> {
  const { userId, sessionId } = requireUser(request);
  const chosen = await db
    .selectFrom('sessions')
    .innerJoin('organization_members as m', (join) =>
      join
        .onRef('m.organization_id', '=', 'sessions.active_organization_id')
        .on('m.user_id', '=', userId),
    )
    .select(['m.organization_id', 'm.role'])
    .where('sessions.id', '=', sessionId)
    .where('sessions.user_id', '=', userId)
    .executeTakeFirst();
  if (chosen) return { userId, organizationId: chosen.organization_id, role: chosen.role };
  const memberships = await db
    .selectFrom('organization_members')
    .select(['organization_id', 'role'])
    .where('user_id', '=', userId)
    .limit(2)
    .execute();
  const only = memberships.length === 1 ? memberships[0] : undefined;
  if (only) return { userId, organizationId: only.organization_id, role: only.role };
  throw new HavenError(
    'NO_ACTIVE_ORGANIZATION',
    memberships.length === 0
      ? 'You are not a member of any organization.'
      : 'Choose the organization to work in first.',
  );
}

/**
 * The scope every organization staff account holds (the clinician account role's). A membership
 * counts for running the organization or its storage only with it: memberships outlive account
 * role changes, and an account an admin made a patient since it joined keeps no say there.
 */
export const ORGANIZATION_STAFF_SCOPE = 'orgs:members';

/**
 * The membership roles that make someone clinical staff of an organization: they see and change
 * its patients' records and documents. A researcher member runs studies and sees no PHI, even when
 * their account also holds clinical scopes (a clinician elsewhere, or an account role changed
 * after they joined): the scopes say what a person may do somewhere, the membership role says
 * what this organization let them do.
 */
const CLINICAL_STAFF_ROLES: ReadonlySet<OrganizationRole> = new Set(['org_admin', 'clinician']);

export function isClinicalStaff(scope: { readonly role: OrganizationRole }): boolean {
  return CLINICAL_STAFF_ROLES.has(scope.role);
}

/**
 * The account role a membership role needs: researchers run studies (issue 10) and hold no
 * clinical scopes; administrators and clinicians are clinical staff. A member joins only with
 * it (modules/organizations/members/service.ts), and an admin cannot take it away while the
 * membership lasts (modules/identity/admin-users/service.ts, changeRoles).
 */
export function accountRoleForMembership(role: OrganizationRole): 'clinician' | 'researcher' {
  return role === 'researcher' ? 'researcher' : 'clinician';
}

/** Organization administrators only; other members get 403 (they can see the organization). */
export function requireOrganizationAdmin(scope: OrganizationScope): void {
  if (scope.role !== 'org_admin') {
    throw new HavenError('FORBIDDEN', 'Only organization administrators can do this.');
  }
}

/** The patient record linked to the calling patient-role user; 404 when none is. */
export async function patientSelfScope(db: Db, request: FastifyRequest): Promise<PatientSelfScope> {
  return linkedPatientScope(db, requireUser(request).userId);
}

/**
 * The patient record linked to `userId`'s account; 404 when none is. Only for a caller already
 * established as that person (requireAccess decides whether an app acting for them may ask).
 */
export async function linkedPatientScope(db: Db, userId: string): Promise<PatientSelfScope> {
  const row = await db
    .selectFrom('patients')
    .select(['id', 'organization_id'])
    .where('portal_user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new HavenError('NOT_FOUND', 'No patient record is linked to your account.');
  return { userId, patientId: row.id, organizationId: row.organization_id };
}
