// Configuration: every environment variable is declared here, parsed once, checked as a
// whole (all problems reported together) and frozen before anything else runs.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';

export type RateClass = 'public' | 'auth' | 'refresh' | 'sensitive' | 'read' | 'write' | 'upload';
export const RATE_CLASSES: readonly RateClass[] = [
  'public',
  'auth',
  'refresh',
  'sensitive',
  'read',
  'write',
  'upload',
];

export interface RateLimitRule {
  readonly max: number;
  readonly windowMs: number;
}

export interface HavenConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  /** Origin of the external URL (scheme://host[:port]); a string, so it cannot be mutated. */
  readonly publicOrigin: string;
  readonly dataDir: string;
  readonly webDir: string;
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** 32 bytes; wraps every data-encryption key. */
  readonly masterKey: Buffer;
  readonly masterKeySource: 'environment' | 'generated-dev-file';
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly cookieSecure: boolean;
  readonly logLevel: string;
  readonly limits: {
    readonly bodyBytes: number;
    readonly headerBytes: number;
    readonly requestTimeoutMs: number;
    readonly jsonMaxDepth: number;
  };
  readonly rateLimits: Readonly<Record<RateClass, RateLimitRule>>;
  readonly outboundAllowHosts: readonly string[];
  readonly identity: {
    readonly sessionIdleMs: number;
    readonly sessionAbsoluteMs: number;
    readonly argon2MemoryKib: number;
    readonly argon2TimeCost: number;
    readonly passwordMinLength: number;
    readonly selfSignup: boolean;
    readonly mfaRequiredRoles: readonly string[];
    /** HaveIBeenPwned range API base URL; undefined = offline list only. */
    readonly hibpBaseUrl: string | undefined;
  };
  readonly clinical: {
    /** How long a break-glass grant lets an admin read one patient's record (Z5). */
    readonly breakGlassMs: number;
  };
  readonly mail: {
    /** smtp:// or smtps:// URL; undefined = development mailbox in the data folder. */
    readonly smtpUrl: string | undefined;
    readonly from: string;
  };
  readonly jobs: { readonly embeddedWorker: boolean; readonly pollIntervalMs: number };
}

