/**
 * One panel of a home page (issue 14): a heading, what it lists or a sentence when there is
 * nothing, and a link to the full page. Each feature's home widgets are built from it.
 */
import { useId, type ReactNode } from 'react';
import { ProblemAlert } from './forms';
import { Link } from './router';
import './home.css';

export interface HomePanelProps {
  title: string;
  /** Names the panel for tests: `home-<testId>`. */
  testId: string;
  /** While the panel's data loads (and no error came back). */
  loading?: boolean;
  /** What loading says, e.g. "Loading your patients…". */
  loadingText?: string;
  error?: unknown;
  /** The sentence shown instead of `children` when there is nothing to show. */
  empty?: string | null;
  /** The full page: its path and the link's words. */
  more?: { to: string; label: string } | null;
  children?: ReactNode;
}

export function HomePanel({
  title,
  testId,
  loading = false,
  loadingText = 'Loading…',
  error = null,
  empty = null,
  more = null,
  children,
}: HomePanelProps) {
  const titleId = useId();
  return (
    <section
      className="panel stack home-panel"
      aria-labelledby={titleId}
      data-testid={`home-${testId}`}
    >
      <h2 id={titleId}>{title}</h2>
      <ProblemAlert error={error} />
      {error ? null : loading ? (
        <p role="status">{loadingText}</p>
      ) : empty !== null ? (
        <p>{empty}</p>
      ) : (
        children
      )}
      {more && (
        <p>
          <Link to={more.to}>{more.label}</Link>
        </p>
      )}
    </section>
  );
}
