// A9: TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps). `otpauth` computes the
// codes and the enrolment URI; the acceptance rules (±1 step, no replay, constant-time compare)
// live here so they are visible and tested. The seed is sealed at rest, bound to its user.
import { HOTP, Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { constantTimeEqual, type KeyRing } from '../../../platform/crypto.js';
import { sealContexts } from '../../../platform/key-rotation.js';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const ALGORITHM = 'SHA1';
/** Steps accepted either side of now: tolerates ~30 s of clock drift or typing time. */
const WINDOW = 1;
const SECRET_BYTES = 20; // 160 bits, the RFC 4226 recommendation

/** A fresh random seed, base32 (what authenticator apps expect). */
export function generateTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The otpauth:// URI an authenticator app enrols from. */
export function totpUri(options: { secret: string; accountName: string; issuer: 'Haven' }): string {
  return new TOTP({
    issuer: options.issuer,
    label: options.accountName,
    secret: Secret.fromBase32(options.secret),
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
  }).toString();
}

/** The enrolment QR code as an SVG string, rendered here: the seed never goes to a QR service. */
export function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export type TotpResult = { ok: true; step: bigint } | { ok: false };

/**
 * Checks a code at `now` (ms since the epoch). Accepts the steps now-1..now+1 that are later
 * than `lastStep`, so a code already used (or an older one) is refused. On success the caller
 * must still win `consumeTotpStep` (repo.ts) before trusting it: that is what stops a replay
 * across nodes.
 */
export function verifyTotp(options: {
  secret: string;
  code: string;
  lastStep: bigint | null;
  now: number;
}): TotpResult {
  const { code, lastStep } = options;
  if (!/^\d{6}$/.test(code)) return { ok: false };
  const secret = Secret.fromBase32(options.secret);
  const current = TOTP.counter({ period: PERIOD_SECONDS, timestamp: options.now });
  let matched: bigint | undefined;
  // Every candidate is computed and compared, so timing does not reveal which step matched.
  for (let delta = -WINDOW; delta <= WINDOW; delta++) {
    const step = current + delta;
    const expected = HOTP.generate({ secret, algorithm: ALGORITHM, digits: DIGITS, counter: step });
    const fresh = lastStep === null || BigInt(step) > lastStep;
    if (constantTimeEqual(expected, code) && fresh) matched = BigInt(step);
  }
  return matched === undefined ? { ok: false } : { ok: true, step: matched };
}

// Shared with the key rotation job, which must re-seal under the very same context.
const context = sealContexts.totpSecret;

/** Encrypts a seed for `users.totp_secret_enc`; the user id is bound as associated data. */
export function sealTotpSecret(ring: KeyRing, userId: string, secret: string): string {
  return ring.seal(secret, context(userId));
}

/** Opens a sealed seed; throws if it was tampered with or belongs to another user. */
export function openTotpSecret(ring: KeyRing, userId: string, sealed: string): string {
  return ring.open(sealed, context(userId)).toString('utf8');
}
