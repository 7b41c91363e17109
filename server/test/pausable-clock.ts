/**
 * The app's clock (BuildOptions.now) for a test that must not depend on how fast a loaded
 * machine runs it: Date.now() until paused, then standing still until resumed. A node reuses a
 * token decision for half a second; a check that a change holds "at once" on the node that made
 * it pauses the clock first, so the answer it remembered cannot age out on its own between the
 * test's requests and hide a change that forgot to drop it.
 */
export interface PausableClock {
  readonly now: () => number;
  pause(): void;
  resume(): void;
}

export function pausableClock(): PausableClock {
  let stoppedAt: number | undefined;
  return {
    now: () => stoppedAt ?? Date.now(),
    pause() {
      stoppedAt = Date.now();
    },
    resume() {
      stoppedAt = undefined;
    },
  };
}
