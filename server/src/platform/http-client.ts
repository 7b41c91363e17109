/**
 * Control V5: SSRF-safe outbound HTTP client (HaveIBeenPwned range API, later webhooks).
 *
 * Every hop is: allowlist check → our own DNS resolution → classification of EVERY returned
 * address → a connection pinned to the checked address → manual redirect handling (each hop
 * re-checked) → an overall time budget and a streaming size cap.
 */
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { Client, buildConnector } from 'undici';

type Reason = 'INVALID_URL' | 'HOST_NOT_ALLOWED' | 'PROTOCOL_FORBIDDEN' | 'ADDRESS_FORBIDDEN';
type Failure = 'DNS_FAILED' | 'TIMEOUT' | 'RESPONSE_TOO_LARGE' | 'TOO_MANY_REDIRECTS' | 'FAILED';
/** Stable, UPPER_SNAKE codes callers and logs can match on. */
export type OutboundErrorCode = `OUTBOUND_${Reason | Failure}`;

export class OutboundRequestError extends Error {
  override readonly name = 'OutboundRequestError';
  readonly code: OutboundErrorCode;
  constructor(code: OutboundErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export type ResolvedAddress = { address: string; family: 4 | 6 };

export interface OutboundClientOptions {
  /** Exact hostnames (case-insensitive); `*.example.com` matches subdomains only, not the apex. */
  allowHosts: readonly string[];
  /** One budget for DNS, connect, headers and body across all hops. Default 5000. */
  timeoutMs?: number;
  /** Streaming cap on the final body. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Default 3. */
  maxRedirects?: number;
  /** Default false: https only. Even when true, an https hop never redirects down to http. */
  allowHttp?: boolean;
  /**
   * Test-only widening (e.g. `127.0.0.1/32` for a local test server). Deliberately never read
   * from environment variables or config files, so production configuration cannot widen the
   * guard by accident; cloud metadata addresses stay refused even inside a widened range.
   */
  allowPrivateCidrs?: readonly string[];
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
}

export interface OutboundRequestInit {
  method?: 'GET' | 'HEAD' | 'POST';
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  url: string;
}

export interface OutboundClient {
  request(url: string | URL, init?: OutboundRequestInit): Promise<OutboundResponse>;
  close(): Promise<void>;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
type Init = Required<OutboundRequestInit>;
const fail = (code: Reason | Failure, message: string, cause?: unknown) =>
  new OutboundRequestError(`OUTBOUND_${code}`, message, { cause });

// Metadata endpoints (AWS/GCP/Azure v4, AWS Nitro v6) are refused even inside allowPrivateCidrs.
const METADATA = ['169.254.169.254', 'fd00:ec2::254'].map((a) =>
  ipaddr.parse(a).toNormalizedString(),
);
// Only IPv6 global unicast (2000::/3) is acceptable; ipaddr.js calls some non-global space
// (e.g. deprecated IPv4-compatible ::a.b.c.d) 'unicast' too.
const IPV6_GLOBAL: Cidr = ipaddr.parseCIDR('2000::/3');
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

const defaultResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await lookup(hostname, { all: true, verbatim: true })).map((r) => ({
    address: r.address,
    family: r.family === 6 ? 6 : 4,
  }));

/** Lower-case, drop IPv6 brackets and a trailing dot, canonicalise IP literals. */
function canonicalHost(host: string): string {
  const h = host.toLowerCase().replace(/^\[(.*)\]$|\.$/g, '$1');
  return ipaddr.isValid(h) ? ipaddr.parse(h).toNormalizedString() : h;
}

/** The checks of one hop, shared by this client and other outbound transports (S3 buckets). */
export interface OutboundGuard {
  /** Allowlist and protocol of `url` (`previous`: the hop it redirected from); the canonical host. */
  readonly checkUrl: (url: URL, previous?: URL) => string;
  /** Our own DNS answer for `host`, every address classified; the one address to connect to. */
  readonly pinnedAddress: (host: string, signal: AbortSignal) => Promise<string>;
}

export type OutboundGuardOptions = Pick<
  OutboundClientOptions,
  'allowHosts' | 'allowHttp' | 'allowPrivateCidrs' | 'resolve'
>;

/** The V5 checks (allowlist, protocol, DNS and address classification) without a transport. */
export function createOutboundGuard(options: OutboundGuardOptions): OutboundGuard {
  const resolve = options.resolve ?? defaultResolve;
  const widened: Cidr[] = (options.allowPrivateCidrs ?? []).map((c) => ipaddr.parseCIDR(c));
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of options.allowHosts) {
    if (entry.startsWith('*.')) suffixes.push('.' + canonicalHost(entry.slice(2)));
    else exact.add(canonicalHost(entry));
  }
  function checkUrl(url: URL, previous?: URL): string {
    if (url.username || url.password) throw fail('INVALID_URL', 'URL carries credentials');
    // http only when explicitly allowed, and never as a downgrade from an https hop.
    const httpOk = options.allowHttp === true && previous?.protocol !== 'https:';
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpOk)) {
      throw fail('PROTOCOL_FORBIDDEN', `Protocol ${url.protocol} refused`);
    }
    const host = canonicalHost(url.hostname);
    if (exact.has(host) || suffixes.some((s) => host.endsWith(s))) return host;
    throw fail('HOST_NOT_ALLOWED', `Host ${host} is not allowlisted`);
  }

  /** Throws unless the address is public unicast (or inside the test-only widening). */
  function checkAddress(raw: string): string {
    if (!ipaddr.isValid(raw)) throw fail('DNS_FAILED', 'Bad address');
    // process() turns ::ffff:a.b.c.d into a.b.c.d, so mapped forms cannot dodge the IPv4 rules.
    const addr = ipaddr.process(raw);
    const widen = widened.some(
      ([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits),
    );
    const forbidden =
      METADATA.includes(addr.toNormalizedString()) ||
      (!widen && addr.range() !== 'unicast') ||
      (!widen && addr.kind() === 'ipv6' && !addr.match(IPV6_GLOBAL));
    if (forbidden) throw fail('ADDRESS_FORBIDDEN', `Address ${addr.toString()} is forbidden`);
    return addr.toString();
  }

  async function pinnedAddress(host: string, signal: AbortSignal): Promise<string> {
    // Literal IPs get the same address rules, without DNS.
    if (ipaddr.isValid(host)) return checkAddress(host);
    signal.throwIfAborted();
    let records: ResolvedAddress[];
    let onAbort = (): void => undefined;
    try {
      // The resolver cannot be cancelled, so race it against the overall budget.
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('aborted')); // replaced by signal.reason below
        signal.addEventListener('abort', onAbort, { once: true });
      });
      records = await Promise.race([resolve(host), aborted]);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw fail('DNS_FAILED', `DNS lookup failed for ${host}`, err);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (records.length === 0) throw fail('DNS_FAILED', `No addresses for ${host}`);
    // Every address must pass: a resolver mixing public and private answers is refused outright.
    const checked = records.map((r) => checkAddress(r.address));
    return checked[0] as string;
  }

  return { checkUrl, pinnedAddress };
}

