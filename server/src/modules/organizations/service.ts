// Organizations and their members (Z4, L3). Every membership query names the organization in
// its WHERE clause, every change is audited in its own transaction, and the changes that
// could leave an organization without an administrator lock its member rows first.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { normalizeEmail } from '../identity/login-throttle.js';
import { inviteUser } from '../identity/onboarding.js';
import type { IdentityContext } from '../identity/session-kit.js';
import type { RequestContext } from '../identity/sign-in.js';
import { MAX_LISTED } from './schemas.js';
import { escapeLike, isUniqueViolation } from '../../platform/db/sql-text.js';

type Db = Kysely<DatabaseSchema>;

/** SQLSTATE of a unique violation. */

// ---------------------------------------------------------------------------------------------
// Views

export interface OrganizationView {
  id: string;
  name: string;
  createdAt: string;
  memberCount: number;
}

export interface MemberView {
  userId: string;
  email: string;
  displayName: string;
  role: OrganizationRole;
  status: 'invited' | 'active' | 'disabled';
  addedAt: string;
}

const organizationColumns = [
  'o.id',
  'o.name',
  'o.created_at',
  sql<number>`(select count(*)::int from organization_members c where c.organization_id = o.id)`.as(
    'member_count',
  ),
] as const;

function toOrganizationView(row: {
  id: string;
  name: string;
  created_at: Date;
  member_count: number | string;
}): OrganizationView {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    memberCount: Number(row.member_count),
  };
}

function membersOf(db: Db, organizationId: string) {
  return db
    .selectFrom('organization_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.email', 'u.display_name', 'm.role', 'u.status', 'm.created_at'])
    .where('m.organization_id', '=', organizationId);
}
type MemberRow = NonNullable<Awaited<ReturnType<ReturnType<typeof membersOf>['executeTakeFirst']>>>;

function toMemberView(row: MemberRow): MemberView {
  return {
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    status: row.status,
    addedAt: row.created_at.toISOString(),
  };
}

async function memberView(db: Db, organizationId: string, userId: string): Promise<MemberView> {
  const row = await membersOf(db, organizationId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new HavenError('NOT_FOUND');
  return toMemberView(row);
}

// ---------------------------------------------------------------------------------------------
// Memberships of the caller

/** The caller's role in an organization, or undefined when they are not a member. */
export async function membershipRole(
  db: Db,
  organizationId: string,
  userId: string,
  lock: 'share' | 'none' = 'none',
): Promise<OrganizationRole | undefined> {
  const query = db
    .selectFrom('organization_members')
    .select('role')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId);
  const row = await (lock === 'share' ? query.forShare() : query).executeTakeFirst();
  return row?.role;
}

/**
 * Z4: the caller must belong to the organization (404 otherwise, like a missing one); with
 * `admin`, they must also be its org_admin (403: they can see it, but not manage it).
 */
export async function requireMembership(
  db: Db,
  organizationId: string,
  userId: string,
  options: { admin?: boolean; lock?: 'share' | 'none' } = {},
): Promise<OrganizationRole> {
  const role = await membershipRole(db, organizationId, userId, options.lock);
  if (!role) throw new HavenError('NOT_FOUND');
  if (options.admin && role !== 'org_admin') {
    throw new HavenError('FORBIDDEN', 'Only organization administrators can manage members.');
  }
  return role;
}

export function listMemberships(db: Db, userId: string) {
  return db
    .selectFrom('organization_members as m')
    .innerJoin('organizations as o', 'o.id', 'm.organization_id')
    .select(['o.id', 'o.name', 'm.role'])
    .where('m.user_id', '=', userId)
    .orderBy(sql`lower(o.name)`)
    .orderBy('o.id')
    .limit(MAX_LISTED)
    .execute();
}

