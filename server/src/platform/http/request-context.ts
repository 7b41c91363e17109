// Who asked, for the audit trail: the request id (joins the log line) and the client address
// (after the trusted-proxy rules). Every audited use case takes this instead of the request.
import type { FastifyRequest } from 'fastify';

export interface RequestContext {
  readonly requestId: string;
  readonly clientAddress: string;
}

export function requestContext(request: FastifyRequest): RequestContext {
  return { requestId: request.id, clientAddress: request.ip };
}
