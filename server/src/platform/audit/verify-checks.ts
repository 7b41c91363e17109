// The checks the keyed chain and its anchors add to the walk in verify.ts (L3, issue 16):
// which seals may be plain SHA-256, and whether the chain still reaches every anchor.
import type { AuditAnchor } from './anchors.js';
import type { AuditChainKey } from './chain-key.js';
import type { AuditVerification } from './verify.js';

/** The anchors by chain position. */
export function anchorsByPosition(anchors: readonly AuditAnchor[]): Map<bigint, AuditAnchor[]> {
  const byPosition = new Map<bigint, AuditAnchor[]>();
  for (const anchor of anchors) {
    const position = BigInt(anchor.position);
    byPosition.set(position, [...(byPosition.get(position) ?? []), anchor]);
  }
  return byPosition;
}

/** The keying rule for one seal: the reason it is refused, or undefined. */
export function keyingProblem(
  keyId: string | null,
  key: AuditChainKey | undefined,
  firstKeyed: bigint | undefined,
): string | undefined {
  if (keyId === null) {
    if (firstKeyed === undefined) return undefined;
    return `carries a plain SHA-256 seal after the keyed seal at position ${firstKeyed}: a keyed seal was replaced`;
  }
  if (key === undefined) {
    throw new Error('verifyAuditChain: the chain is keyed (HMAC); pass its key to verify it');
  }
  if (keyId === key.id) return undefined;
  return (
    `was sealed with chain key ${keyId}, not the configured key ${key.id}, so it cannot be ` +
    'authenticated (if the master key was replaced, verify with the one in use when it was sealed)'
  );
}

export function newestAnchor(anchors: readonly AuditAnchor[]): AuditAnchor | null {
  let newest: AuditAnchor | null = null;
  for (const anchor of anchors) {
    if (newest === null || BigInt(anchor.position) > BigInt(newest.position)) newest = anchor;
  }
  return newest;
}

/**
 * A chain that ends before an anchored position lost its tail: the newest events were deleted
 * with their seals (or only their seals). Reported at the lowest anchor it no longer reaches.
 */
export function tailCut(
  anchors: readonly AuditAnchor[],
  end: bigint,
  checked: number,
): AuditVerification | undefined {
  const beyond = anchors.filter((a) => BigInt(a.position) > end);
  if (beyond.length === 0) return undefined;
  const lowest = beyond.reduce((a, b) => (BigInt(b.position) < BigInt(a.position) ? b : a));
  const newest = newestAnchor(beyond) ?? lowest;
  return {
    ok: false,
    checked,
    firstBadSeq: lowest.seq,
    firstBadPosition: lowest.position,
    problem: 'deleted',
    message:
      `the tail was cut below the anchor for position ${lowest.position} (seq ${lowest.seq}, ` +
      `published ${lowest.at}): the chain ends at position ${end}, and anchors reach position ` +
      `${newest.position}, so at least positions ${end + 1n}..${newest.position} were deleted`,
  };
}
