import { useEffect, useId, useRef, useState } from 'react';

interface ConfirmActionProps {
  /** Visible text of the first button, e.g. "Archive patient". */
  label: string;
  /** Accessible name of the first button when the visible label needs context. */
  ariaLabel?: string;
  /** What happens, in plain words; shown before the user commits. */
  consequence: string;
  /** Text of the committing button, e.g. "Yes, archive". */
  confirmLabel: string;
  busy?: boolean;
  onConfirm: () => void;
  /** Class of the first button (default: a danger button). */
  className?: string;
}

/**
 * A destructive-looking action in two steps: the first button explains the consequence and
 * asks; only the second one acts. Focus moves to the question and back to the button on cancel,
 * and after the action to the button again once it is over, or, when the action took the button
 * away (a deleted file, a withdrawn consent), to the heading of the section it was in.
 */
export function ConfirmAction({
  label,
  ariaLabel,
  consequence,
  confirmLabel,
  busy = false,
  onConfirm,
  className = 'button danger',
}: ConfirmActionProps) {
  const [asking, setAsking] = useState(false);
  const [returnFocus, setReturnFocus] = useState(false);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  /** Set on confirming: where focus goes if the action removes this component. */
  const afterAction = useRef<HTMLElement | null>(null);
  const questionId = useId();

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (returnFocus && !busy) {
      // A disabled button cannot take focus: after a confirmed action, wait for it to end.
      triggerRef.current?.focus();
      setReturnFocus(false);
    }
  }, [asking, returnFocus, busy]);

  // The action removed this control (its row is gone): focus would fall to the page's start.
  useEffect(
    () => () => {
      const target = afterAction.current;
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (target?.isConnected && lost) {
        if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
        target.focus();
      }
    },
    [],
  );

  if (!asking) {
    return (
      <button
        ref={triggerRef}
        type="button"
        className={`${className} confirm-trigger`}
        aria-label={ariaLabel}
        disabled={busy}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <div className="confirm" role="group" aria-labelledby={questionId}>
      <p id={questionId} className="confirm-question">
        {consequence}
      </p>
      <div className="actions">
        <button
          ref={confirmRef}
          type="button"
          className="button danger"
          disabled={busy}
          aria-busy={busy}
          onClick={() => {
            afterAction.current = sectionHeadingOf(confirmRef.current);
            setAsking(false);
            setReturnFocus(true);
            onConfirm();
          }}
        >
          {confirmLabel}
        </button>
        <button
          type="button"
          className="button secondary"
          onClick={() => {
            setReturnFocus(true);
            setAsking(false);
          }}
        >
          Cancel
        </button>
      </div>
    </div>
  );
}

/** The heading of the section (or tab panel, or page) around `element`, else that container. */
function sectionHeadingOf(element: HTMLElement | null): HTMLElement | null {
  const container = element?.closest<HTMLElement>('section, [role="tabpanel"], main') ?? null;
  return container?.querySelector<HTMLElement>('h1, h2, h3') ?? container;
}
