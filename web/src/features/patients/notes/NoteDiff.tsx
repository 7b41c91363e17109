import { useState } from 'react';
import { SelectField } from '../../../shared/fields';
import type { NoteVersion } from './notesApi';
import { diffWords } from './wordDiff';

/**
 * Two versions of a note side by side in one text: the reader picks them (the one before the
 * latest correction and the latest, to start), removed words struck through, added underlined,
 * each also named for screen readers.
 */
export function NoteDiff({ versions }: { versions: readonly NoteVersion[] }) {
  const latest = versions[versions.length - 1]?.version ?? 1;
  const [from, setFrom] = useState(String(Math.max(1, latest - 1)));
  const [to, setTo] = useState(String(latest));
  const choices = versions.map((v) => ({
    value: String(v.version),
    label: `Version ${v.version}`,
  }));
  const before = versions.find((v) => String(v.version) === from);
  const after = versions.find((v) => String(v.version) === to);
  const parts = before && after ? diffWords(before.body, after.body) : [];
  const count = (kind: 'added' | 'removed') =>
    parts
      .filter((p) => p.kind === kind)
      .reduce((words, p) => words + (p.text.match(/\S+/gu)?.length ?? 0), 0);
  const added = count('added');
  const removed = count('removed');

  return (
    <section className="stack note-compare" aria-label="Compare versions">
      <div className="form-grid">
        <SelectField
          label="Compare version"
          choices={choices}
          value={from}
          onValueChange={setFrom}
        />
        <SelectField label="with version" choices={choices} value={to} onValueChange={setTo} />
      </div>
      <p className="note" data-testid="note-diff-summary">
        {from === to
          ? 'The same version is chosen twice: nothing to compare.'
          : `${wordsPhrase(added)} added, ${wordsPhrase(removed)} removed.`}
      </p>
      {from !== to && (
        <p className="note-body note-diff" data-testid="note-diff">
          {parts.map((part, i) =>
            part.kind === 'same' ? (
              <span key={i}>{part.text}</span>
            ) : part.kind === 'added' ? (
              <ins key={i}>
                <span className="visually-hidden">[added: </span>
                {part.text}
                <span className="visually-hidden">]</span>
              </ins>
            ) : (
              <del key={i}>
                <span className="visually-hidden">[removed: </span>
                {part.text}
                <span className="visually-hidden">]</span>
              </del>
            ),
          )}
        </p>
      )}
    </section>
  );
}

function wordsPhrase(n: number): string {
  return n === 1 ? '1 word' : `${n} words`;
}
