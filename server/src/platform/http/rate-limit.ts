// Rate limiting (R1): one counter per (rate class, client) with limits from config.
// Counters live in Redis when configured, so every node shares them; in memory otherwise.
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
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

/** Registers the limiter on every route; returns a hook for the not-found route too. */
export async function installRateLimit(
  app: FastifyInstance,
  options: RateLimitOptions,
): Promise<preHandlerAsyncHookHandler> {
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    ...(options.redis ? { redis: options.redis } : {}),
    nameSpace: 'haven:rate:',
    // Without the shared store we cannot count: refuse rather than let everyone through.
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
  return app.rateLimit();
}
