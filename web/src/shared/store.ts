/** State kept outside React (the session, the active organization), read with useSyncExternalStore. */
import { useSyncExternalStore } from 'react';

export class ExternalStore<S> {
  protected state: S;
  private readonly listeners = new Set<() => void>();

  constructor(initial: S) {
    this.state = initial;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): S => this.state;

  protected setState(next: S): void {
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}

export function useStore<S>(store: ExternalStore<S>): S {
  return useSyncExternalStore(store.subscribe, store.getState);
}