/** Every variable Haven reads, with its default and meaning; .env.example mirrors this. */
export const ENV_VARIABLES = {
  HAVEN_ENV: 'development | production | test. Falls back to NODE_ENV. Default development.',
  HOST: 'Interface to listen on. Default 127.0.0.1.',
  PORT: 'Port to listen on. Default 8080.',
  HAVEN_PUBLIC_URL:
    'External URL of the server (used for redirects and links). Default http://127.0.0.1:<PORT>.',
  HAVEN_DATA_DIR: 'Folder for embedded database, files, dev mailbox and dev key. Default ./data.',
  HAVEN_WEB_DIR: 'Folder with the built SPA. Default web/dist next to the server package.',
  DATABASE_URL: 'PostgreSQL URL. Unset: embedded PGlite in <data>/db.',
  REDIS_URL: 'Redis URL for rate limits and revocation cache. Unset: in-memory (single node only).',
  HAVEN_MASTER_KEY:
    'Base64 of 32 random bytes; wraps all data keys. Required in production (or HAVEN_MASTER_KEY_FILE).',
  HAVEN_CORS_ORIGINS:
    'Comma-separated exact origins allowed by CORS. Default none (same-origin only).',
  HAVEN_TRUSTED_PROXIES:
    'Comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-* headers are trusted.',
  HAVEN_TLS_CERT_FILE: 'PEM certificate for TLS terminated by Haven itself.',
  HAVEN_TLS_KEY_FILE: 'PEM private key for TLS terminated by Haven itself.',
  HAVEN_COOKIE_SECURE:
    'true/false. Cookies carry Secure. Default true; must stay true in production.',
  HAVEN_LOG_LEVEL: 'pino level. Default info (warn in test).',
  HAVEN_BODY_LIMIT_BYTES: 'Default maximum request body. Default 1048576.',
  HAVEN_HEADER_LIMIT_BYTES: 'Maximum total header size. Default 16384.',
  HAVEN_REQUEST_TIMEOUT_MS: 'Whole-request timeout. Default 30000.',
  HAVEN_JSON_MAX_DEPTH: 'Maximum nesting depth of a JSON body. Default 32.',
  HAVEN_RATE_PUBLIC: 'Rate limit "max/windowSeconds" per client for public routes. Default 120/60.',
  HAVEN_RATE_AUTH: 'Rate limit for authentication routes. Default 10/60.',
  HAVEN_RATE_REFRESH:
    'Rate limit for session refresh, per session (without a session cookie: per client at the auth limit). Default 30/60.',
  HAVEN_RATE_SENSITIVE: 'Rate limit for sensitive account routes. Default 20/60.',
  HAVEN_RATE_READ: 'Rate limit for authenticated reads. Default 600/60.',
  HAVEN_RATE_WRITE: 'Rate limit for authenticated writes. Default 120/60.',
  HAVEN_RATE_UPLOAD: 'Rate limit for upload routes. Default 60/60.',
  HAVEN_OUTBOUND_ALLOW_HOSTS:
    'Comma-separated hosts the server may call. Default api.pwnedpasswords.com.',
  HAVEN_EMBEDDED_WORKER:
    'true/false. Run background jobs inside the server. Default true without DATABASE_URL.',
  HAVEN_JOB_POLL_MS: 'Job poll interval. Default 1000.',
  HAVEN_SESSION_IDLE_MINUTES: 'Session idle timeout. Default 15.',
  HAVEN_BREAK_GLASS_MINUTES: 'Lifetime of a break-glass read grant (5 to 240). Default 30.',
  HAVEN_SESSION_ABSOLUTE_HOURS: 'Session absolute lifetime. Default 12.',
  HAVEN_ARGON2_MEMORY_KIB: 'argon2id memory cost (at least 19456). Default 19456.',
  HAVEN_ARGON2_TIME_COST: 'argon2id iterations (at least 2). Default 2.',
  HAVEN_PASSWORD_MIN_LENGTH: 'Minimum password length (12 to 64). Default 12.',
  HAVEN_MFA_REQUIRED_ROLES:
    'Comma-separated roles that must use MFA; must include admin. Default admin,clinician,researcher.',
  HAVEN_SELF_SIGNUP: 'true/false. Allow self sign-up with email verification. Default false.',
  HAVEN_HIBP_URL:
    'HaveIBeenPwned range API base URL (e.g. https://api.pwnedpasswords.com). Unset: offline list only.',
  HAVEN_SMTP_URL:
    'smtp:// or smtps:// URL of the mail relay (credentials in the URL). Unset: dev mailbox in <data>/mailbox.',
  HAVEN_MAIL_FROM: 'Sender address of Haven mail. Default haven@localhost.',
} as const;

type EnvName = keyof typeof ENV_VARIABLES;
type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Known example/default values that must never protect a production deployment. */
const KNOWN_WEAK_KEYS = new Set([
  'changeme',
  'change-me',
  'secret',
  'CHANGE_ME_32_BYTES_BASE64_ENCODED',
  Buffer.alloc(32).toString('base64'),
]);

interface LoadOptions {
  /** Working directory for relative defaults (tests pass a temp dir). */
  readonly cwd?: string;
}

/** Reads VAR or VAR_FILE (container secrets); both at once is an error. */
function readVariable(env: Env, name: EnvName, problems: string[]): string | undefined {
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

function parseInteger(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    problems.push(`${name}: expected an integer, got "${raw}"`);
    return fallback;
  }
  const value = Number(raw);
  if (value < min || value > max) {
    problems.push(`${name}: must be between ${min} and ${max}, got ${value}`);
    return fallback;
  }
  return value;
}

function parseBoolean(
  raw: string | undefined,
  name: string,
  fallback: boolean,
  problems: string[],
): boolean {
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  problems.push(`${name}: expected true or false, got "${raw}"`);
  return fallback;
}

function parseList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

const DEFAULT_RATES: Record<RateClass, string> = {
  public: '120/60',
  auth: '10/60',
  refresh: '30/60',
  sensitive: '20/60',
  read: '600/60',
  write: '120/60',
  upload: '60/60',
};

function parseRate(raw: string, name: string, problems: string[]): RateLimitRule {
  const match = /^(\d{1,7})\/(\d{1,6})$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    problems.push(`${name}: expected "max/windowSeconds" such as 10/60, got "${raw}"`);
    return { max: 1, windowMs: 60_000 };
  }
  return { max: Number(match[1]), windowMs: Number(match[2]) * 1000 };
}

