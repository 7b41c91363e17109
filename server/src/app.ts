// buildApp(config): the whole Haven HTTP application without a listener. Tests call it and
// use app.inject(); only main.ts opens a port. Platform plugins are installed in the order
// a request meets them (see docs/architecture.md).
import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { HavenConfig } from './config.js';
import { masterKeysOf } from './platform/crypto.js';
import { createValidatorCompiler } from './platform/http/validation.js';
import { createLogger } from './platform/logging.js';
import { openDatabase, type Database } from './platform/db/database.js';
import { migrateToLatest } from './platform/db/migrate.js';
import { describeDatabaseFault } from './platform/db/faults.js';
import { auditChainVerifier } from './platform/audit/configured.js';
import {
  assertMigrated,
  waitForDatabase,
  warnIfPrivilegedRuntimeRole,
} from './platform/db/startup.js';
import { installAccessControl, ownSessionPerson } from './platform/auth/access.js';
import { firstConnectionSettled, openRedis } from './platform/redis.js';
import type { Authenticator } from './platform/auth/principal.js';
import {
  ACCESS_COOKIE,
  ACCESS_TOKEN_LIFETIME_SECONDS,
  identityModule,
  scopesForRoles,
  type IdentityApi,
  type IdentityHandle,
  type IdentityModuleOptions,
} from './modules/identity/index.js';
import { auditAdminModule } from './modules/audit-admin/index.js';
import { breakGlassModule } from './modules/break-glass/index.js';
import { organizationsModule } from './modules/organizations/index.js';
import { patientsModule } from './modules/patients/index.js';
import { portalModule } from './modules/portal/index.js';
import { reviewsModule } from './modules/reviews/index.js';
import { filesModule } from './modules/files/index.js';
import * as oauth from './modules/oauth/index.js';
import { openFileServices, type FileServices } from './platform/storage/configured.js';
import { directUploadOrigin } from './platform/storage/upload-origin.js';
import { createDevMailbox, createSmtpMailer, type Mailer } from './platform/mail.js';
import type { ModuleContext } from './platform/module-context.js';
import { installAccessLog } from './platform/http/access-log.js';
import { installCors } from './platform/http/cors.js';
import { installDraining } from './platform/http/draining.js';
import { answerClientError } from './platform/http/client-errors.js';
import { registerHealthRoutes } from './platform/http/health.js';
import { installHttpsOnly } from './platform/http/https-only.js';
import { installJsonBodyParser } from './platform/http/json-body.js';
import { assertSafeRequestTarget } from './platform/http/path-guard.js';
import {
  installProblemHandlers,
  sendProblem,
  toHavenError,
} from './platform/http/problem-handler.js';
import { registerApiDocs } from './platform/http/api-docs.js';
import { installOpenApi } from './platform/http/openapi.js';
import { installRateLimit } from './platform/http/rate-limit.js';
import { requestIdGenerator } from './platform/http/request-id.js';
import { enforceRouteContract, type RouteTableRow } from './platform/http/route-contract.js';
import {
  FALLBACK_SECURITY_HEADERS,
  installSecurityHeaders,
} from './platform/http/security-headers.js';
import { registerSpa } from './platform/http/spa.js';
import { createMetrics, installHttpMetrics, type HavenMetrics } from './platform/metrics/index.js';
import { createTracing, installRequestTracing } from './platform/tracing/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: HavenConfig;
    database: Database;
    redis: Redis | undefined;
    routeTable: readonly RouteTableRow[];
    /** Storage, scanner and link key of the files module; the embedded worker's jobs use them. */
    fileServices: FileServices;
    /** This app's metrics (L4), served only by the separate listener `haven serve` opens. */
    metrics: HavenMetrics;
  }
}

