// THE configuration table: every environment variable Haven reads, written once. loadConfig
// parses from it, and .env.example and docs/configuration.md are generated from it
// (`npm run config:docs`); a test fails when the committed files drift from this table.
// A declaration table: when it outgrows 400 lines, list it in eslint.config.js's
// DECLARATION_TABLES rather than split one table across files.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  apiBaseUrl,
  boolean,
  file,
  folder,
  httpUrl,
  integer,
  isWeakKey,
  key32,
  list,
  mfaRoles,
  mode,
  optionalPort,
  originProblem,
  proxyProblem,
  rate,
  serviceUrl,
  text,
  timeZone,
} from './kinds.js';
import { variable, type CrossRule } from './row.js';

/** Where the build puts the web app, relative to this file in src/ and in dist/ alike. */
const BUILT_WEB_DIR = path.join(
  path.dirname(new URL(import.meta.url).pathname),
  '../../../web/dist',
);

const required = (problem: string) => ({
  rule: 'required',
  check: (value: unknown) => (value === undefined ? problem : undefined),
});

export const VARIABLES = {
  // ── Server ──────────────────────────────────────────────────────────────────────────────
  HAVEN_ENV: variable({
    group: 'server',
    ...mode(),
    fallback: 'NODE_ENV',
    unset: '`development`',
    example: 'production',
    meaning:
      'Which rules apply; production refuses to start on a missing, default or weak setting.',
  }),
  HOST: variable({
    group: 'server',
    ...text({ default: '127.0.0.1', type: 'IP address or host name' }),
    meaning: 'Interface address the server listens on.',
  }),
  PORT: variable({
    group: 'server',
    ...integer({ default: '8080', min: 0, max: 65535 }),
    meaning: 'Port the server listens on.',
  }),
  HAVEN_PUBLIC_URL: variable({
    group: 'server',
    ...httpUrl(),
    unset: '`http://127.0.0.1:<PORT>`',
    example: 'https://haven.example.org',
    meaning: 'External URL of the server, used in links, redirects and the plain-HTTP redirect.',
    production: {
      rule: 'must be `https://`',
      check: (url) =>
        url?.protocol === 'https:' ? undefined : 'must be an https:// URL in production',
    },
  }),
  HAVEN_DATA_DIR: variable({
    group: 'server',
    ...folder({ default: './data' }),
    meaning:
      'Folder for the embedded database, files, the development mailbox and the development master key.',
  }),
  HAVEN_WEB_DIR: variable({
    group: 'server',
    ...folder({ derived: BUILT_WEB_DIR }),
    unset: '`web/dist` next to the server package',
    meaning: 'Folder with the built web app that the server serves.',
  }),
  HAVEN_LOG_LEVEL: variable({
    group: 'server',
    ...text({ type: 'pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`' }),
    unset: '`info` (`warn` when `HAVEN_ENV=test`)',
    example: 'info',
    meaning: 'How much the server logs.',
  }),

  // ── Database, Redis and mail ────────────────────────────────────────────────────────────
  DATABASE_URL: variable({
    group: 'services',
    ...serviceUrl({
      type: '`postgres://` or `postgresql://` URL',
      scheme: /^postgres(ql)?:\/\//,
      problem: 'expected a postgres:// or postgresql:// URL',
    }),
    secret: true,
    unset: 'embedded PGlite in `<HAVEN_DATA_DIR>/db` (one process only)',
    example: 'postgres://haven:<password>@db.internal:5432/haven',
    meaning: 'PostgreSQL database that holds all data.',
    production: required('production needs PostgreSQL, not the embedded database'),
  }),
  REDIS_URL: variable({
    group: 'services',
    ...serviceUrl({
      type: '`redis://` or `rediss://` URL',
      scheme: /^rediss?:\/\//,
      problem: 'expected a redis:// or rediss:// URL',
    }),
    secret: true,
    unset: 'in memory (one node only)',
    example: 'rediss://:<password>@cache.internal:6379',
    meaning: 'Redis that shares rate limits and session revocations between server nodes.',
    production: required('production needs Redis so limits and revocations are shared'),
  }),
  HAVEN_SMTP_URL: variable({
    group: 'services',
    ...serviceUrl({
      type: '`smtp://` or `smtps://` URL, credentials in the URL',
      scheme: /^smtps?:\/\//,
      problem: 'expected smtp:// or smtps://',
    }),
    secret: true,
    unset: 'a development mailbox in `<HAVEN_DATA_DIR>/mailbox`, listed by `npx haven mail`',
    example: 'smtps://haven:<password>@mail.example.org:465',
    meaning: 'Mail relay for invitations, password resets and other notices.',
    production: required('production needs a mail relay'),
  }),
  HAVEN_MAIL_FROM: variable({
    group: 'services',
    ...text({ default: 'haven@localhost', type: 'email address' }),
    meaning: 'Sender address of the mail Haven sends.',
  }),
  HAVEN_TIME_ZONE: variable({
    group: 'services',
    ...timeZone('UTC'),
    example: 'Europe/Berlin',
    meaning:
      'Time zone of the clinic, in which mail states times (an invitation link expires "on Tuesday 8 December at 14:05 CET").',
  }),

  // ── Keys ────────────────────────────────────────────────────────────────────────────────
  HAVEN_MASTER_KEY: variable({
    group: 'secrets',
    ...key32(),
    secret: true,
    unset:
      'outside production, a key generated once into `<HAVEN_DATA_DIR>/dev-master.key`, with a warning at every start',
    example: '<base64 of 32 random bytes: openssl rand -base64 32>',
    meaning: 'Key that wraps every data-encryption key.',
    production: {
      rule: 'required; a default or weak key is refused',
      check(key) {
        if (key === undefined) return 'missing; production needs it (or HAVEN_MASTER_KEY_FILE)';
        if (isWeakKey(key)) {
          return 'is a default or weak value; generate one with openssl rand -base64 32';
        }
        return undefined;
      },
    },
  }),
  HAVEN_MASTER_KEY_PREVIOUS: variable({
    group: 'secrets',
    ...key32(),
    secret: true,
    unset: 'only `HAVEN_MASTER_KEY` opens sealed values',
    example: '<base64 of the master key being replaced, during a rotation only>',
    meaning:
      'A second master key that opens sealed values, passes CSRF tokens and verifies audit seals but never seals anything: during a rotation the key being replaced, or for one roll of a multi-node deployment the key about to become current (docs/operations.md, "Rotating keys").',
    production: {
      rule: 'a default or weak key is refused',
      check(key) {
        return key !== undefined && isWeakKey(key)
          ? 'is a default or weak value; it can only be a key Haven never used'
          : undefined;
      },
    },
  }),

  // ── Network and transport ───────────────────────────────────────────────────────────────
  HAVEN_CORS_ORIGINS: variable({
    group: 'network',
    ...list({
      type: 'comma-separated exact origins (`scheme://host[:port]`), no wildcards',
      problemOf: originProblem,
    }),
    unset: 'same-origin only',
    example: 'https://app.example.org',
    meaning: 'Other origins allowed to call the API with credentials.',
  }),
  HAVEN_TRUSTED_PROXIES: variable({
    group: 'network',
    ...list({ type: 'comma-separated IP addresses or CIDRs', problemOf: proxyProblem }),
    unset: '`X-Forwarded-*` headers are ignored',
    example: '10.0.0.0/8',
    meaning: 'Reverse proxies whose `X-Forwarded-*` headers (client address, scheme) are believed.',
  }),
  HAVEN_TLS_CERT_FILE: variable({
    group: 'network',
    ...file(),
    unset: 'Haven serves plain HTTP (TLS at a proxy)',
    example: '/run/secrets/haven-cert.pem',
    meaning: 'PEM certificate, when Haven terminates TLS itself; set together with the key.',
  }),
  HAVEN_TLS_KEY_FILE: variable({
    group: 'network',
    ...file(),
    unset: 'Haven serves plain HTTP (TLS at a proxy)',
    example: '/run/secrets/haven-key.pem',
    meaning:
      'PEM private key, when Haven terminates TLS itself; set together with the certificate.',
  }),
  HAVEN_COOKIE_SECURE: variable({
    group: 'network',
    ...boolean('true'),
    meaning: 'Whether cookies carry the Secure flag, so browsers send them over HTTPS only.',
    production: {
      rule: 'must be `true`',
      check: (secure) => (secure ? undefined : 'cookies must be Secure in production'),
    },
  }),
  HAVEN_OUTBOUND_ALLOW_HOSTS: variable({
    group: 'network',
    ...list({ type: 'comma-separated host names', default: 'api.pwnedpasswords.com' }),
    meaning: 'Hosts the server may call out to; every other outbound request is refused (SSRF).',
  }),

  // ── Request limits ──────────────────────────────────────────────────────────────────────
  HAVEN_BODY_LIMIT_BYTES: variable({
    group: 'limits',
    ...integer({ default: '1048576', min: 1024, max: 104_857_600 }),
    meaning: 'Largest request body a route accepts unless it declares its own, in bytes.',
  }),
  HAVEN_HEADER_LIMIT_BYTES: variable({
    group: 'limits',
    ...integer({ default: '16384', min: 4096, max: 65_536 }),
    meaning: 'Largest total size of the request headers, in bytes.',
  }),
  HAVEN_REQUEST_TIMEOUT_MS: variable({
    group: 'limits',
    ...integer({ default: '30000', min: 1000, max: 600_000 }),
    meaning: 'Time allowed for a whole request, in milliseconds.',
  }),
  HAVEN_SHUTDOWN_DRAIN_MS: variable({
    group: 'limits',
    ...integer({ default: '3000', min: 0, max: 60_000 }),
    meaning:
      'How long a stopping server (SIGTERM) keeps answering on its open connections, each answer closing its connection, before it closes those still idle, in milliseconds (0: at once).',
  }),
  HAVEN_JSON_MAX_DEPTH: variable({
    group: 'limits',
    ...integer({ default: '32', min: 2, max: 256 }),
    meaning: 'Deepest nesting accepted in a JSON body.',
  }),

  // ── Rate limits (one per route class) ───────────────────────────────────────────────────
  HAVEN_RATE_PUBLIC: variable({
    group: 'rates',
    ...rate('120/60'),
    meaning: 'Requests per client allowed on public routes.',
  }),
  HAVEN_RATE_AUTH: variable({
    group: 'rates',
    ...rate('10/60'),
    meaning: 'Requests per client allowed on sign-in and the other authentication routes.',
  }),
  HAVEN_RATE_REFRESH: variable({
    group: 'rates',
    ...rate('30/60'),
    meaning:
      'Session refreshes (every page load) allowed per session, so a clinic behind one address does not share them; a refresh without a session cookie Haven issued counts per client at the `HAVEN_RATE_AUTH` limit.',
  }),
  HAVEN_RATE_SENSITIVE: variable({
    group: 'rates',
    ...rate('20/60'),
    meaning: 'Requests per client allowed on sensitive account routes (password, MFA, sessions).',
  }),
  HAVEN_RATE_READ: variable({
    group: 'rates',
    ...rate('600/60'),
    meaning: 'Requests per client allowed on authenticated reads.',
  }),
  HAVEN_RATE_WRITE: variable({
    group: 'rates',
    ...rate('120/60'),
    meaning: 'Requests per client allowed on authenticated writes.',
  }),
  HAVEN_RATE_UPLOAD: variable({
    group: 'rates',
    ...rate('600/60'),
    meaning: 'Requests per client allowed on upload routes (a tus upload sends one per chunk).',
  }),

  // ── Background jobs ─────────────────────────────────────────────────────────────────────
  HAVEN_EMBEDDED_WORKER: variable({
    group: 'jobs',
    ...boolean(),
    unset: '`true` without `DATABASE_URL`, `false` with it',
    example: 'false',
    meaning: 'Whether the server also runs background jobs (otherwise run `npx haven worker`).',
  }),
  HAVEN_JOB_POLL_MS: variable({
    group: 'jobs',
    ...integer({ default: '1000', min: 10, max: 60_000 }),
    meaning: 'How often a worker looks for due jobs, in milliseconds.',
  }),

  // ── Metrics ─────────────────────────────────────────────────────────────────────────────
  HAVEN_METRICS_PORT: variable({
    group: 'metrics',
    ...optionalPort(),
    unset:
      'no metrics listener, in every mode: a port opens only when asked for, so two processes on one host never collide on a default (set it in production, e.g. 9464)',
    example: '9464',
    meaning:
      'Port of the separate Prometheus listener (`GET /metrics`) that `haven serve` and `haven worker` each open beside the public one (never on `PORT`; processes sharing a host need different ports).',
  }),
  HAVEN_METRICS_HOST: variable({
    group: 'metrics',
    ...text({ default: '127.0.0.1', type: 'IP address or host name' }),
    meaning:
      'Interface the metrics listener binds; it has no authentication, so it must stay on a private network: loopback, or one only Prometheus reaches (in a container, `0.0.0.0` with the port published on no public interface).',
  }),

  OTEL_EXPORTER_OTLP_ENDPOINT: variable({
    group: 'metrics',
    ...apiBaseUrl(),
    unset: 'no traces are made or sent',
    example: 'http://otel-collector:4318',
    meaning:
      'OpenTelemetry collector (OTLP over HTTP, JSON) that receives one span per request at `<endpoint>/v1/traces`, named by the route pattern and carrying no URLs, ids, headers or bodies (operator configuration, like the mail relay, so not subject to `HAVEN_OUTBOUND_ALLOW_HOSTS`).',
  }),
  OTEL_SERVICE_NAME: variable({
    group: 'metrics',
    ...text({ default: 'haven', type: 'name' }),
    meaning: 'The `service.name` of the spans (tell nodes or deployments apart).',
  }),

  // ── Accounts and sign-in ────────────────────────────────────────────────────────────────
  HAVEN_SESSION_IDLE_MINUTES: variable({
    group: 'accounts',
    ...integer({ default: '15', min: 1, max: 24 * 60 }),
    meaning: 'Minutes without activity after which a session ends.',
  }),
  HAVEN_SESSION_ABSOLUTE_HOURS: variable({
    group: 'accounts',
    ...integer({ default: '12', min: 1, max: 24 * 30 }),
    meaning: 'Hours after sign-in after which a session ends, however active.',
  }),
  HAVEN_ARGON2_MEMORY_KIB: variable({
    group: 'accounts',
    ...integer({ default: '19456', min: 19_456, max: 4_194_304 }),
    meaning: 'argon2id memory cost in KiB; raising it rehashes each password at its next sign-in.',
  }),
  HAVEN_ARGON2_TIME_COST: variable({
    group: 'accounts',
    ...integer({ default: '2', min: 2, max: 64 }),
    meaning: 'argon2id iterations; raising it rehashes each password at its next sign-in.',
  }),
  HAVEN_PASSWORD_MIN_LENGTH: variable({
    group: 'accounts',
    ...integer({ default: '12', min: 12, max: 64 }),
    meaning: 'Shortest password accepted (the longest is 128).',
  }),
  HAVEN_SELF_SIGNUP: variable({
    group: 'accounts',
    ...boolean('false'),
    meaning:
      'Whether people may sign up themselves with email verification, or only by invitation.',
  }),
  HAVEN_MFA_REQUIRED_ROLES: variable({
    group: 'accounts',
    ...mfaRoles('admin,clinician,researcher'),
    meaning: 'Roles that get no session without MFA; must include `admin`.',
  }),
  HAVEN_HIBP_URL: variable({
    group: 'accounts',
    ...apiBaseUrl(),
    unset: 'only the offline common-password list is checked',
    example: 'https://api.pwnedpasswords.com',
    meaning:
      'HaveIBeenPwned range API that new passwords are checked against; its host must be in `HAVEN_OUTBOUND_ALLOW_HOSTS`.',
  }),

  // ── Clinical records ────────────────────────────────────────────────────────────────────
  HAVEN_BREAK_GLASS_MINUTES: variable({
    group: 'clinical',
    ...integer({ default: '30', min: 5, max: 240 }),
    meaning: "Minutes a break-glass grant lets an administrator read one patient's record.",
  }),

  // ── Medical files ───────────────────────────────────────────────────────────────────────
  HAVEN_CLAMD_URL: variable({
    group: 'files',
    ...serviceUrl({
      type: '`tcp://host:port` or `unix:///path/to/clamd.ctl`',
      scheme: /^(tcp:\/\/[^/]+:\d+\/?$|unix:\/\/\/.+)/,
      problem: 'expected tcp://host:port or unix:///path/to/clamd.ctl',
    }),
    unset: 'no scanner: uploads stay "waiting for a malware scan" and cannot be downloaded',
    example: 'tcp://clamav.internal:3310',
    meaning: 'The clamd that scans every upload before anyone can download it (F5).',
  }),
  HAVEN_STORAGE_URL: variable({
    group: 'files',
    ...serviceUrl({
      type: '`s3+https://` or `s3+http://` URL: `s3+https://<key id>:<secret>@<endpoint host>/<bucket>?region=…&sse=AES256|aws:kms|none&kms_key_id=…&path_style=true`',
      scheme: /^s3\+https?:\/\//,
      problem: 'expected s3+https://<key id>:<secret>@<host>/<bucket>?region=…',
    }),
    secret: true,
    unset:
      'the embedded filesystem storage in `<HAVEN_DATA_DIR>/files`, encrypted by Haven (one node)',
    example:
      's3+https://AKIA…:<secret>@s3.eu-central-1.amazonaws.com/haven-files?region=eu-central-1&sse=aws:kms&kms_key_id=<key id>',
    meaning:
      'S3-compatible default storage for uploads, to which browsers send parts straight, with `sse` AES256 unless set (F4).',
  }),
  HAVEN_FILES_MAX_MB: variable({
    group: 'files',
    ...integer({ default: '5120', min: 1, max: 5_242_880 }),
    meaning: 'Largest file one upload may hold, in MiB.',
  }),
  HAVEN_FILES_USER_QUOTA_MB: variable({
    group: 'files',
    ...integer({ default: '20480', min: 1, max: 1_073_741_824 }),
    meaning:
      'Storage each user may fill with their uploads (files and unfinished uploads), in MiB.',
  }),
  HAVEN_FILES_STORAGE_QUOTA_MB: variable({
    group: 'files',
    ...integer({ default: '512000', min: 1, max: 1_073_741_824 }),
    meaning: 'Storage all uploads to the default storage may fill together, in MiB.',
  }),
};

