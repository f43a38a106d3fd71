/**
 * Time for the server shell, injected: production passes `systemClock`, the simulator a simulated
 * clock that advances only when its event queue says so. Server code never calls Date.now(),
 * performance.now() or the timer globals itself (scripts/check-imports.ts enforces it), so one
 * seed of the simulator replays exactly.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds: timeouts, session expiry, leases and ticks are measured with it. */
  now(): number;
  /** Wall-clock milliseconds since 1970: txn times (mtime, ctime), snapshot dates, reports. May jump. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` once the current event-loop turn's I/O has been handled (group commit). */
  setImmediate(fn: () => void): void;
}

/** Node's clocks and timers. Timers never keep the process alive on their own (sockets do). */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
  setImmediate(fn) {
    setImmediate(fn);
  },
};

/** Resolves in the next event-loop turn of `clock` (long jobs yield between bounded slices). */
export function nextTurn(clock: Clock): Promise<void> {
  return new Promise((resolve) => clock.setImmediate(resolve));
}
