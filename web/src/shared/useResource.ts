/** Loads one resource for a page section, again whenever `key` changes or `reload()` is called. */
import { useCallback, useEffect, useRef, useState } from 'react';

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

  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    if (key === null) return;
    let active = true;
    setState((s) => (s.key === key ? { ...s, error: null } : { key, data: null, error: null }));
    loadRef.current().then(
      (data) => {
        if (active) setState({ key, data, error: null });
      },
      (error: unknown) => {
        if (active) setState({ key, data: null, error });
      },
    );
    return () => {
      active = false;
    };
  }, [key, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  const current = state.key === key;
  return { data: current ? state.data : null, error: current ? state.error : null, reload };
}
