// loadConfig: reads every variable of the table (variables.ts), checks each on its own, then
// in production against its production rule, then the rules across variables; lists every
// problem at once; and freezes the result before anything else runs.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Variable } from './row.js';
import { ConfigError, type HavenConfig } from './types.js';
import { CROSS_RULES, VARIABLES, type Values, type VariableName } from './variables.js';

const MIB = 1024 * 1024;

type Env = Readonly<Record<string, string | undefined>>;

interface LoadOptions {
  /** Working directory for relative defaults (tests pass a temp dir). */
  readonly cwd?: string;
}

// Widened once here so that every row can be walked alike; each row's own type lives in Values.
const ROWS = Object.entries(VARIABLES) as [VariableName, Variable<unknown>][];

/**
 * The raw text of one variable. A secret may come from <NAME>_FILE instead (container
 * secrets); both at once is an error, and an empty secret counts as unset.
 */
function readRaw(
  env: Env,
  name: VariableName,
  row: Variable<unknown>,
  problems: string[],
): string | undefined {
  if (!row.secret) {
    return env[name] ?? (row.fallback === undefined ? undefined : env[row.fallback]);
  }
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && file) {
    problems.push(`${name} and ${name}_FILE are both set; set only one`);
    return undefined;
  }
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      problems.push(`${name}_FILE: cannot read ${file}`);
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

/** Every value of the table, and every problem found in the environment (empty when valid). */
function readVariables(
  env: Env,
  cwd: string,
): { readonly values: Values; readonly problems: readonly string[] } {
  const parsed = ROWS.map(([name, row]) => {
    const problems: string[] = [];
    const raw = readRaw(env, name, row, problems);
    const value = row.parse(raw, (problem) => problems.push(`${name}: ${problem}`), { cwd });
    return { name, row, value, problems };
  });
  // Each row's parse returned the type its entry in Values declares.
  const values = Object.fromEntries(parsed.map(({ name, value }) => [name, value])) as Values;
  const production = values.HAVEN_ENV === 'production';
  if (production) {
    // A value that is already wrong is not also judged against the production rule: one
    // problem per mistake reads clearer than two.
    for (const { name, row, value, problems } of parsed) {
      if (row.production === undefined || problems.length > 0) continue;
      const broken = row.production.check(value);
      if (broken !== undefined) problems.push(`${name}: ${broken}`);
    }
  }
  const problems = parsed.flatMap((entry) => entry.problems);
  for (const rule of CROSS_RULES) {
    if (production || !rule.productionOnly) problems.push(...rule.check(values));
  }
  return { values, problems };
}

