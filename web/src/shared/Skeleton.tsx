/**
 * Loading placeholders in the shape of what is coming. The block is aria-busy, its grey bars are
 * hidden from assistive technology, and a visually hidden status says what is loading.
 */
import './Skeleton.css';

/** Grey lines standing in for text or cards, with a spoken "Loading …". */
export function Skeleton({ label, lines = 3 }: { label: string; lines?: number }) {
  return (
    <div className="skeleton" aria-busy="true" data-testid="skeleton">
      <span className="visually-hidden" role="status">
        {label}
      </span>
      {Array.from({ length: lines }, (_, i) => (
        <span key={i} className="skeleton-line" aria-hidden="true" />
      ))}
    </div>
  );
}

/** A table's placeholder: `rows` grey rows of `columns` cells. */
export function SkeletonTable({
  label,
  rows = 5,
  columns = 4,
}: {
  label: string;
  rows?: number;
  columns?: number;
}) {
  return (
    <div className="skeleton skeleton-table" aria-busy="true" data-testid="skeleton">
      <span className="visually-hidden" role="status">
        {label}
      </span>
      {Array.from({ length: rows }, (_, r) => (
        <span key={r} className="skeleton-row" aria-hidden="true">
          {Array.from({ length: columns }, (_, c) => (
            <span key={c} className="skeleton-line" />
          ))}
        </span>
      ))}
    </div>
  );
}
