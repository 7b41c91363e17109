// The audit chain's key (L3): seals are HMAC-SHA256 under a key derived from the master key,
// which lives in the environment, never in the database. Someone who can rewrite the audit
// tables (the table owner can switch the append-only triggers off) can recompute a plain
// SHA-256 after an edit; without this key they cannot produce a seal that verifies.
import { createHash, createHmac, createSecretKey, hkdfSync } from 'node:crypto';

/** HKDF info label: a key of its own, unrelated to the data-encryption key (crypto.ts). */
export const AUDIT_CHAIN_KEY_INFO = 'haven:audit-chain:v1';

/** What audit_seals.key_id holds: 12 lower-case hex digits. */
export const AUDIT_CHAIN_KEY_ID = /^[0-9a-f]{12}$/;

/**
 * The chain key as a capability: it computes MACs and names itself, but never hands out the
 * key bytes, so a caller cannot leak them into a log or a response by accident.
 */
export interface AuditChainKey {
  /** Short public id, stored with each seal (audit_seals.key_id) and in each anchor. */
  readonly id: string;
  /** HMAC-SHA256 of `canonical` (hex). */
  mac(canonical: string): string;
}

/** The chain key of a master key: HKDF-SHA256, no salt, info `haven:audit-chain:v1`, 32 bytes. */
export function deriveAuditChainKey(masterKey: Buffer): AuditChainKey {
  if (masterKey.length < 32) throw new Error('the master key must be at least 32 bytes');
  const bytes = Buffer.from(
    hkdfSync('sha256', masterKey, Buffer.alloc(0), AUDIT_CHAIN_KEY_INFO, 32),
  );
  // Same construction as the data key's id (crypto.ts): a one-way digest, so the id reveals nothing.
  const id = createHash('sha256').update('haven:key-id').update(bytes).digest('hex').slice(0, 12);
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return {
    id,
    mac: (canonical) => createHmac('sha256', key).update(canonical, 'utf8').digest('hex'),
  };
}
