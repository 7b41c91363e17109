// Envelope encryption and token helpers. Data secrets (TOTP seeds, signing keys, bucket
// credentials) are sealed with AES-256-GCM under a key derived from the master key; the
// sealed form names its key id so a rotated master key can still open old values (S2), and
// `haven keys rotate --data` (platform/key-rotation.ts) re-seals them under the current key.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;

export interface KeyRing {
  /** Key id of the key new values are sealed with. */
  readonly currentKeyId: string;
  /** Seals plaintext; `context` is bound as associated data (e.g. `totp:<userId>`). */
  seal(plaintext: Buffer | string, context: string): string;
  /** Opens a sealed value; throws when it was tampered with or the context differs. */
  open(sealed: string, context: string): Buffer;
  /** The key id a sealed value names (undefined when it is not a sealed value at all). */
  keyIdOf(sealed: string): string | undefined;
}

/** The master keys a process holds: the current one, and during a rotation the one it replaces. */
export interface MasterKeys {
  readonly masterKey: Buffer;
  readonly previousMasterKey: Buffer | undefined;
}

/** The master keys in the order keys are tried: the current one first, it alone seals. */
export function masterKeysOf(keys: MasterKeys): readonly Buffer[] {
  return keys.previousMasterKey === undefined
    ? [keys.masterKey]
    : [keys.masterKey, keys.previousMasterKey];
}

/** The key ring of a configuration: seals under the current master key, opens under both (S2). */
export function keyRingOf(keys: MasterKeys): KeyRing {
  const [current, ...previous] = masterKeysOf(keys);
  return createKeyRing(current ?? keys.masterKey, previous);
}

function deriveDataKey(masterKey: Buffer): { id: string; key: Buffer } {
  const key = Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), 'haven:data-encryption:v1', 32),
  );
  const id = createHash('sha256').update('haven:key-id').update(key).digest('hex').slice(0, 12);
  return { id, key };
}

/**
 * A key ring over the current master key and, during a rotation, previous ones: new values
 * are sealed with the current key, old values open with whichever key sealed them.
 */
export function createKeyRing(
  masterKey: Buffer,
  previousMasterKeys: readonly Buffer[] = [],
): KeyRing {
  const current = deriveDataKey(masterKey);
  const keys = new Map(
    [current, ...previousMasterKeys.map(deriveDataKey)].map((k) => [k.id, k.key]),
  );
  return {
    currentKeyId: current.id,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const parts = [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url'));
      return [VERSION, current.id, ...parts].join('.');
    },
    open(sealed, context) {
      const [version, keyId, iv, body, tag] = sealed.split('.');
      const key = keyId === undefined ? undefined : keys.get(keyId);
      if (
        version !== VERSION ||
        !key ||
        iv === undefined ||
        body === undefined ||
        tag === undefined
      ) {
        throw new Error('sealed value is malformed or its key is unknown');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]);
    },
    keyIdOf(sealed) {
      const [version, keyId] = sealed.split('.', 2);
      return version === VERSION && keyId !== undefined && keyId !== '' ? keyId : undefined;
    },
  };
}

/** An opaque random token (base64url), `bytes` of entropy (default 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** How high-entropy tokens are stored: a fast hash suffices when the input is random. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Compares two secrets in constant time (for equal lengths; lengths are not secret here). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
