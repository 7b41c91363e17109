/** Cursor paging of a list: the server answers a `next` cursor; "previous" walks back a stack. */
import { useState } from 'react';

export interface CursorPages {
  /** The cursor of the page shown; null for the first page. */
  cursor: string | null;
  /** How many pages lie before this one. */
  depth: number;
  first: () => void;
  previous: () => void;
  next: (cursor: string | null | undefined) => void;
}

export function useCursorPages(): CursorPages {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    cursor: cursors.at(-1) ?? null,
    depth: cursors.length,
    first: () => setCursors([]),
    previous: () => setCursors((c) => c.slice(0, -1)),
    next: (cursor) => {
      if (cursor) setCursors((c) => [...c, cursor]);
    },
  };
}

interface PageNavProps {
  /** Names the navigation landmark, e.g. "Pages of patients". */
  label: string;
  pages: CursorPages;
  /** The next cursor of the page shown (none: this is the last page, or it is loading). */
  nextCursor: string | null | undefined;
  previousLabel?: string;
  nextLabel?: string;
  /** When given, a button back to the first page comes first. */
  firstLabel?: string;
}

export function PageNav({
  label,
  pages,
  nextCursor,
  previousLabel = 'Previous page',
  nextLabel = 'Next page',
  firstLabel,
}: PageNavProps) {
  const buttons = [
    { text: previousLabel, disabled: pages.depth === 0, onClick: pages.previous },
    { text: nextLabel, disabled: !nextCursor, onClick: () => pages.next(nextCursor) },
  ];
  if (firstLabel) {
    buttons.unshift({ text: firstLabel, disabled: pages.depth === 0, onClick: pages.first });
  }
  return (
    <nav className="actions" aria-label={label}>
      {buttons.map(({ text, disabled, onClick }) => (
        <button
          key={text}
          type="button"
          className="button secondary"
          disabled={disabled}
          onClick={onClick}
        >
          {text}
        </button>
      ))}
    </nav>
  );
}
