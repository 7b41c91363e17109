// Request ids (L1): a well-formed X-Request-Id from a trusted reverse proxy is kept so traces
// join up across it; otherwise Haven mints one. A client's own header is never taken: the id names
// the request in every log line and audit event (L3), and a caller who could choose it could make
// its requests look like another's. Malformed ids are replaced, never echoed.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

const WELL_FORMED_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

/** Fastify's genReqId for a deployment whose trusted proxies are `trustedProxies`. */
export function requestIdGenerator(
  trustedProxies: readonly string[],
): (request: IncomingMessage) => string {
  // The same trust Fastify gives X-Forwarded-* (its trustProxy compiles the same list).
  const trusted = trustedProxies.length > 0 ? proxyAddr.compile([...trustedProxies]) : undefined;
  return (request) => {
    const peer = request.socket.remoteAddress;
    if (!trusted || peer === undefined || !trusted(peer, 0)) return randomUUID();
    const incoming = request.headers['x-request-id'];
    return typeof incoming === 'string' && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID();
  };
}