const ROLES = ['admin', 'clinician', 'researcher', 'participant', 'patient'];

/** Roles that must use MFA. Administrators always must: the catalogue allows no opting out. */
function parseMfaRoles(raw: string | undefined, problems: string[]): readonly string[] {
  const roles = raw === undefined ? ['admin', 'clinician', 'researcher'] : parseList(raw);
  const unknown = roles.filter((role) => !ROLES.includes(role));
  if (unknown.length > 0) {
    problems.push(`HAVEN_MFA_REQUIRED_ROLES: unknown roles ${unknown.join(', ')}`);
  }
  if (!roles.includes('admin')) problems.push('HAVEN_MFA_REQUIRED_ROLES: must include admin');
  return Object.freeze(roles);
}

function isWeakKey(raw: string, decoded: Buffer): boolean {
  if (KNOWN_WEAK_KEYS.has(raw)) return true;
  // A key with few distinct bytes was typed, not generated.
  return new Set(decoded).size < 16;
}

function decodeMasterKey(raw: string, problems: string[]): Buffer | undefined {
  const decoded = Buffer.from(raw, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || decoded.length !== 32) {
    problems.push('HAVEN_MASTER_KEY: must be base64 of exactly 32 bytes (openssl rand -base64 32)');
    return undefined;
  }
  return decoded;
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

function validateOrigins(origins: string[], problems: string[]): void {
  for (const origin of origins) {
    if (origin === '*' || origin.includes('*')) {
      problems.push('HAVEN_CORS_ORIGINS: wildcards are not allowed; list exact origins');
      continue;
    }
    try {
      const url = new URL(origin);
      if (url.origin !== origin) {
        problems.push(
          `HAVEN_CORS_ORIGINS: "${origin}" is not a bare origin (scheme://host[:port])`,
        );
      }
    } catch {
      problems.push(`HAVEN_CORS_ORIGINS: "${origin}" is not a valid origin`);
    }
  }
}

function validateProxies(proxies: string[], problems: string[]): void {
  for (const proxy of proxies) {
    const ok = proxy.includes('/') ? isCidr(proxy) : ipaddr.isValid(proxy);
    if (!ok) problems.push(`HAVEN_TRUSTED_PROXIES: "${proxy}" is not an IP address or CIDR`);
  }
}

function isCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}

function resolveEnv(env: Env): HavenConfig['env'] {
  const raw = env.HAVEN_ENV ?? env.NODE_ENV ?? 'development';
  return raw === 'production' || raw === 'test' ? raw : 'development';
}

/**
 * Parses the environment into a frozen HavenConfig. Throws ConfigError listing every
 * problem at once; in production also refuses insecure settings (S1, T1, T5).
 */
