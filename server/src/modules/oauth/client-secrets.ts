// A12: a client secret is 256 random bits shown once; only its SHA-256 is kept (a fast hash is
// enough for a random secret). The token endpoint (provider.ts) and introspection/revocation
// (introspection.ts) check a presented secret with this one comparison.
import { constantTimeEqual, randomToken, sha256Hex } from '../../platform/crypto.js';

/** Compared against when no client has the presented id, so that case costs the same. */
const NO_CLIENT_HASH = '0'.repeat(64);

export function newClientSecret(): { secret: string; sha256: string } {
  const secret = randomToken(32);
  return { secret, sha256: sha256Hex(secret) };
}

/** Whether `presented` is the secret whose SHA-256 (hex) is `storedHex`, in constant time. */
export function secretMatchesHash(storedHex: string | undefined, presented: string): boolean {
  const matches = constantTimeEqual(storedHex ?? NO_CLIENT_HASH, sha256Hex(presented));
  return matches && storedHex !== undefined;
}
