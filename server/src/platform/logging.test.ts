// L1/L2 corpus test: realistic secrets and PII go through the real logger, then the raw bytes
// written to the stream are searched for every sensitive value.
import Fastify from 'fastify';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LOG_FLUSH_MS,
  bufferedLogDestination,
  createLogger,
  maskPii,
  maskText,
  maskTextExhaustive,
} from './logging.js';

function capture(): { stream: DestinationStream; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return {
    stream: { write: (s: string) => void lines.push(s) },
    lines,
    text: () => lines.join(''),
  };
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTQyIiwicm9sZSI6ImNsaW5pY2lhbiJ9.c2lnbmF0dXJlLW5ldmVyLWxlYWtz';

// Every value here must never appear in log output.
const SECRETS = {
  password: 'Tr0ub4dor&3-horse',
  newPassword: 'correct-horse-battery-staple-42',
  mfaCode: '862109',
  recoveryCode: 'r3c0v-9x7q-k2m4',
  jwt: JWT,
  refreshToken: 'rt_8kq3Zp0vX2mN7bL4cW9yT1hJ6fD5sA0eQ',
  sessionCookie: 's%3Aabc123def456ghi789',
  csrf: 'Zx81kq0LmN3pQ7wV',
  resetToken: 'rst5b9d2f7e1a3c',
  invitationToken: 'inv-7Hq2-Lm9x',
  apiKey: 'hk_live_51Hq2Lm9xZ',
  privateKey: '-----BEGIN PRIVATE KEY-----MIIEvQIBADANBg',
} as const;

const PHI = {
  email: 'jane.doe@example.org',
  email2: 'j.doe+clinic@mail.example.com',
  phone: '+1 (555) 010-4477',
  phone2: '555-010-9932',
  phoneUk: '+44 20 7946 0958',
  firstName: 'Janelle',
  lastName: 'Doerksen',
  birthDate: '1961-04-12',
  mrn: '48213377',
  ssn: '078-05-1120',
  street: '1200 Elm Street',
  city: 'Springfield',
  postalCode: '62704',
} as const;

const SENSITIVE: readonly string[] = [...Object.values(SECRETS), ...Object.values(PHI)];
const REQ_ID = 'req-7f3a9c';

function patient(n: number): Record<string, unknown> {
  return {
    id: `pat-${n}`,
    name: { given: PHI.firstName, family: PHI.lastName },
    firstName: PHI.firstName,
    lastName: PHI.lastName,
    birthDate: PHI.birthDate,
    mrn: PHI.mrn,
    ssn: PHI.ssn,
    address: { street: PHI.street, city: PHI.city, postalCode: PHI.postalCode },
    contactMethods: [
      { kind: 'email', value: PHI.email },
      { kind: 'email', value: PHI.email2 },
      { kind: 'phone', value: PHI.phone },
      { kind: 'sms', value: PHI.phone2 },
      { kind: 'phone', value: PHI.phoneUk },
    ],
    note: `Patient ${PHI.email} (MRN: ${PHI.mrn}, SSN ${PHI.ssn}, DOB: ${PHI.birthDate}) lives at ${PHI.street}`,
  };
}

/** Emits the corpus through any logger, so the same corpus can prove an unmasked logger leaks. */
function emitCorpus(root: Logger): void {
  const log = root.child({ reqId: REQ_ID });
  const headers = {
    authorization: `Bearer ${SECRETS.jwt}`,
    cookie: `haven_sid=${SECRETS.sessionCookie}; csrf=${SECRETS.csrf}`,
    'x-csrf-token': SECRETS.csrf,
    'X-Api-Key': SECRETS.apiKey,
    'user-agent': 'vitest',
  };
  const req = {
    id: REQ_ID,
    method: 'POST',
    url: `/api/auth/reset?token=${SECRETS.resetToken}&email=${PHI.email}&invitation=${SECRETS.invitationToken}`,
    ip: '203.0.113.9',
    headers,
    body: { email: PHI.email, password: SECRETS.password },
  };
  log.info({ req }, 'incoming request');
  log.info({ headers }, 'raw headers');
  log.info(
    {
      action: 'auth.login',
      body: {
        email: PHI.email,
        password: SECRETS.password,
        mfaCode: SECRETS.mfaCode,
        totp: SECRETS.mfaCode,
        recoveryCode: SECRETS.recoveryCode,
      },
    },
    'login attempt',
  );
  log.info(
    {
      action: 'auth.password_change',
      currentPassword: SECRETS.password,
      newPassword: SECRETS.newPassword,
    },
    'password change',
  );
  log.info({
    action: 'auth.refresh',
    refresh_token: SECRETS.refreshToken,
    accessToken: SECRETS.jwt,
    credentials: { apiKey: SECRETS.apiKey, privateKey: SECRETS.privateKey },
  });
  log.info({ action: 'patient.read', patient: patient(1) }, 'patient record read');
  log.info({ action: 'patients.list', rows: [patient(2), patient(3)] }, 'listed patients');

  const err = new Error(`login failed for ${PHI.email} with token ${SECRETS.refreshToken}`);
  log.error({ err, action: 'auth.login' }, 'auth failure');
  log.error(err);
  log.error(
    new Error(`upstream said: ${JSON.stringify({ password: SECRETS.password })}`, { cause: err }),
  );
  log.error({ error: Object.assign(new Error('db error'), { code: '23505', detail: PHI.email }) });

  log
    .child({ user: { email: PHI.email, displayName: `${PHI.firstName} ${PHI.lastName}` } })
    .info({ action: 'session.start' }, 'child with PII bindings');
  log.info('password reset requested by %s from %s', PHI.email, PHI.phone);
  log.warn(
    `lookup MRN: ${PHI.mrn} ssn ${PHI.ssn} DOB: ${PHI.birthDate} auth Bearer ${SECRETS.refreshToken} jwt ${SECRETS.jwt}`,
  );
  log.info('callback %o', { code: SECRETS.mfaCode, url: `/cb?code=${SECRETS.mfaCode}` });

  let deep: Record<string, unknown> = { password: SECRETS.password, email: PHI.email };
  for (let i = 0; i < 50; i++) deep = { level: i, next: deep };
  log.info({ action: 'deep', deep }, 'deep object');

  const cyclic: Record<string, unknown> = { action: 'cyclic', contact: PHI.email };
  cyclic.self = cyclic;
  log.info({ cyclic }, 'cyclic object');

  const big = Array.from({ length: 5000 }, (_, i) => ({ i, email: PHI.email }));
  const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, PHI.ssn]));
  log.info(
    { action: 'bulk', big, wide, blob: `${'x'.repeat(200_000)} ${PHI.email}` },
    'huge payload',
  );
}

