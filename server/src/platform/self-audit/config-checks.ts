// D3, the configuration half: what the loaded configuration says, judged against the catalogue.
// loadConfig already refuses what production must never run with (S1, T1, T5); these checks
// report the rest, and report the refusals' subjects as evidence so a PASS says what it saw.
// Outside production the development defaults are WARNs, never FAILs: `npm start` must pass.
import type { HavenConfig } from '../../config.js';
import { finding, type Finding } from './findings.js';

/** A1's floor: OWASP's argon2id minimum (m=19 MiB, t=2). */
const ARGON2_MIN_MEMORY_KIB = 19_456;
const ARGON2_MIN_TIME_COST = 2;

export function configFindings(config: HavenConfig): Finding[] {
  const production = config.env === 'production';
  /** A development default: a warning outside production, a failure in it. */
  const devDefault = (ok: boolean) => (ok ? 'PASS' : production ? 'FAIL' : 'WARN');
  const findings: Finding[] = [
    finding(
      'S1',
      'environment mode',
      production ? 'PASS' : 'WARN',
      production
        ? 'HAVEN_ENV=production: the production rules of every variable were applied at load.'
        : `HAVEN_ENV=${config.env}: development defaults are allowed; production rules not applied.`,
    ),
    finding(
      'S1',
      'master key',
      devDefault(config.masterKeySource === 'environment'),
      config.masterKeySource === 'environment'
        ? 'HAVEN_MASTER_KEY comes from the environment (or its _FILE).'
        : 'a development key generated into the data folder is in use; set HAVEN_MASTER_KEY.',
    ),
    finding(
      'T1',
      'TLS termination',
      devDefault(config.tls !== undefined || config.trustedProxies.length > 0),
      config.tls !== undefined
        ? 'Haven terminates TLS itself (HAVEN_TLS_CERT_FILE / HAVEN_TLS_KEY_FILE).'
        : config.trustedProxies.length > 0
          ? `TLS at a proxy trusted for X-Forwarded-Proto: ${config.trustedProxies.join(', ')}.`
          : 'no TLS configured and no trusted proxy: plain HTTP.',
    ),
    finding(
      'T1',
      'public URL',
      devDefault(config.publicOrigin.startsWith('https://')),
      `HAVEN_PUBLIC_URL origin is ${config.publicOrigin}.`,
    ),
    finding(
      'A5',
      'cookie Secure flag',
      devDefault(config.cookieSecure),
      config.cookieSecure
        ? 'session cookies are __Host- prefixed, Secure, HttpOnly, SameSite=Strict.'
        : 'session cookies are sent without Secure (development over plain HTTP).',
    ),
    finding(
      'T5',
      'CORS allowlist',
      config.corsOrigins.includes('*') ? 'FAIL' : 'PASS',
      config.corsOrigins.length === 0
        ? 'no cross-origin browser access is allowed (HAVEN_CORS_ORIGINS empty).'
        : `exact origins only: ${config.corsOrigins.join(', ')}.`,
    ),
    finding(
      'A1',
      'argon2id cost',
      config.identity.argon2MemoryKib >= ARGON2_MIN_MEMORY_KIB &&
        config.identity.argon2TimeCost >= ARGON2_MIN_TIME_COST
        ? 'PASS'
        : 'FAIL',
      `m=${config.identity.argon2MemoryKib} KiB, t=${config.identity.argon2TimeCost} ` +
        `(floor m=${ARGON2_MIN_MEMORY_KIB}, t=${ARGON2_MIN_TIME_COST}).`,
    ),
    finding(
      'A9',
      'MFA for administrators',
      config.identity.mfaRequiredRoles.includes('admin') ? 'PASS' : 'FAIL',
      `roles that must enrol a second factor: ${config.identity.mfaRequiredRoles.join(', ') || 'none'}.`,
    ),
    finding(
      'T4',
      'request limits',
      config.limits.bodyBytes > 0 && config.limits.requestTimeoutMs > 0 ? 'PASS' : 'FAIL',
      `body ≤ ${config.limits.bodyBytes} bytes, headers ≤ ${config.limits.headerBytes} bytes, ` +
        `JSON depth ≤ ${config.limits.jsonMaxDepth}, request timeout ${config.limits.requestTimeoutMs} ms.`,
    ),
    finding(
      'R1',
      'shared rate-limit store',
      config.redisUrl !== undefined ? 'PASS' : 'WARN',
      config.redisUrl !== undefined
        ? 'limits are counted in Redis, shared by every node.'
        : 'limits are counted in memory: correct for one node only.',
    ),
    finding(
      'F5',
      'malware scanner',
      config.files.clamdUrl !== undefined ? 'PASS' : 'WARN',
      config.files.clamdUrl !== undefined
        ? 'clamd is configured; uploads are downloadable only after a clean scan.'
        : 'no clamd configured: uploads stay pending and are never downloadable.',
    ),
    finding(
      'L2',
      'log level',
      production && ['trace', 'debug'].includes(config.logLevel) ? 'WARN' : 'PASS',
      `HAVEN_LOG_LEVEL=${config.logLevel} (secrets are redacted at every level).`,
    ),
  ];
  return findings;
}