export function loadConfig(env: Env = process.env, options: LoadOptions = {}): HavenConfig {
  const problems: string[] = [];
  const cwd = options.cwd ?? process.cwd();
  const mode = resolveEnv(env);
  const production = mode === 'production';

  const port = parseInteger(env.PORT, 'PORT', 8080, 0, 65535, problems);
  const host = env.HOST ?? '127.0.0.1';
  const dataDir = path.resolve(cwd, env.HAVEN_DATA_DIR ?? 'data');
  const webDir = path.resolve(
    cwd,
    env.HAVEN_WEB_DIR ??
      path.join(path.dirname(new URL(import.meta.url).pathname), '../../web/dist'),
  );

  let publicUrl = new URL(`http://127.0.0.1:${port}`);
  if (env.HAVEN_PUBLIC_URL) {
    try {
      publicUrl = new URL(env.HAVEN_PUBLIC_URL);
      if (!['http:', 'https:'].includes(publicUrl.protocol)) throw new Error('scheme');
    } catch {
      problems.push(`HAVEN_PUBLIC_URL: "${env.HAVEN_PUBLIC_URL}" is not an http(s) URL`);
    }
  }

  const databaseUrl = readVariable(env, 'DATABASE_URL', problems);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL: expected a postgres:// or postgresql:// URL');
  }
  const redisUrl = readVariable(env, 'REDIS_URL', problems);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL: expected a redis:// or rediss:// URL');
  }

  const rawMasterKey = readVariable(env, 'HAVEN_MASTER_KEY', problems);
  let masterKey: Buffer | undefined;
  let masterKeySource: HavenConfig['masterKeySource'] = 'environment';
  if (rawMasterKey !== undefined) {
    masterKey = decodeMasterKey(rawMasterKey, problems);
    if (masterKey && production && isWeakKey(rawMasterKey, masterKey)) {
      problems.push(
        'HAVEN_MASTER_KEY: is a default or weak value; generate one with openssl rand -base64 32',
      );
    }
  } else if (production) {
    problems.push('HAVEN_MASTER_KEY: missing; production needs it (or HAVEN_MASTER_KEY_FILE)');
  } else {
    masterKey = loadDevMasterKey(dataDir);
    masterKeySource = 'generated-dev-file';
  }

  const corsOrigins = parseList(env.HAVEN_CORS_ORIGINS);
  validateOrigins(corsOrigins, problems);
  const trustedProxies = parseList(env.HAVEN_TRUSTED_PROXIES);
  validateProxies(trustedProxies, problems);

  const certFile = env.HAVEN_TLS_CERT_FILE;
  const keyFile = env.HAVEN_TLS_KEY_FILE;
  let tls: HavenConfig['tls'];
  if (certFile && keyFile) {
    for (const [name, file] of [
      ['HAVEN_TLS_CERT_FILE', certFile],
      ['HAVEN_TLS_KEY_FILE', keyFile],
    ] as const) {
      if (!existsSync(file)) problems.push(`${name}: ${file} does not exist`);
    }
    tls = { certFile, keyFile };
  } else if (certFile || keyFile) {
    problems.push('HAVEN_TLS_CERT_FILE and HAVEN_TLS_KEY_FILE must be set together');
  }

  const cookieSecure = parseBoolean(env.HAVEN_COOKIE_SECURE, 'HAVEN_COOKIE_SECURE', true, problems);

  if (production) {
    if (!tls && trustedProxies.length === 0) {
      problems.push(
        'TLS: production needs HAVEN_TLS_CERT_FILE/HAVEN_TLS_KEY_FILE or HAVEN_TRUSTED_PROXIES (TLS at a proxy)',
      );
    }
    if (!cookieSecure) problems.push('HAVEN_COOKIE_SECURE: cookies must be Secure in production');
    if (publicUrl.protocol !== 'https:') {
      problems.push('HAVEN_PUBLIC_URL: must be an https:// URL in production');
    }
    if (databaseUrl === undefined) {
      problems.push('DATABASE_URL: production needs PostgreSQL, not the embedded database');
    }
    if (redisUrl === undefined) {
      problems.push('REDIS_URL: production needs Redis so limits and revocations are shared');
    }
  }

  const rateLimits = Object.fromEntries(
    RATE_CLASSES.map((rateClass) => {
      const name = `HAVEN_RATE_${rateClass.toUpperCase()}`;
      return [rateClass, parseRate(env[name] ?? DEFAULT_RATES[rateClass], name, problems)];
    }),
  ) as Record<RateClass, RateLimitRule>;

  const limits = {
    bodyBytes: parseInteger(
      env.HAVEN_BODY_LIMIT_BYTES,
      'HAVEN_BODY_LIMIT_BYTES',
      1_048_576,
      1024,
      104_857_600,
      problems,
    ),
    headerBytes: parseInteger(
      env.HAVEN_HEADER_LIMIT_BYTES,
      'HAVEN_HEADER_LIMIT_BYTES',
      16_384,
      4096,
      65_536,
      problems,
    ),
    requestTimeoutMs: parseInteger(
      env.HAVEN_REQUEST_TIMEOUT_MS,
      'HAVEN_REQUEST_TIMEOUT_MS',
      30_000,
      1000,
      600_000,
      problems,
    ),
    jsonMaxDepth: parseInteger(
      env.HAVEN_JSON_MAX_DEPTH,
      'HAVEN_JSON_MAX_DEPTH',
      32,
      2,
      256,
      problems,
    ),
  };

  const outboundAllowHosts = env.HAVEN_OUTBOUND_ALLOW_HOSTS
    ? parseList(env.HAVEN_OUTBOUND_ALLOW_HOSTS)
    : ['api.pwnedpasswords.com'];

  const jobs = {
    embeddedWorker: parseBoolean(
      env.HAVEN_EMBEDDED_WORKER,
      'HAVEN_EMBEDDED_WORKER',
      databaseUrl === undefined,
      problems,
    ),
    pollIntervalMs: parseInteger(
      env.HAVEN_JOB_POLL_MS,
      'HAVEN_JOB_POLL_MS',
      1000,
      10,
      60_000,
      problems,
    ),
  };

  const hibpBaseUrl = env.HAVEN_HIBP_URL;
  if (hibpBaseUrl !== undefined && !/^https?:\/\/[^/]+/.test(hibpBaseUrl)) {
    problems.push('HAVEN_HIBP_URL: expected an http(s) URL');
  } else if (
    hibpBaseUrl !== undefined &&
    !outboundAllowHosts.includes(new URL(hibpBaseUrl).hostname)
  ) {
    problems.push('HAVEN_HIBP_URL: its host must be listed in HAVEN_OUTBOUND_ALLOW_HOSTS');
  }
  const identity = {
    sessionIdleMs:
      parseInteger(
        env.HAVEN_SESSION_IDLE_MINUTES,
        'HAVEN_SESSION_IDLE_MINUTES',
        15,
        1,
        24 * 60,
        problems,
      ) * 60_000,
    sessionAbsoluteMs:
      parseInteger(
        env.HAVEN_SESSION_ABSOLUTE_HOURS,
        'HAVEN_SESSION_ABSOLUTE_HOURS',
        12,
        1,
        24 * 30,
        problems,
      ) * 3_600_000,
    argon2MemoryKib: parseInteger(
      env.HAVEN_ARGON2_MEMORY_KIB,
      'HAVEN_ARGON2_MEMORY_KIB',
      19_456,
      19_456,
      4_194_304,
      problems,
    ),
    argon2TimeCost: parseInteger(
      env.HAVEN_ARGON2_TIME_COST,
      'HAVEN_ARGON2_TIME_COST',
      2,
      2,
      64,
      problems,
    ),
    passwordMinLength: parseInteger(
      env.HAVEN_PASSWORD_MIN_LENGTH,
      'HAVEN_PASSWORD_MIN_LENGTH',
      12,
      12,
      64,
      problems,
    ),
    selfSignup: parseBoolean(env.HAVEN_SELF_SIGNUP, 'HAVEN_SELF_SIGNUP', false, problems),
    mfaRequiredRoles: parseMfaRoles(env.HAVEN_MFA_REQUIRED_ROLES, problems),
    hibpBaseUrl,
  };
  const clinical = {
    breakGlassMs:
      parseInteger(
        env.HAVEN_BREAK_GLASS_MINUTES,
        'HAVEN_BREAK_GLASS_MINUTES',
        30,
        5,
        240,
        problems,
      ) * 60_000,
  };
  const smtpUrl = readVariable(env, 'HAVEN_SMTP_URL', problems);
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) {
    problems.push('HAVEN_SMTP_URL: expected smtp:// or smtps://');
  }
  if (production && smtpUrl === undefined) {
    problems.push('HAVEN_SMTP_URL: production needs a mail relay');
  }
  const mail = { smtpUrl, from: env.HAVEN_MAIL_FROM ?? 'haven@localhost' };

  if (problems.length > 0 || masterKey === undefined) {
    throw new ConfigError(problems.length > 0 ? problems : ['HAVEN_MASTER_KEY: unusable']);
  }

  const config: HavenConfig = {
    env: mode,
    host,
    port,
    publicOrigin: publicUrl.origin,
    dataDir,
    webDir,
    databaseUrl,
    redisUrl,
    masterKey,
    masterKeySource,
    corsOrigins: Object.freeze(corsOrigins),
    trustedProxies: Object.freeze(trustedProxies),
    tls: tls ? Object.freeze(tls) : undefined,
    cookieSecure,
    logLevel: env.HAVEN_LOG_LEVEL ?? (mode === 'test' ? 'warn' : 'info'),
    limits: Object.freeze(limits),
    rateLimits: Object.freeze(
      Object.fromEntries(Object.entries(rateLimits).map(([k, v]) => [k, Object.freeze(v)])),
    ) as HavenConfig['rateLimits'],
    outboundAllowHosts: Object.freeze(outboundAllowHosts),
    jobs: Object.freeze(jobs),
    identity: Object.freeze(identity),
    clinical: Object.freeze(clinical),
    mail: Object.freeze(mail),
  };
  return Object.freeze(config);
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
