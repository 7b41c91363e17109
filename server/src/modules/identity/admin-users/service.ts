// User administration (Z3, Z5, L3): search and a user's sessions (reads are audited too: the
// list shows every user's email address), roles, disable/enable and ending a user's sessions.
// Every change is audited with the admin as actor and the user as target, in the same
// transaction; changes that alter what a user may do end their sessions, so the next access
// token (minted at sign-in) carries the new scopes.
import { accountRoleForMembership } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import type { Role } from '../../../platform/db/schema.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { IdentityDeps, IdentitySettings } from '../dependencies.js';
import { voidAllOneTimeTokens } from '../onboarding/one-time-tokens-repo.js';
import { organizationRoleLabel, requiresMfa } from '../roles.js';
import { listUserSessions, revokeUserSessions } from '../sessions/repo.js';
import { endSessions } from '../sessions/session-kit.js';
import {
  findUser,
  hasPassword,
  membershipsOf,
  searchUsers,
  setRoles,
  setStatus,
  type Db,
  type UserRow,
} from './repo.js';
import type { UserQuery } from './schemas.js';

type Context = ModuleContext<IdentitySettings>;

/** Who acts, on whom, for the audit trail. */
export interface AdminCall extends RequestContext {
  readonly adminId: string;
  readonly userId: string;
}

export function toView(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    roles: row.roles,
    organizationRoles: row.organization_roles,
    status: row.status,
    mfaEnrolled: row.totp_enrolled_at !== null,
    createdAt: row.created_at.toISOString(),
  };
}

