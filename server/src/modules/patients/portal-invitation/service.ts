// The portal invitation (A11, Z4): links a patient record to a portal account. An existing
// patient-only account whose email is proven is linked at once; otherwise identity invites a
// new account and the link commits (or not) with that invitation.
import { HavenError } from '../../../platform/errors.js';
import { auditPhi } from '../../../platform/access/phi-audit.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { isUniqueViolation } from '../../../platform/db/sql-text.js';
import type { IdentityApi } from '../../identity/index.js';
import type { StaffCaller } from '../staff-caller.js';
import type { Db } from '../records/repo.js';
import { findWritablePatient } from '../records/service.js';
import {
  isAccountLinked,
  isCreatedInThisTransaction,
  linkPortalAccount,
  lockAccountByEmail,
} from './repo.js';

const alreadyLinked = () =>
  new HavenError('CONFLICT', 'This patient record is already linked to a portal account.');
const accountTaken = () =>
  new HavenError('CONFLICT', 'An account with this email cannot be linked to a patient.', {
    errors: [{ field: 'body.email', message: 'belongs to an account that cannot be linked' }],
  });

/** Links the record to `userId` unless it (or the account) is linked already; audited. */
async function link(trx: Db, caller: StaffCaller, patientId: string, userId: string) {
  if (!(await linkPortalAccount(trx, caller.scope.organizationId, patientId, userId))) {
    throw alreadyLinked();
  }
  await auditPhi(trx, caller.request, { action: 'patient.portal_invited', patientId });
}

/** Links an existing account with this email when it may be linked; false when none exists. */
async function linkExistingAccount(
  db: Db,
  identity: IdentityApi,
  caller: StaffCaller,
  patientId: string,
  email: string,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const patient = await findWritablePatient(trx, caller.scope.organizationId, patientId);
    if (patient.portal_user_id !== null) throw alreadyLinked();
    const account = await lockAccountByEmail(trx, identity.normalizeEmail(email));
    if (!account) return false;
    const patientOnly =
      account.roles.length > 0 && account.roles.every((role) => role === 'patient');
    // Only an account whose email is proven (active) is linked at once. A pending one, such
    // as a self sign-up awaiting verification, holds a password chosen by whoever typed
    // this email in: linking it would hand the record to them if it is ever activated.
    if (!patientOnly || account.status !== 'active') throw accountTaken();
    if (await isAccountLinked(trx, account.id)) throw accountTaken();
    await link(trx, caller, patientId, account.id);
    return true;
  });
}

/** Invites (or links) the patient's portal account; answers which of the two happened. */
export async function invitePatientToPortal(
  db: Db,
  identity: IdentityApi,
  caller: StaffCaller,
  patientId: string,
  email: string,
): Promise<'invited' | 'linked'> {
  try {
    if (await linkExistingAccount(db, identity, caller, patientId, email)) return 'linked';
    // No account with this email: invite one; the link commits (or not) with the invitation.
    await identity.inviteUser({
      email,
      role: 'patient',
      invitedBy: caller.scope.userId,
      auditAction: 'portal.user_invited',
      withinTransaction: async (trx, userId) => {
        // Only an account created by this very transaction: had another one with this email
        // appeared since the check above, inviteUser would have re-invited it as a patient,
        // which must not stand.
        if (!(await isCreatedInThisTransaction(trx, userId))) throw accountTaken();
        await link(trx, caller, patientId, userId);
      },
      ...requestContext(caller.request),
    });
    return 'invited';
  } catch (error) {
    // The account was linked to another record concurrently (UNIQUE portal_user_id).
    if (isUniqueViolation(error)) throw accountTaken();
    throw error;
  }
}
