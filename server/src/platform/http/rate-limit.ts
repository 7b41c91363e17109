// Rate limiting (R1): one counter per (rate class, client) with limits from config.
// Counters live in Redis when configured, so every node shares them; in memory otherwise.
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

/**
 * The key a client is counted under: its IPv4 address, or its IPv6 /64 (one subscriber's
 * allocation, so rotating addresses inside it does not reset the count).
 */
export function clientKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts.slice(0, 4);
  return `${parts.map((p) => p.toString(16)).join(':')}::/64`;
}

function ruleFor(
  request: FastifyRequest,
  limits: Readonly<Record<RateClass, RateLimitRule>>,
): RateLimitRule {
  return limits[request.routeOptions.config.rateClass ?? 'public'];
}

export interface RateLimitOptions {
  readonly limits: Readonly<Record<RateClass, RateLimitRule>>;
  readonly redis: Redis | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Health probes keep answering when the counter store is down (a liveness probe must not flap). */
    rateLimitFailOpen?: boolean;
  }
}

/**
 * Puts the limiter on every route (and returns it for the not-found route). When the
 * shared counter store fails, requests are refused with 503 rather than let through
 * uncounted, except on routes declared fail-open (the health probes).
 */
export async function installRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
): Promise<preHandlerAsyncHookHandler> {
  await app.register(rateLimit, {
    global: false,
    ...(options.redis ? { redis: options.redis } : {}),
    nameSpace: 'haven:rate:',
    skipOnError: false,
    max: (request: FastifyRequest) => ruleFor(request, options.limits).max,
    timeWindow: (request: FastifyRequest) => ruleFor(request, options.limits).windowMs,
    keyGenerator: (request: FastifyRequest) =>
      `${request.routeOptions.config.rateClass ?? 'public'}:${clientKey(request.ip)}`,
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
  const limitOrRefuse = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    try {
      await limit.call(app, request, reply);
    } catch (error) {
      if (error instanceof HavenError) throw error;
      request.log.error({ err: error }, 'rate-limit store unavailable');
      if (request.routeOptions.config.rateLimitFailOpen) return;
      throw new HavenError(
        'SERVICE_UNAVAILABLE',
        'Rate limiting is unavailable; try again shortly.',
      );
    }
  };
  app.addHook('onRoute', (route) => {
    const existing =
      route.onRequest === undefined
        ? []
        : Array.isArray(route.onRequest)
          ? route.onRequest
          : [route.onRequest];
    route.onRequest = [...existing, limitOrRefuse];
  });
  return limitOrRefuse;
}
