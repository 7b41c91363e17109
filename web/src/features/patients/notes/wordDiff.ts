/**
 * Word-level differences between two versions of a note, by jsdiff (`diff`), the diff library
 * most JavaScript tools use. Spaces count as tokens so the parts join back into each version.
 */
import { diffWordsWithSpace } from 'diff';

export type DiffPart = { kind: 'same' | 'added' | 'removed'; text: string };

/** Beyond this many word edits a diff stops being readable (and its cost grows quadratically). */
const MAX_EDITS = 2000;

/** What changed from `before` to `after`, word by word: kept, added and removed parts in order. */
export function diffWords(before: string, after: string): DiffPart[] {
  const changes = diffWordsWithSpace(before, after, { maxEditLength: MAX_EDITS });
  // Past MAX_EDITS jsdiff gives up (undefined): the correction replaced the note.
  if (changes === undefined) {
    return [
      ...(before ? [{ kind: 'removed' as const, text: before }] : []),
      ...(after ? [{ kind: 'added' as const, text: after }] : []),
    ];
  }
  return changes
    .filter((change) => change.value !== '')
    .map((change) => ({
      kind: change.added ? 'added' : change.removed ? 'removed' : 'same',
      text: change.value,
    }));
}
