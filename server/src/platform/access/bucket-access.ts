// Who may read, use or manage one owned storage bucket (Z4, F1). Two relationships allow it, each
// a query carrying the caller in its WHERE clause, so a bucket the caller has no relationship to
// is never loaded and answers exactly like a missing one (404):
// - owner: the person who owns it (every action);
// - organization: members of the owning organization whose account is staff (`orgs:members`) —
//   its administrators manage it, members holding `files:write` read it and upload into it.
// A bucket marked deleted is found by nobody. The system default bucket has no row and is never
// a target here (it is read-only through the API, Z6).
import type { AccessResolver, BucketAccess, ResolverInput } from './permissions.js';
import { ORGANIZATION_STAFF_SCOPE } from './scopes.js';

type Input = ResolverInput<'bucket'>;

const USE_SCOPE = 'files:write';

export const resolveBucketAccess: AccessResolver<'bucket'> = async (input: Input) => {
  const { bucketId } = input.target;
  const row = await input.db
    .selectFrom('buckets')
    .leftJoin('organization_members as m', (join) =>
      join
        .onRef('m.organization_id', '=', 'buckets.owner_organization_id')
        .on('m.user_id', '=', input.userId),
    )
    .select(['buckets.id', 'buckets.owner_user_id', 'buckets.owner_organization_id', 'm.role'])
    .where('buckets.id', '=', bucketId)
    .where('buckets.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([eb('buckets.owner_user_id', '=', input.userId), eb('m.user_id', '=', input.userId)]),
    )
    .executeTakeFirst();
  if (!row) return undefined;
  if (row.owner_user_id === input.userId) {
    return { userId: input.userId, bucketId, basis: 'owner', organizationId: null };
  }
  const organizationId = row.owner_organization_id;
  if (organizationId === null) return undefined;
  // A membership counts only for a staff account: one an admin made a patient since it joined
  // neither manages nor uses the organization's storage (scopes.ts).
  if (input.request.principal?.scopes.has(ORGANIZATION_STAFF_SCOPE) !== true) return undefined;
  const access = (basis: BucketAccess['basis']): BucketAccess => ({
    userId: input.userId,
    bucketId,
    basis,
    organizationId,
  });
  if (row.role === 'org_admin') return access('organization_admin');
  if (input.action === 'manage') return undefined;
  if (input.request.principal?.scopes.has(USE_SCOPE) !== true) return undefined;
  return access('organization_member');
};
