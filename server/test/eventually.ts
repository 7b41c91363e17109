// For a promise a control makes about time ("every node refuses it within a second"): asks
// again until the answer is the promised one or the time is up, and returns the last answer
// with when it came, so the test asserts both. Not a speed measurement: the bound is a
// correctness property (A7, A12), and the test fails only when it is broken.

export interface Eventually<T> {
  readonly answer: T;
  /** Milliseconds from the call to the last answer. */
  readonly afterMs: number;
}

export async function askUntil<T>(
  ask: () => Promise<T>,
  isPromised: (answer: T) => boolean,
  withinMs: number,
  everyMs = 25,
): Promise<Eventually<T>> {
  const started = performance.now();
  for (;;) {
    const answer = await ask();
    const afterMs = performance.now() - started;
    if (isPromised(answer) || afterMs > withinMs) return { answer, afterMs };
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