export interface BuildOptions {
  /** An already-open database (tests share one per file); otherwise opened from config. */
  readonly database?: Database;
  /** Who is calling. Default: the identity module (sessions, cookies, bearer tokens). */
  readonly authenticator?: Authenticator;
  readonly logger?: Logger;
  /** Feature modules, registered after the platform so they inherit every control. */
  readonly modules?: ReadonlyArray<(app: FastifyInstance) => Promise<void> | void>;
  /** Clock for time-based checks (step-up, how long a token decision is reused); tests inject one. */
  readonly now?: () => number;
  /**
   * TEST ONLY: private ranges bucket endpoints may reach (the local S3 stand-in on 127.0.0.1).
   * Never set from configuration, so no deployment can widen the V5 guard of bucket endpoints.
   */
  readonly bucketEndpointTestCidrs?: readonly string[];
}

/**
 * The request pool's statement and lock timeouts. The socket of a request is cut at the request
 * timeout (connectionTimeout), so a query still blocked then would end without any answer: the
 * statement gives up at four fifths of it (at most 30 s) and a lock wait after 10 s at most, and
 * the request is answered 503 + Retry-After (platform/db/faults.ts).
 */
export function requestDatabaseTimeouts(requestTimeoutMs: number): {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
} {
  const statementTimeoutMs = Math.max(500, Math.min(30_000, Math.floor(requestTimeoutMs * 0.8)));
  return { statementTimeoutMs, lockTimeoutMs: Math.min(10_000, statementTimeoutMs) };
}

function serverOptions(
  config: HavenConfig,
  logger: Logger,
): FastifyServerOptions & { https?: object } {
  const options: FastifyServerOptions & { https?: object } = {
    loggerInstance: logger,
    // One line per request (written in onResponse below) instead of Fastify's two: the log
    // masker runs on every line, and request logging was the largest cost of a cheap read.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdGenerator(config.trustedProxies),
    requestIdHeader: false,
    bodyLimit: config.limits.bodyBytes,
    connectionTimeout: config.limits.requestTimeoutMs,
    requestTimeout: config.limits.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    return503OnClosing: false, // a closing node answers itself (platform/http/draining.ts)
    exposeHeadRoutes: true,
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true, maxParamLength: 200 },
    // Refusals on the socket (headers over the cap, timeouts): problems with the headers too.
    clientErrorHandler: answerClientError,
    // Router-level refusals (malformed percent-encoding, over-long parameters) skip every
    // hook and the error handler; answer them as problems with the security headers too.
    frameworkErrors: (error, request, reply) => {
      const { error: safe } = toHavenError(error);
      request.log.info({ code: safe.code }, 'request refused');
      reply.headers({ ...FALLBACK_SECURITY_HEADERS, 'x-request-id': request.id });
      void sendProblem(reply, request, safe);
    },
  };
  // T4: Node cut a slow body only at headersTimeout, which Fastify leaves at 60 s however short
  // requestTimeout is, and looks for expired requests only every 30 s (a slow body was kept
  // 60–90 s): both follow the configured timeout, checked every second. requestTimeout is set
  // here too because Node refuses a headersTimeout above it (its default is 300 s, ours ≤ 600 s).
  const limits = {
    maxHeaderSize: config.limits.headerBytes,
    requestTimeout: config.limits.requestTimeoutMs,
    headersTimeout: config.limits.requestTimeoutMs,
    connectionsCheckingInterval: 1_000,
  };
  (options as { http: object }).http = limits;
  if (config.tls) {
    // Fastify passes `http` to a plain HTTP server only: with TLS the limits go with the keys,
    // or the header cap and the deadlines above would silently be Node's defaults.
    options.https = {
      ...limits,
      cert: readFileSync(config.tls.certFile),
      key: readFileSync(config.tls.keyFile),
    };
  }
  return options;
}

/** /readyz's scanner check: clamd answers PING and VERSION. */
function scannerProbe(services: FileServices): (() => Promise<void>) | undefined {
  const { scanner } = services;
  if (!scanner) return undefined;
  return async () => {
    const answer = await scanner.probe();
    if (!answer.ok) throw new Error(answer.detail);
  };
}

/** The mailer configuration names: SMTP, or the development mailbox in the data folder. */
export function createMailer(config: HavenConfig, logger: Logger): Mailer {
  return config.mail.smtpUrl
    ? createSmtpMailer({ url: config.mail.smtpUrl, from: config.mail.from, logger })
    : createDevMailbox({ dir: config.dataDir, from: config.mail.from, logger });
}

