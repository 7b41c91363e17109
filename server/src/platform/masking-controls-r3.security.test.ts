// L2 threats the logging corpus (logging.test.ts) does not reach: secrets under plural key
// names, an MFA code carried as an error's `code`, identifiers used as object keys (on the
// first line and every later one, past the key cache), a long text cut in the middle of an
// identifier, and a JWT too short for the opaque-token rule. Each goes through the real logger.
import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';
import { LIMITS } from './masking.js';

function capture(): { stream: DestinationStream; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return {
    stream: { write: (s: string) => void lines.push(s) },
    lines,
    text: () => lines.join(''),
  };
}

function logger() {
  const out = capture();
  return { out, log: createLogger({ level: 'info', destination: out.stream }) };
}

const EMAIL = 'hannelore.quist@clinic.example.org';
const RESET_TOKEN = 'rst5b9d2f7e1a3c';
const API_KEY = 'hk_live_51Hq2Lm9xZ';
const BACKUP_CODE = 'r3c0v-9x7q';
const MFA_CODE = '862109';
const OPAQUE_TOKEN = 'rt_8kq3Zp0vX2mN7bL4cW9yT1hJ6fD5sA0eQ';

describe('L2: masking beyond the corpus', () => {
  it('L2/plural keys: lists under tokens, apiKeys and backupCodes are redacted like their singulars', () => {
    const { out, log } = logger();
    log.info(
      { tokens: [RESET_TOKEN], apiKeys: [API_KEY], backupCodes: [BACKUP_CODE] },
      'issued credentials',
    );
    const text = out.text();
    for (const secret of [RESET_TOKEN, API_KEY, BACKUP_CODE]) expect(text).not.toContain(secret);
    expect(JSON.parse(text)).toMatchObject({
      tokens: '[REDACTED]',
      apiKeys: '[REDACTED]',
      backupCodes: '[REDACTED]',
    });
  });

  it("L2/error code: an MFA code carried as an error's code is redacted, a diagnostic code kept", () => {
    const { out, log } = logger();
    log.error(Object.assign(new Error('mfa check failed'), { code: MFA_CODE }), 'mfa failure');
    log.error(Object.assign(new Error('connect failed'), { code: 'ECONNREFUSED' }), 'db down');
    const [mfa, db] = out.lines.map((line) => JSON.parse(line) as { err: { code: string } });
    expect(out.text()).not.toContain(MFA_CODE);
    expect(mfa?.err.code).toBe('[REDACTED]');
    expect(db?.err.code).toBe('ECONNREFUSED');
  });

  it('L2/keys: an email or token used as an object key is masked, on the first line and every later one', () => {
    const { out, log } = logger();
    const attempts = { [EMAIL]: 3, [OPAQUE_TOKEN]: 1 };
    for (let i = 0; i < 3; i += 1) log.info({ attempts }, 'sign-in attempts');
    expect(out.lines).toHaveLength(3);
    for (const line of out.lines) {
      expect(line).not.toContain(EMAIL);
      expect(line).not.toContain(OPAQUE_TOKEN);
      expect(line).toContain('[EMAIL]');
    }
  });

  it('L2/truncation: a long text is cut at a delimiter, so no head of an email is left unmasked', () => {
    const { out, log } = logger();
    // The email straddles the point where a text over LIMITS.chars is cut.
    const cut = LIMITS.chars - 40;
    const long = `${'x'.repeat(cut - 10)} ${EMAIL} ${'y'.repeat(500)}`;
    log.warn(long);
    const text = out.text();
    expect(text).toContain('[truncated');
    expect(text).not.toContain('hannelore');
    expect(text).not.toContain('@clinic');
  });

  it('L2/jwt: a JWT whose segments are each too short for the opaque-token rule is masked whole', () => {
    // {"alg":"HS256"} . {"email":"j@x.io"} . "sig-never-leaks-42": claims carry PII.
    const header = 'eyJhbGciOiJIUzI1NiJ9';
    const claims = 'eyJlbWFpbCI6ImpAeC5pbyJ9';
    const signature = 'c2lnLW5ldmVyLWxlYWtzLTQy';
    const { out, log } = logger();
    log.warn(`upstream rejected ${header}.${claims}.${signature} as expired`);
    const text = out.text();
    for (const segment of [header, claims, signature]) expect(text).not.toContain(segment);
    expect(text).toContain('upstream rejected [REDACTED] as expired');
  });
});