describe('L2: secrets and PII never reach the log', () => {
  const out = capture();
  emitCorpus(createLogger({ level: 'trace', destination: out.stream }));
  const text = out.text();

  it.each(SENSITIVE.map((v) => [v]))('does not leak %s', (value) => {
    expect(text).not.toContain(value);
  });

  it('keeps non-sensitive context so the corpus is not vacuously clean', () => {
    for (const kept of [
      REQ_ID,
      'auth.login',
      'auth.refresh',
      'patient.read',
      'pat-1',
      'incoming request',
      '"method":"POST"',
      '/api/auth/reset?token=[REDACTED]',
      '203.0.113.9',
      '[REDACTED]',
      '[PII]',
      '[EMAIL]',
      '[PHONE]',
      '[SSN]',
      '[MRN]',
      '[DOB]',
      '[Circular]',
      '[Truncated]',
      '[4901 more items]',
      'more keys',
      '"code":"23505"',
      'login failed for [EMAIL]',
    ]) {
      expect(text).toContain(kept);
    }
  });

  it('emits one valid JSON object per line with level label and ISO time, bounded in size', () => {
    expect(out.lines.length).toBeGreaterThan(15);
    for (const line of out.lines) {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.length).toBeLessThan(200_000);
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(entry.level);
      expect(entry.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it('sanity: the same corpus through a plain pino logger leaks (the test can fail)', () => {
    const raw = capture();
    emitCorpus(pino({ level: 'trace' }, raw.stream));
    const leaked = SENSITIVE.filter((v) => raw.text().includes(v));
    expect(leaked).toEqual(expect.arrayContaining([SECRETS.password, SECRETS.jwt, PHI.email]));
  });

  it('cannot be bypassed by a child logger overriding formatters and serializers', () => {
    const c = capture();
    createLogger({ level: 'info', destination: c.stream })
      .child(
        { reqId: REQ_ID },
        { formatters: { log: (o) => o }, serializers: { req: (r: unknown) => r }, msgPrefix: '' },
      )
      .info({ req: { headers: { authorization: `Bearer ${SECRETS.jwt}` } }, ssn: PHI.ssn }, 'x');
    expect(c.text()).not.toContain(SECRETS.jwt);
    expect(c.text()).not.toContain(PHI.ssn);
  });

  it('masks the Fastify request logger (headers, query, bodies, thrown errors)', async () => {
    const c = capture();
    const app = Fastify({ loggerInstance: createLogger({ level: 'info', destination: c.stream }) });
    app.post('/api/auth/login', async (request) => {
      request.log.info({ body: request.body }, 'login attempt');
      throw new Error(`no account for ${PHI.email} (token ${SECRETS.refreshToken})`);
    });
    const res = await app.inject({
      method: 'POST',
      url: `/api/auth/login?token=${SECRETS.resetToken}`,
      headers: { authorization: `Bearer ${SECRETS.jwt}`, cookie: `sid=${SECRETS.sessionCookie}` },
      payload: { email: PHI.email, password: SECRETS.password, mfaCode: SECRETS.mfaCode },
    });
    await app.close();
    expect(res.statusCode).toBe(500);
    const t = c.text();
    for (const v of SENSITIVE) expect(t).not.toContain(v);
    expect(t).toContain('"statusCode":500');
    expect(t).toContain('/api/auth/login?token=[REDACTED]');
    expect(t).toContain('incoming request');
  });

  it('helpers mask free text and keys but keep diagnostics', () => {
    expect(maskText(`call ${PHI.phone2} or mail ${PHI.email2}`)).toBe(
      'call [PHONE] or mail [EMAIL]',
    );
    expect(maskText('Authorization: Bearer abc.def-123')).not.toContain('abc.def-123');
    expect(maskText('patient MRN-1234567 born on 04/12/1961')).toBe('patient [MRN] born on [DOB]');
    expect(maskPii({ statusCode: 401, mfaEnabled: true, tokenCount: 3, userId: 'u-42' })).toEqual({
      statusCode: 401,
      mfaEnabled: true,
      tokenCount: 3,
      userId: 'u-42',
    });
  });
});

describe('L2: hostile key names', () => {
  it('a logged "__proto__" key stays data: masked, printed, and the copy keeps its prototype', () => {
    const hostile = JSON.parse(
      `{"__proto__":{"password":"${SECRETS.password}","isAdmin":true},"note":"x"}`,
    ) as Record<string, unknown>;
    const masked = maskPii(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(Object.hasOwn(masked, '__proto__')).toBe(true);
    expect(JSON.stringify(masked)).toBe(
      '{"__proto__":{"password":"[REDACTED]","isAdmin":true},"note":"x"}',
    );
    expect((masked as { isAdmin?: unknown }).isAdmin).toBeUndefined();
    const c = capture();
    createLogger({ level: 'info', destination: c.stream }).info({ data: hostile }, 'hostile keys');
    expect(c.text()).not.toContain(SECRETS.password);
    expect(c.text()).toContain('"__proto__":{"password":"[REDACTED]","isAdmin":true}');
  });
});

describe('L1: structured JSON with a request id on every line', () => {
  it('a child logger with reqId prints it on every line, including errors and grandchildren', () => {
    const c = capture();
    const log = createLogger({ level: 'info', destination: c.stream }).child({ reqId: REQ_ID });
    log.info('one');
    log.warn({ action: 'x' }, 'two');
    log.error(new Error('three'));
    log.child({ component: 'db' }).info('four');
    expect(c.lines).toHaveLength(4);
    for (const line of c.lines) {
      expect((JSON.parse(line) as Record<string, unknown>).reqId).toBe(REQ_ID);
    }
  });
});

describe("L1: the servers' gathered log lines still reach the log", () => {
  const scratch = (): string => mkdtempSync(join(tmpdir(), 'haven-log-'));

  it('a single quiet line is written within the flush interval, not held until 4 KiB gather', async () => {
    const dir = scratch();
    try {
      const file = join(dir, 'haven.log');
      const log = createLogger({ level: 'info', destination: bufferedLogDestination(file) });
      log.info({ action: 'quiet.line' }, 'one line');
      const deadline = Date.now() + 20 * LOG_FLUSH_MS;
      let text = '';
      while (Date.now() < deadline && !text.includes('quiet.line')) {
        await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_MS / 2));
        text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      }
      expect(text).toContain('"action":"quiet.line"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lines still gathered when the process exits are written before it ends', () => {
    const dir = scratch();
    try {
      const file = join(dir, 'haven.log');
      const loggingModule = new URL('./logging.ts', import.meta.url).href;
      // Exits right after logging, well inside the flush interval: only the exit flush can save the lines.
      const script = [
        `const { bufferedLogDestination, createLogger } = await import(${JSON.stringify(loggingModule)});`,
        // A file descriptor, as `haven serve` passes stdout's.
        `const fd = (await import('node:fs')).openSync(${JSON.stringify(file)}, 'a');`,
        "const log = createLogger({ level: 'info', destination: bufferedLogDestination(fd) });",
        `for (let i = 0; i < 3; i++) log.info({ action: 'line.' + i }, 'before exit');`,
        'process.exit(0);',
      ].join('\n');
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(run.status, run.stderr).toBe(0);
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { action: string }).action)).toEqual([
        'line.0',
        'line.1',
        'line.2',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("L2: the masker's pre-checks only skip work (issue 9)", () => {
  // Pieces of every rule's keywords, separators and digit shapes, plus non-ASCII spaces and
  // look-alike letters, so random joins reach the rules' edges.
  const FRAGMENTS = [
    'Bearer ',
    'bearer',
    'Basic ',
    'eyJhbGciOiJIUzI1NiJ9',
    'c2lnbmF0dXJl',
    '.',
    '@',
    'example.org',
    'password',
    'Passwd',
    'api_key',
    'private-key',
    'refresh_token',
    'mfa_code',
    'recovery-code',
    'code',
    'key',
    'pwd',
    'sid',
    'session_id',
    'csrf',
    'otp',
    'cookie',
    '=',
    ':',
    '"',
    "'",
    ' ',
    '&',
    ',',
    ';',
    '}',
    'MRN',
    'mrn',
    'medical record no.',
    'medical record number',
    '#',
    '-',
    '078',
    '05',
    '1120',
    '1961-04-12',
    '04/12/1961',
    'DOB',
    'D.O.B.',
    'date of birth',
    'Birthday',
    'born on ',
    'Name',
    'name',
    'first_name',
    'Display Name',
    'Janelle',
    'Doerksen',
    '+',
    '44',
    '(555)',
    '555',
    '010',
    '4477',
    '1',
    '1200',
    'Elm',
    'Street',
    'St',
    'Ave.',
    'a1b2c3d4e5f6',
    '0123456789abcdefABCDEF_-',
    '\u00a0',
    '\t',
    '\n',
    '\u2028',
    'é',
    '\u212a',
    'ſ',
    '_',
    'x',
    '9',
    '…',
    '[REDACTED]',
    '%40',
  ];
  const text = fc.oneof(
    fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join('')),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );

  it('gives exactly what running every rule gives', () => {
    fc.assert(
      fc.property(text, (value) => {
        expect(maskText(value)).toBe(maskTextExhaustive(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it('masks once for good: a second pass changes nothing (so one final pass is enough)', () => {
    // A marker ending a word used to open a new match only a second pass found.
    expect(maskText('DOB1961-04-12Bearer abcdefgh')).toBe('DOB[DOB]Bearer [REDACTED]');
    fc.assert(
      fc.property(text, (value) => {
        const once = maskText(value);
        expect(maskText(once)).toBe(once);
      }),
      { numRuns: 5_000 },
    );
  });

  it('leaves ISO timestamps (passed without the rules) exactly as every rule would', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(0),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const iso = date.toISOString();
          expect(maskTextExhaustive(iso)).toBe(iso);
          expect(maskText(iso)).toBe(iso);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('gives exactly what running every rule gives on the corpus and on long text', () => {
    for (const value of [
      ...SENSITIVE,
      JSON.stringify(patient(7)),
      `${'word '.repeat(3000)}${PHI.email} ${SECRETS.jwt}`,
      `token=${'a1'.repeat(5000)}`,
    ]) {
      expect(maskText(value)).toBe(maskTextExhaustive(value));
    }
  });
});