/** Chooses the session's organization; 404 unless the caller is a member of it. */
export async function chooseActiveOrganization(
  db: Db,
  input: RequestContext & { userId: string; sessionId: string; organizationId: string },
): Promise<OrganizationRole> {
  return db.transaction().execute(async (trx) => {
    // FOR SHARE: a removal running now waits, then clears this choice with the others.
    const role = await requireMembership(trx, input.organizationId, input.userId, {
      lock: 'share',
    });
    const updated = await trx
      .updateTable('sessions')
      .set({ active_organization_id: input.organizationId })
      .where('id', '=', input.sessionId)
      .where('user_id', '=', input.userId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) throw new HavenError('NOT_FOUND');
    await recordAudit(trx, {
      actor: { type: 'user', id: input.userId },
      action: 'org.active_selected',
      target: { type: 'organization', id: input.organizationId },
      outcome: 'success',
      details: { role },
      requestId: input.requestId,
      clientAddress: input.clientAddress,
    });
    return role;
  });
}

// ---------------------------------------------------------------------------------------------
// Organizations (platform admins)

/** Names are stored trimmed and NFC-normalized, so look-alike duplicates compare equal. */
export function normalizeOrganizationName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (name.length < 1 || name.length > 120) {
    const message = 'The name must be 1 to 120 characters long.';
    throw new HavenError('VALIDATION_FAILED', message, { errors: [{ field: 'name', message }] });
  }
  return name;
}

const DUPLICATE_NAME = 'An organization with this name already exists.';

export async function createOrganization(
  db: Db,
  input: RequestContext & { name: string; createdBy: string },
): Promise<OrganizationView> {
  return db.transaction().execute(async (trx) => {
    const taken = await trx
      .selectFrom('organizations')
      .select('id')
      .where(sql<boolean>`lower(name) = lower(${input.name})`)
      .executeTakeFirst();
    if (taken) throw new HavenError('CONFLICT', DUPLICATE_NAME);
    const row = await trx
      .insertInto('organizations')
      .values({ name: input.name, created_by: input.createdBy })
      .returning(['id', 'name', 'created_at'])
      .executeTakeFirstOrThrow()
      .catch((error: unknown) => {
        // Created by someone else between the check and the insert (organizations_name_idx).
        if (isUniqueViolation(error)) throw new HavenError('CONFLICT', DUPLICATE_NAME);
        throw error;
      });
    await recordAudit(trx, {
      actor: { type: 'user', id: input.createdBy },
      action: 'org.created',
      target: { type: 'organization', id: row.id },
      outcome: 'success',
      requestId: input.requestId,
      clientAddress: input.clientAddress,
    });
    return toOrganizationView({ ...row, member_count: 0 });
  });
}

