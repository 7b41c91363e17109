// The portal invitation (A11, Z4): links a patient record to a portal account. An existing
// patient-only account whose email is proven is linked at once; otherwise identity invites a
// new account and the link commits (or not) with that invitation.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { auditPhi, type PatientAccess } from '../../../platform/access/index.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { isUniqueViolation } from '../../../platform/db/sql-text.js';
import type { IdentityApi } from '../../identity/index.js';
import type { Db } from '../records/repo.js';
import { onPatient } from '../records/service.js';
import { createdInThisTransaction, lockAccountByEmail } from '../../organizations/index.js';
import {
  isAccountLinked,
  linkPortalAccount,
  organizationName,
  patientDisplayName,
} from './repo.js';

const alreadyLinked = () =>
  new HavenError('CONFLICT', 'This patient record is already linked to a portal account.');
const accountTaken = () =>
  new HavenError('CONFLICT', 'An account with this email cannot be linked to a patient.', {
    errors: [{ field: 'body.email', message: 'belongs to an account that cannot be linked' }],
  });

/** Who links which record: the staff access requireAccess allowed, and its request. */
interface Inviter {
  readonly request: FastifyRequest;
  readonly access: PatientAccess;
}

/** Links the record to `userId` unless it (or the account) is linked already; audited. */
async function link(trx: Db, inviter: Inviter, userId: string) {
  const { organizationId, patientId } = inviter.access;
  if (!(await linkPortalAccount(trx, organizationId, patientId, userId))) throw alreadyLinked();
  await auditPhi(trx, inviter.request, { action: 'patient.portal_invited', patientId });
}

/**
 * Links an existing account with this email when it may be linked. Answers the access the
 * record was reached with, and whether an account was linked (false when none has the email).
 */
async function linkExistingAccount(
  db: Db,
  identity: IdentityApi,
  request: FastifyRequest,
  patientId: string,
  email: string,
): Promise<{ inviter: Inviter; linked: boolean }> {
  return onPatient(db, request, patientId, 'write', async (trx, patient, access) => {
    const inviter = { request, access };
    if (patient.portal_user_id !== null) throw alreadyLinked();
    const account = await lockAccountByEmail(trx, identity.normalizeEmail(email));
    if (!account) return { inviter, linked: false };
    const patientOnly =
      account.roles.length > 0 && account.roles.every((role) => role === 'patient');
    // Only an account whose email is proven (active) is linked at once. A pending one, such
    // as a self sign-up awaiting verification, holds a password chosen by whoever typed
    // this email in: linking it would hand the record to them if it is ever activated.
    if (!patientOnly || account.status !== 'active') throw accountTaken();
    if (await isAccountLinked(trx, account.id)) throw accountTaken();
    await link(trx, inviter, account.id);
    return { inviter, linked: true };
  });
}

/** Invites (or links) the patient's portal account; answers which of the two happened. */
export async function invitePatientToPortal(
  db: Db,
  identity: IdentityApi,
  request: FastifyRequest,
  patientId: string,
  email: string,
): Promise<'invited' | 'linked'> {
  try {
    const existing = await linkExistingAccount(db, identity, request, patientId, email);
    if (existing.linked) return 'linked';
    // No account with this email: invite one; the link commits (or not) with the invitation.
    // The mail names the clinic keeping the record (a patient has no membership to name it).
    await identity.inviteUser({
      email,
      role: 'patient',
      displayName: await patientDisplayName(db, existing.inviter.access.patientId),
      invitedBy: existing.inviter.access.userId,
      organizationName: await organizationName(db, existing.inviter.access.organizationId),
      auditAction: 'portal.user_invited',
      withinTransaction: async (trx, userId) => {
        // Only an account created by this very transaction: had another one with this email
        // appeared since the check above, inviteUser would have re-invited it as a patient,
        // which must not stand.
        if (!(await createdInThisTransaction(trx, userId))) throw accountTaken();
        await link(trx, existing.inviter, userId);
      },
      ...requestContext(request),
    });
    return 'invited';
  } catch (error) {
    // The account was linked to another record concurrently (UNIQUE portal_user_id).
    if (isUniqueViolation(error)) throw accountTaken();
    throw error;
  }
}
