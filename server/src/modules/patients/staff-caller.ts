// Who acts in a staff use case of this module: the organization scope that every query names,
// and the request the PHI audit event is attributed to (auditPhi reads its principal, request
// id and client address from it).
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { organizationScope, type OrganizationScope } from '../../platform/access/scopes.js';

export interface StaffCaller {
  readonly scope: OrganizationScope;
  readonly request: FastifyRequest;
}

/** Resolves the caller's active organization (409 NO_ACTIVE_ORGANIZATION when none). */
export async function staffCaller(
  db: Kysely<DatabaseSchema>,
  request: FastifyRequest,
): Promise<StaffCaller> {
  return { scope: await organizationScope(db, request), request };
}
