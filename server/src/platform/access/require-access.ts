// The one access check for records (Z4, Z5), deny by default: a permission not in the table,
// a resource that does not exist and a resource the caller has no relationship to all answer the
// same 404 NOT_FOUND, so no answer tells a caller whether someone else's record exists.
//
// Adding a kind of resource (a study, a participant assignment, a file):
// 1. permissions.ts: add its actions to RESOURCE_ACTIONS, how it is named to AccessTargets, what
//    an allowed caller learns to AccessResults, and its 404 detail to NOT_FOUND_DETAIL;
// 2. write its resolver in its own file (e.g. study-access.ts), one scoped query per
//    relationship that allows it (study membership, assignment, ownership), undefined otherwise;
// 3. add the resolver to RESOLVERS below — the type refuses the table until every kind has one;
// 4. add its cases to require-access.security.test.ts (member, outsider, missing: same 404).
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { HavenError } from '../errors.js';
import { resolveBucketAccess } from './bucket-access.js';
import { resolveFileAccess } from './file-access.js';
import { resolveOrganizationAccess } from './organization-access.js';
import { resolvePatientAccess } from './patient-access.js';
import { resolveAssignmentAccess, resolveStudyAccess } from './study-access.js';
import {
  NOT_FOUND_DETAIL,
  OWN_RECORD,
  RESOURCE_ACTIONS,
  type AccessResolver,
  type AccessResults,
  type AccessTargets,
  type ActionOf,
  type KindOf,
  type Permission,
  type ResourceKind,
} from './permissions.js';
import { requirePerson, requireUser } from './scopes.js';

type Db = Kysely<DatabaseSchema>;

const RESOLVERS: { readonly [K in ResourceKind]: AccessResolver<K> } = Object.freeze({
  patient: resolvePatientAccess,
  organization: resolveOrganizationAccess,
  study: resolveStudyAccess,
  assignment: resolveAssignmentAccess,
  file: resolveFileAccess,
  bucket: resolveBucketAccess,
});

function isResourceKind(kind: string): kind is ResourceKind {
  return Object.hasOwn(RESOURCE_ACTIONS, kind);
}

function isActionOf<K extends ResourceKind>(kind: K, action: string): action is ActionOf<K> {
  return (RESOURCE_ACTIONS[kind] as readonly string[]).includes(action);
}

/** Calls the kind's resolver with its own input type (one generic call instead of a switch). */
function resolve<K extends ResourceKind>(
  kind: K,
  input: Parameters<AccessResolver<K>>[0],
): Promise<AccessResults[K] | undefined> {
  const resolver: AccessResolver<K> = RESOLVERS[kind];
  return resolver(input);
}

/**
 * Allows `permission` on the resource `target` names, or throws: 404 NOT_FOUND when the caller
 * has no relationship to it or it does not exist (one answer for both), 403 for machine clients
 * (records are read by people only). Pass the transaction the access happens in, so the check and
 * the read see the same rows; `now` is the clock grant expiry is judged by.
 */
export async function requireAccess<P extends Permission>(
  db: Db,
  request: FastifyRequest,
  permission: P,
  target: AccessTargets[KindOf<P>],
  options: { readonly now?: Date } = {},
): Promise<AccessResults[KindOf<P>]> {
  // An app acting for a person (A12) reads that person's own record and nothing else: no other
  // target, no write. Every other access needs the person's own session.
  const { userId } =
    permission === 'patient:read' && target === OWN_RECORD
      ? requirePerson(request)
      : requireUser(request);
  const [kind = '', action = ''] = permission.split(':');
  // The types allow only listed permissions; this guards callers the compiler cannot see.
  if (!isResourceKind(kind) || !isActionOf(kind, action)) throw new HavenError('NOT_FOUND');
  const now = options.now ?? new Date();
  const access = await resolve(kind as KindOf<P>, {
    db,
    request,
    userId,
    action,
    target,
    now,
  });
  if (access === undefined) throw new HavenError('NOT_FOUND', NOT_FOUND_DETAIL[kind]);
  return access;
}