/** In development only: a master key kept in the data folder, created on first start. */
function loadDevMasterKey(dataDir: string): Buffer {
  const keyFile = path.join(dataDir, 'dev-master.key');
  if (!existsSync(keyFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(keyFile, randomBytes(32).toString('base64'), { mode: 0o600 });
    chmodSync(keyFile, 0o600);
  }
  return Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
}

/** Turns valid values into the frozen HavenConfig, filling the defaults that depend on others. */
function assemble(values: Values): HavenConfig {
  const mode = values.HAVEN_ENV;
  const port = values.PORT;
  const dataDir = values.HAVEN_DATA_DIR;
  // Production without a key never gets here (its production rule refuses it).
  const environmentKey = values.HAVEN_MASTER_KEY;
  const certFile = values.HAVEN_TLS_CERT_FILE;
  const keyFile = values.HAVEN_TLS_KEY_FILE;
  const config: HavenConfig = {
    env: mode,
    host: values.HOST,
    port,
    publicOrigin: (values.HAVEN_PUBLIC_URL ?? new URL(`http://127.0.0.1:${port}`)).origin,
    dataDir,
    webDir: values.HAVEN_WEB_DIR,
    databaseUrl: values.DATABASE_URL,
    redisUrl: values.REDIS_URL,
    masterKey: environmentKey ?? loadDevMasterKey(dataDir),
    masterKeySource: environmentKey === undefined ? 'generated-dev-file' : 'environment',
    previousMasterKey: values.HAVEN_MASTER_KEY_PREVIOUS,
    corsOrigins: Object.freeze(values.HAVEN_CORS_ORIGINS),
    trustedProxies: Object.freeze(values.HAVEN_TRUSTED_PROXIES),
    tls: certFile && keyFile ? Object.freeze({ certFile, keyFile }) : undefined,
    cookieSecure: values.HAVEN_COOKIE_SECURE,
    logLevel: values.HAVEN_LOG_LEVEL ?? (mode === 'test' ? 'warn' : 'info'),
    limits: Object.freeze({
      bodyBytes: values.HAVEN_BODY_LIMIT_BYTES,
      headerBytes: values.HAVEN_HEADER_LIMIT_BYTES,
      requestTimeoutMs: values.HAVEN_REQUEST_TIMEOUT_MS,
      shutdownDrainMs: values.HAVEN_SHUTDOWN_DRAIN_MS,
      jsonMaxDepth: values.HAVEN_JSON_MAX_DEPTH,
    }),
    rateLimits: Object.freeze({
      public: Object.freeze(values.HAVEN_RATE_PUBLIC),
      auth: Object.freeze(values.HAVEN_RATE_AUTH),
      refresh: Object.freeze(values.HAVEN_RATE_REFRESH),
      sensitive: Object.freeze(values.HAVEN_RATE_SENSITIVE),
      read: Object.freeze(values.HAVEN_RATE_READ),
      write: Object.freeze(values.HAVEN_RATE_WRITE),
      upload: Object.freeze(values.HAVEN_RATE_UPLOAD),
    }),
    outboundAllowHosts: Object.freeze(values.HAVEN_OUTBOUND_ALLOW_HOSTS),
    jobs: Object.freeze({
      embeddedWorker: values.HAVEN_EMBEDDED_WORKER ?? values.DATABASE_URL === undefined,
      pollIntervalMs: values.HAVEN_JOB_POLL_MS,
    }),
    tracing:
      values.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
        ? undefined
        : Object.freeze({
            endpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT,
            serviceName: values.OTEL_SERVICE_NAME,
          }),
    metrics:
      values.HAVEN_METRICS_PORT === undefined
        ? undefined
        : Object.freeze({ host: values.HAVEN_METRICS_HOST, port: values.HAVEN_METRICS_PORT }),
    identity: Object.freeze({
      sessionIdleMs: values.HAVEN_SESSION_IDLE_MINUTES * 60_000,
      sessionAbsoluteMs: values.HAVEN_SESSION_ABSOLUTE_HOURS * 3_600_000,
      argon2MemoryKib: values.HAVEN_ARGON2_MEMORY_KIB,
      argon2TimeCost: values.HAVEN_ARGON2_TIME_COST,
      passwordMinLength: values.HAVEN_PASSWORD_MIN_LENGTH,
      selfSignup: values.HAVEN_SELF_SIGNUP,
      mfaRequiredRoles: Object.freeze(values.HAVEN_MFA_REQUIRED_ROLES),
      hibpBaseUrl: values.HAVEN_HIBP_URL,
    }),
    clinical: Object.freeze({ breakGlassMs: values.HAVEN_BREAK_GLASS_MINUTES * 60_000 }),
    mail: Object.freeze({
      smtpUrl: values.HAVEN_SMTP_URL,
      from: values.HAVEN_MAIL_FROM,
      timeZone: values.HAVEN_TIME_ZONE,
    }),
    files: Object.freeze({
      clamdUrl: values.HAVEN_CLAMD_URL,
      storageUrl: values.HAVEN_STORAGE_URL,
      maxFileBytes: values.HAVEN_FILES_MAX_MB * MIB,
      userQuotaBytes: values.HAVEN_FILES_USER_QUOTA_MB * MIB,
      storageQuotaBytes: values.HAVEN_FILES_STORAGE_QUOTA_MB * MIB,
    }),
  };
  return Object.freeze(config);
}

/**
 * Parses the environment into a frozen HavenConfig. Throws ConfigError listing every
 * problem at once; in production also refuses insecure settings (S1, T1, T5).
 */
export function loadConfig(env: Env = process.env, options: LoadOptions = {}): HavenConfig {
  const { values, problems } = readVariables(env, options.cwd ?? process.cwd());
  if (problems.length > 0) throw new ConfigError(problems);
  return assemble(values);
}

/** Warnings printed at every start in development (loud fallbacks). */
export function startupWarnings(config: HavenConfig): string[] {
  const warnings: string[] = [];
  if (config.masterKeySource === 'generated-dev-file') {
    warnings.push(
      `Using a development master key from ${path.join(config.dataDir, 'dev-master.key')}. ` +
        'Never use it in production: set HAVEN_MASTER_KEY.',
    );
  }
  if (config.databaseUrl === undefined) {
    warnings.push('Using the embedded PGlite database (single process only).');
  }
  if (config.redisUrl === undefined) {
    warnings.push('Rate limits are in memory: run one node only, or set REDIS_URL.');
  }
  return warnings;
}
