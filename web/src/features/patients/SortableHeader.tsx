import type { SortDirection } from './patientsApi';

const DIRECTION_WORDS: Record<SortDirection, 'ascending' | 'descending'> = {
  asc: 'ascending',
  desc: 'descending',
};

/**
 * A column header that sorts the list: aria-sort on the header the list is sorted by, and a
 * button whose name says what pressing it does (the visible label first, WCAG 2.5.3).
 */
export function SortableHeader({
  label,
  direction,
  onSort,
}: {
  label: string;
  /** The list's direction when it is sorted by this column, else null. */
  direction: SortDirection | null;
  onSort: () => void;
}) {
  const next = direction === 'asc' ? 'descending' : 'ascending';
  return (
    <th scope="col" aria-sort={direction ? DIRECTION_WORDS[direction] : undefined}>
      <button type="button" className="sort-button" onClick={onSort}>
        {label}
        <span className="visually-hidden">, sort {next}</span>
        <span aria-hidden="true" className="sort-arrow">
          {direction === 'asc' ? ' ▲' : direction === 'desc' ? ' ▼' : ' ↕'}
        </span>
      </button>
    </th>
  );
}
