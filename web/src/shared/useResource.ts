/** Loads one resource for a page section, again whenever `key` changes or `reload()` is called. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { isTransient, retryDelayMs } from '../auth/retry';

/**
 * A load refused for now (503 while a database restarts, 429, no answer) is tried again by
 * itself after the server's Retry-After (else 5 s, doubling), at most this many times in a row:
 * the page's message says "try again in N seconds", and the page should then do it rather than
 * wait for a reload. The message stays up while the retry runs.
 */
const AUTOMATIC_RETRIES = 5;
const FIRST_RETRY_MS = 5_000;

export interface Resource<T> {
  /** The data for the current key; null while loading it or after a failure. */
  data: T | null;
  error: unknown;
  reload: () => void;
}

/**
 * `key` names what is loaded (path, active organization…); null waits. A new key drops the
 * old data at once so one organization's records never show under another; `reload()` keeps
 * the data on screen until the fresh answer arrives.
 */
export function useResource<T>(key: string | null, load: () => Promise<T>): Resource<T> {
  const loadRef = useRef(load);
  const [state, setState] = useState<{ key: string | null; data: T | null; error: unknown }>({
    key: null,
    data: null,
    error: null,
  });
  const [reloads, setReloads] = useState(0);
  /** Automatic retries since the last answer or the last key change. */
  const retries = useRef({ key, count: 0, automatic: false });

  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    if (key === null) return;
    let active = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (retries.current.key !== key) retries.current = { key, count: 0, automatic: false };
    const automatic = retries.current.automatic;
    retries.current.automatic = false;
    setState((s) =>
      s.key === key ? (automatic ? s : { ...s, error: null }) : { key, data: null, error: null },
    );
    loadRef.current().then(
      (data) => {
        if (!active) return;
        retries.current.count = 0;
        setState({ key, data, error: null });
      },
      (error: unknown) => {
        if (!active) return;
        setState({ key, data: null, error });
        if (isTransient(error) && retries.current.count < AUTOMATIC_RETRIES) {
          const delay = retryDelayMs(error, FIRST_RETRY_MS * 2 ** retries.current.count);
          retries.current.count += 1;
          timer = setTimeout(() => {
            retries.current.automatic = true;
            setReloads((n) => n + 1);
          }, delay);
        }
      },
    );
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [key, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const current = state.key === key;
  return { data: current ? state.data : null, error: current ? state.error : null, reload };
}
