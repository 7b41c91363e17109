/**
 * Success toasts: one polite live region that says what just worked, instead of notes piling up
 * under every form. A toast stays at least TOAST_MS (longer while pointer or focus is on it, so
 * nobody is rushed: WCAG 2.2.1) and has a Dismiss button. Errors stay beside their form.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import './Toast.css';

export const TOAST_MS = 6000;

/** A toast made longer ago than this when a region appears belongs to a page left behind. */
const CARRY_OVER_MS = 2000;

interface Toast {
  id: number;
  message: string;
  /** When it was shown (Date.now()). */
  at: number;
}

let toasts: readonly Toast[] = [];
let nextId = 1;
const listeners = new Set<() => void>();

function publish(next: readonly Toast[]): void {
  toasts = next;
  for (const listener of listeners) listener();
}

/** Shows a short success message in the page's toast region (<Toasts />). */
export function showToast(message: string): void {
  // The same words twice in a row replace the first toast rather than stacking.
  const rest = toasts.filter((t) => t.message !== message).slice(-2);
  publish([...rest, { id: nextId++, message, at: Date.now() }]);
}

function dismissToast(id: number): void {
  publish(toasts.filter((t) => t.id !== id));
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The toast region. Rendered once per page, empty until a toast comes, so screen readers
 * already watch it when the first message arrives.
 */
export function Toasts() {
  const current = useSyncExternalStore(subscribe, () => toasts);
  // A toast shown just before arriving (a form that opens this page) is kept; older ones
  // belong to a page left behind and are dropped.
  useEffect(() => {
    const fresh = toasts.filter((t) => Date.now() - t.at < CARRY_OVER_MS);
    if (fresh.length !== toasts.length) publish(fresh);
  }, []);
  return (
    <div className="toasts" role="status" aria-live="polite" aria-atomic="false">
      {current.map((toast) => (
        <ToastItem key={toast.id} toast={toast} />
      ))}
    </div>
  );
}

function ToastItem({ toast }: { toast: Toast }) {
  const [held, setHeld] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (held) return;
    const timer = setTimeout(() => dismissToast(toast.id), TOAST_MS);
    return () => clearTimeout(timer);
  }, [held, toast.id]);
  return (
    <div
      ref={ref}
      className="toast"
      data-testid="toast"
      onMouseEnter={() => setHeld(true)}
      onMouseLeave={() => setHeld(false)}
      onFocus={() => setHeld(true)}
      onBlur={(event) => {
        if (!ref.current?.contains(event.relatedTarget)) setHeld(false);
      }}
    >
      <p>{toast.message}</p>
      <button
        type="button"
        className="toast-dismiss"
        aria-label={`Dismiss: ${toast.message}`}
        onClick={() => dismissToast(toast.id)}
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}
