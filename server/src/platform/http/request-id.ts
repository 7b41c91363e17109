// Request ids (L1): a well-formed X-Request-Id from a trusted reverse proxy is kept so traces
// join up across it; otherwise Haven mints one. A client's own header is never taken: the id names
// the request in every log line and audit event (L3), and a caller who could choose it could make
// its requests look like another's. Malformed ids are replaced, never echoed.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';

const WELL_FORMED_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

/** Whether an address is one of `trusted` (IP addresses or CIDRs, HAVEN_TRUSTED_PROXIES). */
function addressMatcher(trusted: readonly string[]): (address: string | undefined) => boolean {
  const ranges = trusted.map((entry) => {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry);
    const exact = ipaddr.parse(entry);
    return [exact, exact.kind() === 'ipv4' ? 32 : 128] as const;
  });
  return (address) => {
    if (address === undefined || ranges.length === 0 || !ipaddr.isValid(address)) return false;
    const peer = ipaddr.process(address); // an IPv4-mapped IPv6 peer is its IPv4 address
    return ranges.some(
      ([network, bits]) => peer.kind() === network.kind() && peer.match(network, bits),
    );
  };
}

/** Fastify's genReqId for a deployment whose trusted proxies are `trustedProxies`. */
export function requestIdGenerator(
  trustedProxies: readonly string[],
): (request: IncomingMessage) => string {
  const fromTrustedProxy = addressMatcher(trustedProxies);
  return (request) => {
    const incoming = request.headers['x-request-id'];
    if (!fromTrustedProxy(request.socket.remoteAddress)) return randomUUID();
    return typeof incoming === 'string' && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID();
  };
}
