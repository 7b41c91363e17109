/**
 * Word-level differences between two versions of a note (Myers' O(ND) algorithm on words and the
 * spaces between them). Written here rather than taken from a package: it is one small function,
 * notes are at most 20,000 characters, and past MAX_EDITS the answer is simply "all replaced".
 */

export type DiffPart = { kind: 'same' | 'added' | 'removed'; text: string };

/** Beyond this many word edits a diff stops being readable (and costs O(D²) memory). */
const MAX_EDITS = 2000;

/** Words and runs of whitespace, in order; joined they give the text back. */
function tokens(text: string): string[] {
  return text.match(/\s+|[^\s]+/gu) ?? [];
}

type Op = { kind: DiffPart['kind']; token: string };

/** The shortest edit script from `a` to `b`, or null past MAX_EDITS. */
function editScript(a: readonly string[], b: readonly string[]): Op[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDITS);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d] holds v for diagonals -d..d after round d.
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[k - 1 + offset] ?? 0) < (v[k + 1 + offset] ?? 0));
      let x = down ? (v[k + 1 + offset] ?? 0) : (v[k - 1 + offset] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[k + offset] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice(offset - d, offset + d + 1));
        return backtrack(trace, a, b);
      }
    }
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  return null;
}

function backtrack(trace: readonly Int32Array[], a: readonly string[], b: readonly string[]): Op[] {
  const ops: Op[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d > 0; d--) {
    const previous = trace[d - 1];
    if (!previous) break;
    const at = (k: number) => previous[k + d - 1] ?? 0;
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: 'same', token: a[--x] ?? '' });
      y--;
    }
    if (down) ops.push({ kind: 'added', token: b[--y] ?? '' });
    else ops.push({ kind: 'removed', token: a[--x] ?? '' });
  }
  while (x > 0 && y > 0) {
    ops.push({ kind: 'same', token: a[--x] ?? '' });
    y--;
  }
  return ops.reverse();
}

/** Adjacent operations of one kind become one part. */
function merge(ops: readonly Op[]): DiffPart[] {
  const parts: DiffPart[] = [];
  for (const op of ops) {
    const last = parts[parts.length - 1];
    if (last?.kind === op.kind) last.text += op.token;
    else parts.push({ kind: op.kind, text: op.token });
  }
  return parts;
}

/** What changed from `before` to `after`, word by word: kept, added and removed parts in order. */
export function diffWords(before: string, after: string): DiffPart[] {
  const a = tokens(before);
  const b = tokens(after);
  // The unchanged start and end cost nothing to set aside, and usually are most of a correction.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) {
    tail++;
  }
  const middle = editScript(a.slice(head, a.length - tail), b.slice(head, b.length - tail)) ?? [
    ...a.slice(head, a.length - tail).map((token) => ({ kind: 'removed' as const, token })),
    ...b.slice(head, b.length - tail).map((token) => ({ kind: 'added' as const, token })),
  ];
  return merge([
    ...a.slice(0, head).map((token) => ({ kind: 'same' as const, token })),
    ...middle,
    ...a.slice(a.length - tail).map((token) => ({ kind: 'same' as const, token })),
  ]);
}
