/**
 * Bounded waiting for tests: every wait has a deadline and says what it waited for when it gives
 * up, so a slow CI machine produces a clear failure instead of a hung or flaky test.
 */

type Falsy = undefined | null | false | 0 | '';

/**
 * Polls `cond` every `stepMs` until it returns a truthy value; throws naming `what` (a function is
 * called at the deadline, so it can describe the state then) after `timeoutMs`.
 */
export async function until<T>(cond: () => T | Promise<T>, what: string | (() => string), timeoutMs = 30_000, stepMs = 20): Promise<Exclude<T, Falsy>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as Exclude<T, Falsy>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Awaits `p`, throwing naming `what` if it has not settled after `timeoutMs`. */
export async function within<T>(p: Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Counts event-loop turns (a chain of setImmediate callbacks) until stopped: a test can show that
 * long work was cut into slices — other turns ran while it was going on — without timing anything.
 */
export function turnCounter(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => (stopped = true) };
}