type ContextFor = <Settings>(name: string, settings: Settings) => ModuleContext<Settings>;

/** The clinical wings, each a Fastify plugin entered through its front door (index.ts). */
async function registerClinicalModules(
  app: FastifyInstance,
  identity: IdentityApi,
  contextFor: ContextFor,
): Promise<void> {
  const none: Record<string, never> = {};
  await app.register(organizationsModule, { context: contextFor('organizations', none), identity });
  await app.register(patientsModule, { context: contextFor('patients', none), identity });
  await app.register(portalModule, { context: contextFor('portal', none), identity });
  await app.register(breakGlassModule, {
    context: contextFor('break-glass', { grantMs: app.config.clinical.breakGlassMs }),
    identity,
  });
  await app.register(reviewsModule, { context: contextFor('reviews', none), identity });
  const limits = app.config.files;
  await app.register(filesModule, {
    context: contextFor('files', {
      storage: app.fileServices.storage,
      buckets: app.fileServices.buckets,
      scanner: app.fileServices.scanner,
      downloadKey: app.fileServices.downloadKey,
      maxFileBytes: limits.maxFileBytes,
      userQuotaBytes: limits.userQuotaBytes,
      storageQuotaBytes: limits.storageQuotaBytes,
    }),
    identity,
  });
  // The module gets a verifier bound to the chain key, never the key itself.
  const verifyChain = auditChainVerifier(app.config);
  await app.register(auditAdminModule, {
    context: contextFor('audit-admin', { verifyChain }),
    identity,
  });
}

/** The OAuth authorization server (A12), signing with identity's key ring through functions. */
async function registerOAuth(
  app: FastifyInstance,
  identity: IdentityHandle,
  config: HavenConfig,
  context: ModuleContext<{ readonly decisions: oauth.TokenDecisions }>,
): Promise<void> {
  const { keys } = identity;
  identity.services.credentialEndings.add(
    oauth.endGrantsWithCredentials(context.settings.decisions),
  );
  await app.register(oauth.oauthModule, {
    context: {
      ...context,
      settings: {
        issuer: identity.issuer,
        audience: identity.audience,
        accessTokenLifetime: ACCESS_TOKEN_LIFETIME_SECONDS,
        currentKid: async () => (await keys.currentSigningKey()).kid,
        currentJwk: () => keys.currentSigningJwk(),
        keyForKid: (kid) => keys.publicKeyForKid(kid),
        cookieKeys: oauth.oauthCookieKeys(masterKeysOf(config)),
        decisions: context.settings.decisions,
        scopesOfRoles: scopesForRoles,
        sessionPerson: (request) => ownSessionPerson(identity.authenticator, request),
      },
    },
  });
}

/** Identity's plugin, entered through its front door; it leaves `app.identity` behind. */
async function registerIdentity(
  app: FastifyInstance,
  options: IdentityModuleOptions,
): Promise<IdentityHandle> {
  await app.register(identityModule, options);
  if (!app.identity) throw new Error('the identity module did not decorate the app');
  return app.identity;
}

