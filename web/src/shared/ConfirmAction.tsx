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
 * asks; only the second one acts. Focus moves to the question and back to the button on cancel.
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
  const questionId = useId();

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (returnFocus) triggerRef.current?.focus();
  }, [asking, returnFocus]);

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
            setAsking(false);
            setReturnFocus(false);
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