export type VariableName = keyof typeof VARIABLES;
/** The parsed value of every variable, typed by its row's kind. */
export type Values = { readonly [K in VariableName]: ReturnType<(typeof VARIABLES)[K]['parse']> };

/** Rules about several variables together, checked after each variable parsed on its own. */
export const CROSS_RULES: readonly CrossRule<Values>[] = [
  {
    rule: '`HAVEN_TLS_CERT_FILE` and `HAVEN_TLS_KEY_FILE` are set together, and both files exist.',
    productionOnly: false,
    check({ HAVEN_TLS_CERT_FILE: certFile, HAVEN_TLS_KEY_FILE: keyFile }) {
      if (certFile && keyFile) {
        const files: readonly (readonly [string, string])[] = [
          ['HAVEN_TLS_CERT_FILE', certFile],
          ['HAVEN_TLS_KEY_FILE', keyFile],
        ];
        return files
          .filter(([, location]) => !existsSync(location))
          .map(([name, location]) => `${name}: ${location} does not exist`);
      }
      if (certFile || keyFile) {
        return ['HAVEN_TLS_CERT_FILE and HAVEN_TLS_KEY_FILE must be set together'];
      }
      return [];
    },
  },
  {
    rule: '`HAVEN_METRICS_PORT` differs from `PORT`: the metrics are never served on the public port.',
    productionOnly: false,
    check({ HAVEN_METRICS_PORT: metricsPort, PORT: port }) {
      return metricsPort !== undefined && metricsPort === port
        ? ['HAVEN_METRICS_PORT must differ from PORT: metrics are never served on the public port']
        : [];
    },
  },
  {
    rule: 'The host of `HAVEN_HIBP_URL` is listed in `HAVEN_OUTBOUND_ALLOW_HOSTS`.',
    productionOnly: false,
    check({ HAVEN_HIBP_URL: hibpUrl, HAVEN_OUTBOUND_ALLOW_HOSTS: allowed }) {
      if (hibpUrl === undefined || allowed.includes(new URL(hibpUrl).hostname)) return [];
      return ['HAVEN_HIBP_URL: its host must be listed in HAVEN_OUTBOUND_ALLOW_HOSTS'];
    },
  },
  {
    rule: 'TLS is terminated by Haven (`HAVEN_TLS_CERT_FILE` and `HAVEN_TLS_KEY_FILE`) or by a proxy listed in `HAVEN_TRUSTED_PROXIES`.',
    productionOnly: true,
    check(values) {
      const tlsAtServer = Boolean(values.HAVEN_TLS_CERT_FILE && values.HAVEN_TLS_KEY_FILE);
      if (tlsAtServer || values.HAVEN_TRUSTED_PROXIES.length > 0) return [];
      return [
        'TLS: production needs HAVEN_TLS_CERT_FILE/HAVEN_TLS_KEY_FILE or HAVEN_TRUSTED_PROXIES (TLS at a proxy)',
      ];
    },
  },
];

/** Every variable Haven reads, with its meaning (the table above is the source). */
export const ENV_VARIABLES = Object.freeze(
  Object.fromEntries(Object.entries(VARIABLES).map(([name, row]) => [name, row.meaning])),
) as Readonly<Record<VariableName, string>>;
