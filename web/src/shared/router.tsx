/**
 * A very small client-side router: the History API plus useSyncExternalStore. Routes are a
 * flat list of paths (see app/routes), so nothing more is needed.
 */
import { LINK_TOKEN_PATTERN } from '@haven/contract';
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Same-origin paths only: anything else (//evil, https://…, javascript:) becomes '/'. A
 * backslash or a control character is refused anywhere: URL parsing reads `/\evil` as `//evil`
 * and drops tabs and newlines, so `/\t/evil` would become `//evil` too.
 */
export function safeLocalPath(candidate: string | null | undefined): string {
  if (!candidate || !candidate.startsWith('/') || candidate.startsWith('//')) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(candidate)) return '/';
  return candidate;
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const target = safeLocalPath(to);
  if (options.replace) history.replaceState(null, '', target);
  else history.pushState(null, '', target);
  notify();
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => location.pathname);
}

export function useSearchParam(name: string): string | null {
  const search = useSyncExternalStore(subscribe, () => location.search);
  return new URLSearchParams(search).get(name);
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string };

/** An <a> that navigates without a page load on a plain left click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handleClick} {...rest} />;
}

const capturedTokens = new Map<string, string>();

/** Moves a `#token=…` of the current address into memory and out of the address bar and history. */
function captureHashToken(): void {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return;
  capturedTokens.set(location.pathname, token);
  history.replaceState(history.state, '', location.pathname + location.search);
}

// At start-up, before any page renders: the token survives a detour through sign-in
// (e.g. /confirm-email needs a session) but never stays in the address bar.
captureHashToken();

/**
 * The shape the server takes one-time link tokens in (invitation and setup links are narrower
 * still). A token without it is a link an email program cut or changed: the page asks for the
 * whole link instead of sending it to the server, whose refusal would name a field the person
 * never saw.
 */
const WHOLE_LINK_TOKEN = new RegExp(LINK_TOKEN_PATTERN);

/**
 * The one-time `#token=…` that came with the current path (kept in memory only), if there is one
 * and it is whole.
 */
export function takeHashToken(): string | null {
  captureHashToken();
  const token = capturedTokens.get(location.pathname);
  return token !== undefined && WHOLE_LINK_TOKEN.test(token) ? token : null;
}