export async function listUsers(
  context: Context,
  adminId: string,
  params: UserQuery,
  request: RequestContext,
) {
  const limit = params.limit ?? 50;
  const term = params.query?.trim().toLowerCase() ?? '';
  const rows = await searchUsers(context.db, { ...params, term, limit });
  const page = rows.slice(0, limit);
  await recordUserEvent(context.db, adminId, request, {
    action: 'admin.users_listed',
    details: { results: page.length, filtered: term !== '' || params.status !== undefined },
  });
  return {
    users: page.map(toView),
    nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

export async function userSessions(context: Context, call: AdminCall) {
  const { adminId, userId, ...request } = call;
  if (!(await findUser(context.db, userId))) throw new HavenError('NOT_FOUND');
  const sessions = await listUserSessions(context.db, userId, context.now());
  await recordUserEvent(context.db, adminId, request, {
    action: 'admin.user_sessions_listed',
    target: { type: 'user', id: userId },
    details: { count: sessions.length },
  });
  return sessions;
}

type Change = (
  trx: Db,
  user: UserRow,
) => Promise<{ revoked: string[]; details?: Record<string, string | number | boolean> }>;

/**
 * Runs an admin change on a locked user row, audits it in the same transaction and marks
 * any sessions it ended as revoked on this node at once (other nodes follow within a second).
 */
async function changeUser(
  { context, services }: IdentityDeps,
  call: AdminCall,
  action: string,
  change: Change,
) {
  const { adminId, userId, ...request } = call;
  const result = await context.db.transaction().execute(async (trx) => {
    const user = await findUser(trx, userId, true);
    if (!user) throw new HavenError('NOT_FOUND');
    const { revoked, details } = await change(trx, user);
    await recordUserEvent(trx, adminId, request, {
      action,
      target: { type: 'user', id: user.id },
      details: { sessions_ended: revoked.length, ...details },
    });
    return { revoked, user: await findUser(trx, user.id) };
  });
  for (const sessionId of result.revoked) services.revocations.markRevoked(sessionId);
  if (!result.user) throw new HavenError('NOT_FOUND');
  return { user: toView(result.user) };
}

/**
 * Z3/Z4: a membership needs the account role it was granted for (a clinician or org admin
 * membership the clinician role, a researcher membership the researcher role). Taking that role
 * away while the membership lasts left a stale membership behind: an org admin made a patient
 * kept running the organization's storage, a researcher made a clinician reached its patients.
 * The admin removes the membership first (or the organization's admin changes it); the answer
 * names the organizations.
 */
async function refuseOrphanedMemberships(trx: Db, userId: string, roles: Role[]): Promise<void> {
  const orphaned = (await membershipsOf(trx, userId)).filter(
    (membership) => !roles.includes(accountRoleForMembership(membership.role)),
  );
  if (orphaned.length === 0) return;
  const places = orphaned
    .map((m) => `${m.name} (${organizationRoleLabel(m.role).toLowerCase()})`)
    .join(', ');
  const needed = [...new Set(orphaned.map((m) => accountRoleForMembership(m.role)))].join(' and ');
  throw new HavenError(
    'CONFLICT',
    `This person works in ${places}, which needs the ${needed} role. Remove them from ${orphaned.length === 1 ? 'that organization' : 'those organizations'} first, or keep the role.`,
  );
}

export function changeRoles(deps: IdentityDeps, call: AdminCall, roles: Role[]) {
  const { context } = deps;
  return changeUser(deps, call, 'admin.user_roles_changed', async (trx, user) => {
    if (user.id === call.adminId && user.roles.includes('admin') && !roles.includes('admin')) {
      throw new HavenError('CONFLICT', 'You cannot remove your own admin role.');
    }
    // Such a user could no longer sign in; they enrol first (an invitee enrols on accepting).
    if (
      requiresMfa(roles, context.settings.mfaRequiredRoles) &&
      user.status === 'active' &&
      user.totp_enrolled_at === null
    ) {
      throw new HavenError('CONFLICT', 'This role requires MFA; the user must set it up first.');
    }
    await refuseOrphanedMemberships(trx, user.id, roles);
    await setRoles(trx, user.id, roles, context.now());
    const revoked = await revokeUserSessions(trx, user.id, 'roles_changed', context.now());
    return { revoked, details: { roles: roles.join(' '), previous: user.roles.join(' ') } };
  });
}

export function disableUser(deps: IdentityDeps, call: AdminCall) {
  return changeUser(deps, call, 'admin.user_disabled', async (trx, user) => {
    if (user.id === call.adminId) throw new HavenError('CONFLICT', 'You cannot disable yourself.');
    const now = deps.context.now();
    await setStatus(trx, user.id, 'disabled', now);
    // Pending invitation, reset and verification links and MFA steps die with the account.
    await voidAllOneTimeTokens(trx, user.id, now);
    const revoked = await revokeUserSessions(trx, user.id, 'user_disabled', now);
    // Apps acting for the person end too: re-enabling the account must not revive them.
    await deps.services.credentialEndings.run(trx, user.id);
    return { revoked, details: { previous: user.status } };
  });
}

export function enableUser(deps: IdentityDeps, call: AdminCall) {
  return changeUser(deps, call, 'admin.user_enabled', async (trx, user) => {
    if (user.status !== 'disabled') {
      return { revoked: [], details: { changed: false, status: user.status } };
    }
    // Someone disabled before accepting their invitation has no password: they go back to
    // 'invited' and need a fresh invitation (the old link was voided on disable).
    const status = (await hasPassword(trx, user.id)) ? 'active' : 'invited';
    await setStatus(trx, user.id, status, deps.context.now());
    return { revoked: [], details: { changed: true, status } };
  });
}

export async function endUserSessions(deps: IdentityDeps, call: AdminCall): Promise<number> {
  const { adminId, userId, ...request } = call;
  if (!(await findUser(deps.context.db, userId))) throw new HavenError('NOT_FOUND');
  const ending = {
    actorId: adminId,
    action: 'admin.user_sessions_revoked',
    reason: 'revoked_by_admin',
    target: { type: 'user', id: userId },
    ...request,
  };
  return endSessions(deps, ending, (trx) =>
    revokeUserSessions(trx, userId, 'revoked_by_admin', deps.context.now()),
  );
}
