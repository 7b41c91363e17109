// Rate limiting (R1): one counter per (rate class, client) with limits from config.
// Counters live in Redis when configured, so every node shares them; in memory otherwise.
// The limiter is a global onRequest hook installed before access control, so refused
// requests (no credentials, missing scope) are counted too, and a client over its limit is
// turned away before its token is verified.
import { createHash } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import type { RateClass, RateLimitRule } from '../../config.js';
import { HavenError } from '../errors.js';

// Parsing the address with ipaddr.js was a third of the limiter's cost per request (issue 9),
// and a client sends many requests from one address, so the keys of recent addresses are kept.
const CLIENT_KEYS_REMEMBERED = 4096;
/** Seconds a caller should wait while the rate-limit store (Redis) is unreachable. */
const RATE_STORE_RETRY_AFTER_SECONDS = 1;
/** The longest textual IP address (IPv6 with an IPv4 tail, `ffff:…:255.255.255.255`). */
const LONGEST_ADDRESS = 45;
const clientKeys = new Map<string, string>();

/**
 * The key a client is counted under: its IPv4 address, or its IPv6 /64 (one subscriber's
 * allocation, so rotating addresses inside it does not reset the count).
 */
export function clientKey(address: string): string {
  let key = clientKeys.get(address);
  if (key === undefined) {
    key = parseClientKey(address);
    // Bounded twice over: only address-sized strings are kept, and a flood from many
    // addresses refills the map instead of growing it.
    if (address.length > LONGEST_ADDRESS) return key;
    if (clientKeys.size >= CLIENT_KEYS_REMEMBERED) clientKeys.clear();
    clientKeys.set(address, key);
  }
  return key;
}

function parseClientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}

/**
 * The class whose limit applies to requests of a per-subject route that name no subject
 * (see `rateSubject`): strict, so leaving the subject out never widens a client's budget.
 */
export const UNIDENTIFIED_SUBJECT_CLASS: RateClass = 'auth';

interface Counter {
  readonly key: string;
  readonly rule: RateLimitRule;
}

function counterFor(
  request: FastifyRequest,
  limits: Readonly<Record<RateClass, RateLimitRule>>,
): Counter {
  const config = request.routeOptions.config;
  const rateClass = config.rateClass ?? 'public';
  const client = clientKey(request.ip);
  if (!config.rateSubject) return { key: `${rateClass}:${client}`, rule: limits[rateClass] };
  const subject = config.rateSubject(request);
  if (subject === undefined) {
    return { key: `${rateClass}:anon:${client}`, rule: limits[UNIDENTIFIED_SUBJECT_CLASS] };
  }
  // Hashed: the counter store never holds the identifier itself.
  const digest = createHash('sha256').update(subject, 'utf8').digest('base64url').slice(0, 32);
  return { key: `${rateClass}:subject:${digest}`, rule: limits[rateClass] };
}

export interface RateLimitOptions {
  readonly limits: Readonly<Record<RateClass, RateLimitRule>>;
  readonly redis: Redis | undefined;
  /** Told of each request refused with 429, with the route's rate class (the metrics, L4). */
  readonly onLimited?: (rateClass: RateClass) => void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Health probes keep answering when the counter store is down (a liveness probe must not flap). */
    rateLimitFailOpen?: boolean;
    /**
     * Counts the route per subject instead of per client address (the refresh route: per
     * session, so people behind one NAT do not share a budget). Must be cheap (no I/O) and
     * return only a subject the server can vouch for (e.g. one it signed); undefined when the
     * request names none, and such requests are counted per client address at the limit of
     * UNIDENTIFIED_SUBJECT_CLASS, so made-up or missing subjects cannot dodge the limit.
     */
    rateSubject?: (request: FastifyRequest) => string | undefined;
  }
}

/**
 * Sets up the counters and returns the limiter hook. The caller adds it as a global onRequest
 * hook (app.ts: after CORS, before access control), so it covers every route and the
 * not-found handler, and counts requests that authentication will refuse. Calling it again
 * for a request already counted does nothing. When the shared counter store fails, requests
 * are refused with 503 rather than let through uncounted, except on routes declared
 * fail-open (the health probes).
 */
export async function installRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
): Promise<preHandlerAsyncHookHandler> {
  // The plugin asks for the key, the limit and the window separately; work them out once.
  const counters = new WeakMap<FastifyRequest, Counter>();
  const counter = (request: FastifyRequest): Counter => {
    let found = counters.get(request);
    if (!found) {
      found = counterFor(request, options.limits);
      counters.set(request, found);
    }
    return found;
  };
  await app.register(rateLimit, {
    global: false,
    ...(options.redis ? { redis: options.redis } : {}),
    nameSpace: 'haven:rate:',
    skipOnError: false,
    max: (request: FastifyRequest) => counter(request).rule.max,
    timeWindow: (request: FastifyRequest) => counter(request).rule.windowMs,
    keyGenerator: (request: FastifyRequest) => counter(request).key,
    errorResponseBuilder: (_request, context) =>
      new HavenError('RATE_LIMITED', `Too many requests; retry in ${context.after}.`),
    addHeadersOnExceeding: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
    },
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': true,
    },
  });
  const limit = app.rateLimit();
  // No async wrapper around the plugin's promise: one promise fewer per request.
  const limitOrRefuse = (request: FastifyRequest, reply: FastifyReply): Promise<void> =>
    (limit.call(app, request, reply) as Promise<void>).catch((error: unknown) => {
      if (error instanceof HavenError) {
        if (error.code === 'RATE_LIMITED') {
          options.onLimited?.(request.routeOptions.config.rateClass ?? 'public');
        }
        throw error;
      }
      // One line per refused request without the stack (redis.ts logs the outage itself).
      request.log.warn(
        { cause: error instanceof Error ? error.message : String(error) },
        'rate-limit store unavailable',
      );
      if (request.routeOptions.config.rateLimitFailOpen) return;
      throw new HavenError(
        'SERVICE_UNAVAILABLE',
        'Rate limiting is unavailable; try again shortly.',
        { headers: { 'retry-after': String(RATE_STORE_RETRY_AFTER_SECONDS) } },
      );
    });
  return limitOrRefuse;
}