/** Ordered by (lower(name), id); `cursor` is the id of the last organization of the page before. */
export async function searchOrganizations(
  db: Db,
  input: { q?: string | undefined; cursor?: string | undefined; limit: number },
): Promise<{ organizations: OrganizationView[]; nextCursor: string | null }> {
  const term = input.q?.normalize('NFC').trim() ?? '';
  let query = db
    .selectFrom('organizations as o')
    .select(organizationColumns)
    .orderBy(sql`lower(o.name)`)
    .orderBy('o.id')
    .limit(input.limit + 1);
  if (term !== '') {
    // lower() on both sides in SQL: JavaScript and PostgreSQL case-fold some letters differently.
    query = query.where(sql<boolean>`lower(o.name) like lower(${`%${escapeLike(term)}%`})`);
  }
  if (input.cursor !== undefined) {
    // An unknown cursor compares with NULL and so yields an empty page.
    query = query.where(
      sql<boolean>`(lower(o.name), o.id) > (select lower(c.name), c.id from organizations c where c.id = ${input.cursor})`,
    );
  }
  const rows = await query.execute();
  const page = rows.slice(0, input.limit).map(toOrganizationView);
  return {
    organizations: page,
    nextCursor: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** 404 unless the organization exists (it is never deleted, so no lock is needed). */
export async function requireOrganization(db: Db, organizationId: string): Promise<void> {
  const row = await db
    .selectFrom('organizations')
    .select('id')
    .where('id', '=', organizationId)
    .executeTakeFirst();
  if (!row) throw new HavenError('NOT_FOUND');
}

// ---------------------------------------------------------------------------------------------
// Members

export function listMembers(db: Db, organizationId: string): Promise<MemberView[]> {
  return membersOf(db, organizationId)
    .orderBy(sql`lower(u.display_name)`)
    .orderBy('m.user_id')
    .limit(MAX_LISTED)
    .execute()
    .then((rows) => rows.map(toMemberView));
}

export interface AddMemberInput extends RequestContext {
  readonly organizationId: string;
  readonly email: string;
  readonly role: OrganizationRole;
  readonly displayName?: string | undefined;
  /** The platform admin or org admin adding the member. */
  readonly actorId: string;
  /**
   * Re-checks, inside the transaction that adds the member, that the actor may still do so
   * (the organization exists; the caller is still its org_admin).
   */
  readonly authorize: (trx: Db) => Promise<void>;
}

export interface AddedMember {
  readonly member: MemberView;
  /** Set when an existing account was added: it is told by mail after commit. */
  readonly notify?: { to: string };
}

async function insertMembership(
  trx: Db,
  input: AddMemberInput,
  userId: string,
  via: 'existing_account' | 'invitation',
): Promise<void> {
  const already = await membershipRole(trx, input.organizationId, userId);
  if (already) throw new HavenError('CONFLICT', 'This person is already a member.');
  await trx
    .insertInto('organization_members')
    .values({
      organization_id: input.organizationId,
      user_id: userId,
      role: input.role,
      added_by: input.actorId,
    })
    .execute()
    .catch((error: unknown) => {
      if (isUniqueViolation(error)) {
        throw new HavenError('CONFLICT', 'This person is already a member.');
      }
      throw error;
    });
  await recordAudit(trx, {
    actor: { type: 'user', id: input.actorId },
    action: 'org.member_added',
    target: { type: 'user', id: userId },
    outcome: 'success',
    details: { organizationId: input.organizationId, role: input.role, via },
    requestId: input.requestId,
    clientAddress: input.clientAddress,
  });
}

/**
 * Adds a member by email. An existing invited or active clinician joins at once; an unknown
 * email gets an identity invitation (role clinician) that commits with the membership; any
 * other existing account, or an existing member, is a 409.
 */
export async function addMember(ctx: IdentityContext, input: AddMemberInput): Promise<AddedMember> {
  const emailKey = normalizeEmail(input.email);
  const existing = await ctx.db.transaction().execute(async (trx) => {
    await input.authorize(trx);
    const user = await trx
      .selectFrom('users')
      .select(['id', 'email', 'roles', 'status'])
      .where('email_normalized', '=', emailKey)
      .forUpdate()
      .executeTakeFirst();
    if (!user) return undefined;
    if (await membershipRole(trx, input.organizationId, user.id)) {
      throw new HavenError('CONFLICT', 'This person is already a member.');
    }
    if (user.status === 'disabled' || !user.roles.includes('clinician')) {
      throw new HavenError(
        'CONFLICT',
        'An account with this email exists but cannot join an organization: only invited or active clinician accounts can. Ask a platform administrator.',
      );
    }
    await insertMembership(trx, input, user.id, 'existing_account');
    return { userId: user.id, email: user.email };
  });
  if (existing) {
    return {
      member: await memberView(ctx.db, input.organizationId, existing.userId),
      notify: { to: existing.email },
    };
  }

  const invited = await inviteUser(ctx, {
    email: input.email,
    role: 'clinician',
    displayName: input.displayName,
    invitedBy: input.actorId,
    requestId: input.requestId,
    clientAddress: input.clientAddress,
    auditAction: 'org.member_invited',
    withinTransaction: async (trx, userId) => {
      // inviteUser re-invites a pending account it finds; that is only right for the account
      // it has just created. One created by another request since our look-up (its created_at
      // is not this transaction's start) must not have its invitation reset: 409, try again.
      const created = await trx
        .selectFrom('users')
        .select('id')
        .where('id', '=', userId)
        .where(sql<boolean>`created_at = now()`)
        .executeTakeFirst();
      if (!created) {
        throw new HavenError(
          'CONFLICT',
          'An account with this email was created meanwhile; please try again.',
        );
      }
      await input.authorize(trx);
      await insertMembership(trx, input, userId, 'invitation');
    },
  }).catch((error: unknown) => {
    // Two requests inviting the same new email at once: the second insert of the user loses.
    if (isUniqueViolation(error)) {
      throw new HavenError(
        'CONFLICT',
        'An account with this email was created meanwhile; please try again.',
      );
    }
    throw error;
  });
  return { member: await memberView(ctx.db, input.organizationId, invited.userId) };
}

/**
 * Locks every member row of the organization, in a fixed order, for the rest of the
 * transaction: concurrent demotions or removals queue behind each other, so two of them cannot
 * both see "another org_admin remains" and together leave none.
 */
async function lockMembers(trx: Db, organizationId: string) {
  return trx
    .selectFrom('organization_members')
    .select(['user_id', 'role'])
    .where('organization_id', '=', organizationId)
    .orderBy('user_id')
    .forUpdate()
    .execute();
}

interface MemberChange extends RequestContext {
  readonly organizationId: string;
  readonly userId: string;
  /** The org admin making the change. */
  readonly actorId: string;
}

/** Runs a member change with the member rows locked, after re-checking the actor is org_admin. */
async function withLockedMembers<T>(
  db: Db,
  change: MemberChange,
  work: (trx: Db, target: { role: OrganizationRole }, adminCount: number) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    const members = await lockMembers(trx, change.organizationId);
    const actor = members.find((m) => m.user_id === change.actorId);
    if (!actor) throw new HavenError('NOT_FOUND');
    if (actor.role !== 'org_admin') {
      throw new HavenError('FORBIDDEN', 'Only organization administrators can manage members.');
    }
    const target = members.find((m) => m.user_id === change.userId);
    if (!target) throw new HavenError('NOT_FOUND');
    const adminCount = members.filter((m) => m.role === 'org_admin').length;
    return work(trx, target, adminCount);
  });
}

