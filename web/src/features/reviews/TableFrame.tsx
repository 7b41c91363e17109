import type { ReactNode } from 'react';

/**
 * A table that scrolls sideways inside its own frame on narrow screens; the frame is a named,
 * focusable region so keyboard users can scroll it too.
 */
export function TableFrame({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap review-table-frame" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