export function createOutboundClient(options: OutboundClientOptions): OutboundClient {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 3;
  const { checkUrl, pinnedAddress } = createOutboundGuard(options);
  const live = new Set<Client>();
  let closed = false;

  /**
   * One hop over a fresh connection to `address`. Pinning closes the DNS-rebinding TOCTOU gap:
   * if undici resolved the name again, a rebinding DNS server could answer with 127.0.0.1 after
   * we had checked a public address. The connector dials the checked IP itself, while the
   * Host header (from the origin) and TLS SNI/certificate check keep the original hostname.
   * A fresh connection per hop costs keep-alive reuse, acceptable for low-volume HIBP/webhooks.
   */
  async function hop(url: URL, address: string, init: Init, signal: AbortSignal) {
    const base = buildConnector({ timeout: timeoutMs });
    const servername = ipaddr.isValid(canonicalHost(url.hostname)) ? '' : url.hostname;
    const client = new Client(url.origin, {
      connect: (opts, cb) => base({ ...opts, hostname: address, servername }, cb),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    live.add(client);
    try {
      const res = await client.request({
        path: url.pathname + url.search,
        method: init.method,
        headers: init.headers,
        body: init.method === 'POST' ? init.body : null,
        signal,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      const location = headers['location'];
      const status = res.statusCode;
      // Destroying an unread undici body emits an AbortError; swallow it, we chose to stop reading.
      const discard = () => res.body.on('error', () => undefined).destroy();
      const tooLarge = () => (discard(), fail('RESPONSE_TOO_LARGE', `Body over ${maxBytes} bytes`));
      if (REDIRECT_STATUSES.has(status) && location !== undefined) {
        discard();
        return { status, headers, body: Buffer.alloc(0), location };
      }
      // Fail fast on an honest Content-Length; the streaming cap below covers lying or chunked bodies.
      if (Number(headers['content-length']) > maxBytes) throw tooLarge();
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) throw tooLarge();
        chunks.push(chunk);
      }
      return { status, headers, body: Buffer.concat(chunks, total), location: undefined };
    } finally {
      live.delete(client);
      void client.destroy().catch(() => undefined);
    }
  }

  const request: OutboundClient['request'] = async (input, init = {}) => {
    if (closed) throw fail('FAILED', 'Client is closed');
    let url: URL;
    try {
      url = new URL(input);
    } catch (err) {
      throw fail('INVALID_URL', 'Invalid URL', err);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(init.headers ?? {})) {
      if (k.toLowerCase() !== 'host') headers[k] = v; // Host always comes from the checked URL.
    }
    let current: Init = {
      method: init.method ?? 'GET',
      headers,
      body: init.body ?? '',
    };
    // One budget for DNS, connect, headers and body across all hops.
    const controller = new AbortController();
    const timeout = fail('TIMEOUT', `Timed out after ${timeoutMs} ms`);
    const timer = setTimeout(() => controller.abort(timeout), timeoutMs);
    let previous: URL | undefined;
    try {
      for (let redirects = 0; ; redirects++) {
        const host = checkUrl(url, previous);
        const address = await pinnedAddress(host, controller.signal);
        const res = await hop(url, address, current, controller.signal);
        if (res.location === undefined) {
          return { status: res.status, headers: res.headers, body: res.body, url: url.href };
        }
        if (redirects >= maxRedirects) {
          throw fail('TOO_MANY_REDIRECTS', `More than ${maxRedirects} redirects`);
        }
        previous = url;
        try {
          url = new URL(res.location, url);
        } catch (err) {
          throw fail('INVALID_URL', 'Invalid redirect location', err);
        }
        if (url.origin !== previous.origin) {
          // Do not leak credentials to another origin, even an allowlisted one.
          for (const k of Object.keys(current.headers)) {
            if (CREDENTIAL_HEADERS.has(k.toLowerCase())) delete current.headers[k];
          }
        }
        // 303 always, and 301/302 after a POST, become a body-less GET (as browsers do).
        if (res.status === 303 || (res.status < 303 && current.method === 'POST')) {
          current = { ...current, method: 'GET', body: '' };
        }
      }
    } catch (err) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (err instanceof OutboundRequestError) throw err;
      throw fail('FAILED', 'Outbound request failed', err);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    request,
    async close() {
      closed = true;
      await Promise.all([...live].map((c) => c.destroy().catch(() => undefined)));
    },
  };
}
