// Micro-benchmarks for the two per-request checks the spec bounds at < 0.1 ms together:
// the revocation lookup (the real in-memory cache, called the way the JWT verifier calls
// it) and the real rate-limit hook (installRateLimit, in-memory store), each timed on its own.
import Fastify from 'fastify';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
} from 'kysely';
import { SignJWT, generateKeyPair } from 'jose';
import { pino } from 'pino';
import { randomUUID } from 'node:crypto';
import { RATE_CLASSES, type RateClass, type RateLimitRule } from '../server/src/config.js';
import type { DatabaseSchema } from '../server/src/platform/db/schema.js';
import { installRateLimit } from '../server/src/platform/http/rate-limit.js';
import {
  ACCESS_TOKEN_TYPE,
  createAccessTokenVerifier,
} from '../server/src/platform/auth/jwt-authenticator.js';
import { createRevocationCache } from '../server/src/modules/identity/index.js';
import { createLogger, requestSerializers } from '../server/src/platform/logging.js';

export interface MicroResult {
  /** Median microseconds per call over several rounds. */
  readonly microseconds: number;
  readonly detail: string;
}

/** Median µs per call of `op`, run `rounds` times `perRound` calls after a warm-up. */
async function timeAsync(
  op: () => Promise<unknown>,
  perRound: number,
  rounds = 7,
): Promise<number> {
  for (let i = 0; i < perRound; i += 1) await op();
  const samples: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i += 1) await op();
    samples.push(Number(process.hrtime.bigint() - started) / 1000 / perRound);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/** Median µs per call of a synchronous `op`, like timeAsync. */
function timeSync(op: () => void, perRound: number, rounds = 7): number {
  for (let i = 0; i < perRound; i += 1) op();
  const samples: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i += 1) op();
    samples.push(Number(process.hrtime.bigint() - started) / 1000 / perRound);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/** A Kysely that never reaches a database: the cache is filled with markRevoked instead. */
function offlineDb(): Kysely<DatabaseSchema> {
  return new Kysely<DatabaseSchema>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}

/**
 * The revocation check as createAccessTokenVerifier performs it:
 * `await isSessionRevoked(sid)` where isSessionRevoked wraps the cache's Map lookup in
 * Promise.resolve. The cache holds `revokedCount` revoked sessions; the probe is a live one.
 */
export async function revocationCheckCost(revokedCount = 10_000): Promise<MicroResult> {
  const cache = createRevocationCache({ db: offlineDb(), log: pino({ level: 'silent' }) });
  for (let i = 0; i < revokedCount; i += 1) cache.markRevoked(randomUUID());
  const isSessionRevoked = (sessionId: string): Promise<boolean> =>
    Promise.resolve(cache.isRevoked(sessionId));
  const live = randomUUID();
  let hits = 0;
  const microseconds = await timeAsync(async () => {
    if (await isSessionRevoked(live)) hits += 1;
  }, 200_000);
  if (hits > 0) throw new Error('a live session was reported revoked');
  return { microseconds, detail: `Map of ${revokedCount} revoked ids, awaited like the verifier` };
}

/**
 * The rate-limit hook Haven puts on every route, called repeatedly with a real request and
 * reply from inside a handler (in-memory counter store; counts, sets the x-ratelimit headers).
 */
export async function rateLimitHookCost(): Promise<MicroResult> {
  const huge: RateLimitRule = { max: 9_999_999, windowMs: 60_000 };
  const limits = Object.fromEntries(RATE_CLASSES.map((c) => [c, huge])) as Record<
    RateClass,
    RateLimitRule
  >;
  const app = Fastify({ logger: false });
  const hook = await installRateLimit(app, { limits, redis: undefined });
  let microseconds = Number.NaN;
  app.get('/probe', { config: { rateClass: 'read' } }, async (request, reply) => {
    // The plugin marks a request it has counted and skips it afterwards; clear the mark so
    // every call does the full work of a first call (key, counter store, headers).
    const ran = Object.getOwnPropertySymbols(request).find(
      (symbol) => symbol.description === 'fastify.request.rateLimitRan',
    );
    if (ran === undefined) throw new Error('@fastify/rate-limit request mark not found');
    const marks = request as unknown as Record<symbol, boolean>;
    microseconds = await timeAsync(async () => {
      marks[ran] = false;
      await hook.call(app, request, reply);
    }, 20_000);
    return { ok: true };
  });
  await app.ready();
  const response = await app.inject({ method: 'GET', url: '/probe' });
  await app.close();
  if (response.statusCode !== 200) {
    throw new Error(`rate-limit probe answered ${response.statusCode}: ${response.body}`);
  }
  const counted = huge.max - Number(response.headers['x-ratelimit-remaining']);
  return { microseconds, detail: `installRateLimit, in-memory store, ${counted} calls counted` };
}

/**
 * Not bounded by the spec: checking one access token the way every authenticated request
 * does. The signature is verified on the first call only (the verifier caches the token until
 * it expires); every call still checks expiry and revocation.
 */
export async function accessTokenVerifyCost(): Promise<MicroResult> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const issuer = 'http://127.0.0.1:8080';
  const audience = 'haven-api';
  const token = await new SignJWT({ sid: randomUUID(), scope: 'account:read portal:read' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'bench', typ: ACCESS_TOKEN_TYPE })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(randomUUID())
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(privateKey);
  const verify = createAccessTokenVerifier({
    issuer,
    audience,
    keyForKid: async () => publicKey,
    isSessionRevoked: async () => false,
  });
  const microseconds = await timeAsync(() => verify(token, 'cookie'), 2_000);
  return { microseconds, detail: 'Ed25519 verified once, then expiry + revocation per call' };
}

/**
 * What the masking logger (createLogger: secret redaction and PII masking on every line)
 * costs per line: the two lines Fastify writes for every request at level info ("incoming
 * request", "request completed", from a per-request child logger), through createLogger and
 * through plain pino with the same serializers and timestamp, both into a discarding stream.
 */
export async function logLineCost(): Promise<MicroResult & { plainMicroseconds: number }> {
  const sink = { write: (): void => undefined };
  const masked = createLogger({ level: 'info', destination: sink });
  const plain = pino(
    {
      level: 'info',
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: requestSerializers,
      formatters: { level: (label) => ({ level: label }) },
    },
    sink,
  );
  const reqId = randomUUID();
  const req = {
    id: reqId,
    method: 'GET',
    url: '/api/auth/me',
    ip: '127.0.0.1',
    socket: { remoteAddress: '127.0.0.1' },
  };
  const res = { statusCode: 200 };
  const requestLines = (logger: typeof plain) => (): void => {
    const child = logger.child({ reqId });
    child.info({ req }, 'incoming request');
    child.info({ res, responseTime: 1.234 }, 'request completed');
  };
  const perLine = (logger: typeof plain): number => timeSync(requestLines(logger), 5_000) / 2;
  const microseconds = perLine(masked);
  const plainMicroseconds = perLine(plain);
  return {
    microseconds,
    plainMicroseconds,
    detail: `plain pino ${plainMicroseconds.toFixed(1)} µs; Fastify's two request lines`,
  };
}
