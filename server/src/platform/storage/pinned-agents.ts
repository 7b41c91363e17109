// V5 for S3 bucket endpoints: the SDK's connections go through agents whose DNS lookup is the
// outbound guard's own (platform/http-client.ts): every address a name resolves to is classified
// (no private, loopback, link-local or metadata address), and the socket connects to the address
// that was checked, never to a second answer a rebinding DNS server might give.
import http from 'node:http';
import https from 'node:https';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { OutboundGuard } from '../http-client.js';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** The S3 driver's `agents` option for owned buckets: connections pinned to checked addresses. */
export interface PinnedAgents {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
}

export function pinnedAgents(guard: OutboundGuard, timeoutMs: number): PinnedAgents {
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    guard.pinnedAddress(hostname, AbortSignal.timeout(timeoutMs)).then(
      (address) => {
        const family = address.includes(':') ? 6 : 4;
        if (options.all === true) callback(null, [{ address, family }]);
        else callback(null, address, family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 4),
    );
  };
  return {
    httpAgent: new http.Agent({ keepAlive: true, lookup }),
    httpsAgent: new https.Agent({ keepAlive: true, lookup }),
  };
}
