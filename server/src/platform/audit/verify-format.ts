// How a chain verification reads to an operator (L3): one line for the verdict, kept stable
// for scripts and the admin API's callers, then the CLI's lines on keying and anchors.
import type { AuditVerification } from './verify.js';

/** One line: the verdict, the first problem found or the chain's state and backlog. */
export function formatVerification(result: AuditVerification): string {
  if (!result.ok) {
    return `audit log FAILED at seq ${result.firstBadSeq} (${result.problem}): ${result.message}; ${result.checked} events verified before it`;
  }
  const chain =
    result.lastHash === null
      ? result.unsealed === 0
        ? 'audit log OK: 0 events (empty log)'
        : 'audit log OK: 0 events sealed'
      : `audit log OK: ${result.checked} events, last hash ${result.lastHash}`;
  if (result.unsealed === 0) return chain;
  const waiting = `${chain}; ${result.unsealed} newer ${result.unsealed === 1 ? 'event is' : 'events are'} not sealed yet`;
  if (result.staleUnsealed === 0) return waiting;
  const minutes = Math.round(result.staleAfterMs / 60_000);
  return (
    `${waiting}; WARNING: ${result.staleUnsealed} of them recorded more than ${minutes} min ago ` +
    `(oldest ${result.oldestUnsealedAt?.toISOString() ?? '?'}) and not protected by the chain: ` +
    'the sealer (job audit.seal, run by `haven worker` or the embedded server) is not running, ' +
    'or a long-open transaction holds it back'
  );
}

/** The anchors a verification was given, as the report names them. */
export interface AnchorSource {
  /** The file read, or undefined when there was none. */
  file: string | undefined;
  /** Where anchors were looked for when there was no file. */
  expected: string;
  count: number;
  malformedLines: readonly number[];
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function keyingLine(result: AuditVerification & { ok: true }, keyId: string): string {
  const plain = result.checked - result.keyed;
  const before =
    plain === 0 ? '' : `; ${plural(plain, 'seal', 'seals')} from before keying (plain SHA-256)`;
  return `chain key ${keyId}: ${result.keyed} of ${result.checked} sealed events authenticated (HMAC-SHA256)${before}`;
}

function anchorLine(result: AuditVerification, source: AnchorSource): string {
  if (source.file === undefined) {
    return (
      `anchors: none at ${source.expected}; without anchors a cut tail (the newest events ` +
      'deleted with their seals) cannot be detected'
    );
  }
  const read = plural(source.count, 'anchor', 'anchors');
  if (!result.ok) return `anchors: ${read} read from ${source.file}`;
  const newest = result.anchors.newest;
  if (newest === null) return `anchors: ${source.file} holds no anchors yet`;
  const since = BigInt(result.checked) - BigInt(newest.position);
  return (
    `anchors: all ${plural(result.anchors.matched, 'anchor', 'anchors')} in ${source.file} match; ` +
    `the newest covers position ${newest.position} (published ${newest.at})` +
    (since > 0n ? `; ${since} events sealed after it are not anchored yet` : '')
  );
}

/** The CLI's report: the verdict line, then keying and anchors, one line each. */
export function formatAuditReport(
  result: AuditVerification,
  context: { keyId: string; anchors: AnchorSource },
): string {
  const lines = [formatVerification(result)];
  if (result.ok) lines.push(keyingLine(result, context.keyId));
  lines.push(anchorLine(result, context.anchors));
  const { malformedLines, file } = context.anchors;
  if (malformedLines.length > 0 && file !== undefined) {
    lines.push(
      `WARNING: ${plural(malformedLines.length, 'line', 'lines')} of ${file} ` +
        `(${malformedLines.slice(0, 10).join(', ')}${malformedLines.length > 10 ? ', …' : ''}) ` +
        'are not anchors and were ignored',
    );
  }
  return `${lines.join('\n')}\n`;
}