export async function buildApp(
  config: HavenConfig,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const app = Fastify(serverOptions(config, logger)) as unknown as FastifyInstance;
  app.setValidatorCompiler(createValidatorCompiler());

  const ownsDatabase = options.database === undefined;
  const database =
    options.database ??
    (await openDatabase({
      url: config.databaseUrl,
      embeddedDir: config.databaseUrl ? undefined : `${config.dataDir}/db`,
      ...requestDatabaseTimeouts(config.limits.requestTimeoutMs),
      onConnectionError: (error) =>
        logger.warn({ cause: describeDatabaseFault(error) }, 'database connection lost'),
    }));
  if (ownsDatabase && database.engine === 'pglite') await migrateToLatest(database.db);
  if (ownsDatabase && database.engine === 'postgres') {
    // Wait for a database that is not up yet, and refuse one a release ahead of it.
    try {
      await waitForDatabase(database, logger);
      await assertMigrated(database);
      await warnIfPrivilegedRuntimeRole(database, logger);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  const redis = config.redisUrl ? openRedis(config.redisUrl, logger) : undefined;

  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('redis', redis);
  app.decorate('routeTable', enforceRouteContract(app));
  app.decorate(
    'fileServices',
    await openFileServices(
      config,
      options.bucketEndpointTestCidrs
        ? { bucketEndpointTestCidrs: options.bucketEndpointTestCidrs }
        : {},
    ),
  );
  // Before any route is declared: the OpenAPI document collects routes as the contract does.
  await installOpenApi(app, { sessionCookie: ACCESS_COOKIE });
  const metrics = createMetrics({ db: database.db, log: logger });
  app.decorate('metrics', metrics);
  app.addHook('onClose', async () => {
    metrics.close();
    if (redis) await redis.quit().catch(() => redis.disconnect());
    if (ownsDatabase) await database.close();
  });
  // Without the offline queue, commands sent while the socket is still opening fail, and
  // the fail-closed limiter turned the first requests after start into 500s. Let the first
  // connection attempt settle (ready or error) before the app reports ready.
  if (redis) app.addHook('onReady', () => firstConnectionSettled(redis));

  installAccessLog(app);
  installHttpMetrics(app, metrics.set);
  if (config.tracing) {
    const tracing = createTracing(config.tracing);
    installRequestTracing(app, tracing);
    // Sends the last spans before the process ends; a collector that is down loses only them.
    app.addHook('onClose', () => tracing.shutdown().catch(() => undefined));
  }
  await installSecurityHeaders(app, await directUploadOrigin(app.fileServices.storage));
  // After the security headers: a refused path must still carry them and the request id (T3).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    try {
      assertSafeRequestTarget(request.raw.url ?? '/');
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
  installDraining(app);
  if (config.env === 'production') installHttpsOnly(app, config.publicOrigin);
  const rateLimitHook = await installRateLimit(app, {
    limits: config.rateLimits,
    redis,
    onLimited: metrics.rateLimited,
  });
  installProblemHandlers(app);
  installCors(app, config.corsOrigins);
  // The limiter after CORS, so an allowed origin can read a 429, and before access control,
  // so refused requests are counted and a flood stops before token verification (R1).
  app.addHook('onRequest', rateLimitHook);
  installJsonBodyParser(app, config.limits.jsonMaxDepth);

  registerHealthRoutes(app, {
    database,
    redis: redis ? async () => void (await redis.ping()) : undefined,
    scanner: scannerProbe(app.fileServices),
    storage: app.fileServices.storage,
  });
  registerApiDocs(app, { production: config.env === 'production' });
  // The identity module authenticates unless a test harness supplies its own authenticator.
  const mailer = createMailer(config, logger);
  const identity = options.authenticator
    ? undefined
    : await registerIdentity(app, { config, database, log: logger, mailer });
  // Access control needs identity's authenticator, so it goes on after the routes above. They
  // are guarded all the same: they live on the root instance, and Fastify gives a root route the
  // root's hooks as the app becomes ready. The clinical modules below are encapsulated and copy
  // the hooks in place when they register, so they come after.
  // An OAuth client's token is refused once its client is disabled or the token revoked (A12):
  // identity verifies it, the OAuth module knows its client; both share this node's memory.
  const decisions = oauth.createTokenDecisions(options.now);
  installAccessControl(
    app,
    options.authenticator ??
      oauth.clientTokenChecks(identity!.authenticator, database.db, scopesForRoles, decisions),
    options.now,
  );
  if (identity) {
    // The clinical modules need identity's invitations; harness-built apps skip them.
    const base = {
      db: database.db,
      mailer,
      now: () => new Date(),
      publicOrigin: config.publicOrigin,
    };
    await registerClinicalModules(app, identity.api, (name, settings) => ({
      ...base,
      log: logger.child({ module: name }),
      settings,
    }));
    const log = logger.child({ module: 'oauth' });
    await registerOAuth(app, identity, config, { ...base, log, settings: { decisions } });
  }
  for (const registerModule of options.modules ?? []) await registerModule(app);
  await registerSpa(app, config.webDir);
  return app;
}
