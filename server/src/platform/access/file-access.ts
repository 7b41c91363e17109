// Who may see one uploaded file (Z4, Z6, F6). Three relationships allow it, each a query that
// carries the caller in its WHERE clause, so a file the caller has no relationship to is never
// loaded and looks exactly like a missing one:
// - owner: the person who uploaded it (every action, deleting included) while they still stand
//   where they stood when they attached it: a file attached to a patient's record stays the
//   uploader's only while they are a member of the record's organization or are the patient
//   themself (ownerStillRelated); someone removed from the organization no longer reads, downloads
//   or deletes the record's documents;
// - organization: clinical staff of the organization the session works in, for files attached to
//   one of its patients (read and download; `documents:read` scope);
// - self: the patient the file is attached to (read and download).
// A deleted file is found by nobody.
import { sql, type RawBuilder } from 'kysely';
import { HavenError } from '../errors.js';
import { isClinicalStaff, organizationScope } from './scopes.js';
import type { AccessResolver, FileAccess, FileAccessBasis, ResolverInput } from './permissions.js';

type Input = ResolverInput<'file'>;

const STAFF_SCOPE = 'documents:read';

function accessTo(input: Input, basis: FileAccessBasis): FileAccess {
  return { userId: input.userId, fileId: input.target.fileId, basis };
}

/**
 * The uploader of a `files` row still related to it: a personal file (no patient), or a file on a
 * record of an organization they are still a member of, or on their own record. For WHERE clauses
 * over `files` (unaliased), next to `files.owner_id = userId`.
 */
export function ownerStillRelated(userId: string): RawBuilder<boolean> {
  return sql<boolean>`(files.patient_id IS NULL
    OR EXISTS (SELECT 1 FROM organization_members AS owner_membership
      WHERE owner_membership.organization_id = files.organization_id
        AND owner_membership.user_id = ${userId})
    OR EXISTS (SELECT 1 FROM patients AS owner_record
      WHERE owner_record.id = files.patient_id AND owner_record.portal_user_id = ${userId}))`;
}

async function asOwner(input: Input): Promise<FileAccess | undefined> {
  const row = await input.db
    .selectFrom('files')
    .select('id')
    .where('id', '=', input.target.fileId)
    .where('owner_id', '=', input.userId)
    .where('status', '<>', 'deleted')
    .where(ownerStillRelated(input.userId))
    .executeTakeFirst();
  return row && accessTo(input, 'owner');
}

async function asPatient(input: Input): Promise<FileAccess | undefined> {
  const row = await input.db
    .selectFrom('files')
    .innerJoin('patients', 'patients.id', 'files.patient_id')
    .select('files.id')
    .where('files.id', '=', input.target.fileId)
    .where('patients.portal_user_id', '=', input.userId)
    .where('files.status', '<>', 'deleted')
    .executeTakeFirst();
  return row && accessTo(input, 'self');
}

async function asStaff(input: Input): Promise<FileAccess | undefined> {
  if (input.request.principal?.scopes.has(STAFF_SCOPE) !== true) return undefined;
  // A file is not an organization's page: a caller working in no organization is simply not
  // related to it (404), rather than asked to choose one (409).
  const scope = await organizationScope(input.db, input.request).catch((error: unknown) => {
    if (error instanceof HavenError && error.code === 'NO_ACTIVE_ORGANIZATION') return undefined;
    throw error;
  });
  // Its researchers are not staff of its patients' records (scopes.ts, isClinicalStaff).
  if (!scope || !isClinicalStaff(scope)) return undefined;
  const { organizationId } = scope;
  const row = await input.db
    .selectFrom('files')
    .select('id')
    .where('id', '=', input.target.fileId)
    .where('organization_id', '=', organizationId)
    .where('status', '<>', 'deleted')
    .executeTakeFirst();
  return row && accessTo(input, 'organization');
}

export const resolveFileAccess: AccessResolver<'file'> = async (input) => {
  const owned = await asOwner(input);
  if (owned) return owned;
  // Only the uploader deletes: a file attached to a record stays for everyone else.
  if (input.action === 'delete') return undefined;
  return (await asPatient(input)) ?? asStaff(input);
};
