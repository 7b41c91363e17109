import { useEffect, useRef, type ReactNode } from 'react';

/** A page: its one <h1>, the document title, and focus moved to the heading on arrival. */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Haven`;
    headingRef.current?.focus();
  }, [title]);
  return (
    <div className="page stack">
      <h1 ref={headingRef} tabIndex={-1} className="page-title">
        {title}
      </h1>
      {children}
    </div>
  );
}