export async function changeMemberRole(
  db: Db,
  change: MemberChange & { role: OrganizationRole },
): Promise<MemberView> {
  return withLockedMembers(db, change, async (trx, target, adminCount) => {
    if (target.role !== change.role) {
      if (target.role === 'org_admin' && adminCount <= 1) {
        throw new HavenError(
          'CONFLICT',
          'The last organization administrator cannot be demoted; make someone else an administrator first.',
        );
      }
      await trx
        .updateTable('organization_members')
        .set({ role: change.role })
        .where('organization_id', '=', change.organizationId)
        .where('user_id', '=', change.userId)
        .execute();
      await recordAudit(trx, {
        actor: { type: 'user', id: change.actorId },
        action: 'org.member_role_changed',
        target: { type: 'user', id: change.userId },
        outcome: 'success',
        details: {
          organizationId: change.organizationId,
          role: change.role,
          previous: target.role,
        },
        requestId: change.requestId,
        clientAddress: change.clientAddress,
      });
    }
    return memberView(trx, change.organizationId, change.userId);
  });
}

export async function removeMember(db: Db, change: MemberChange): Promise<void> {
  await withLockedMembers(db, change, async (trx, target, adminCount) => {
    if (target.role === 'org_admin' && adminCount <= 1) {
      throw new HavenError(
        'CONFLICT',
        'The last organization administrator cannot be removed; make someone else an administrator first.',
      );
    }
    await trx
      .deleteFrom('organization_members')
      .where('organization_id', '=', change.organizationId)
      .where('user_id', '=', change.userId)
      .execute();
    // The removed member's sessions stop working in this organization at once.
    const cleared = await trx
      .updateTable('sessions')
      .set({ active_organization_id: null })
      .where('user_id', '=', change.userId)
      .where('active_organization_id', '=', change.organizationId)
      .executeTakeFirst();
    await recordAudit(trx, {
      actor: { type: 'user', id: change.actorId },
      action: 'org.member_removed',
      target: { type: 'user', id: change.userId },
      outcome: 'success',
      details: {
        organizationId: change.organizationId,
        role: target.role,
        sessionsCleared: Number(cleared.numUpdatedRows),
      },
      requestId: change.requestId,
      clientAddress: change.clientAddress,
    });
  });
}
