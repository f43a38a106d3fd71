/**
 * Retry policies with Curator's names and arithmetic, and `retry(fn, policy)`.
 *
 * Only ConnectionLoss and OperationTimeout are retried: they mean "outcome unknown, the session
 * may well be fine". Everything else (NoNode, BadVersion, SessionExpired, AbortError...) is an
 * answer and is thrown at once. A retried operation waits for the client's next connection by
 * itself, so a policy's delays only space out attempts; they do not have to cover the outage.
 *
 * Retrying is safe for reads, watches and unconditional writes. Sequential creates are not
 * idempotent: the client retries them with Curator's protected names instead (see
 * CreateOptions.protected). A retried conditional write (setData/delete with a version, a
 * transaction) whose first attempt did apply reports what the second attempt finds, exactly as
 * in Curator: BadVersion, NodeExists...
 */
import { AbortError, ConnectionLossError, OperationTimeoutError } from './errors';

/**
 * Decides, after a retryable failure, whether to try again and after how long (Curator's
 * `RetryPolicy.allowRetry` plus `SleepingRetry.getSleepTimeMs` in one pure function).
 */
export interface RetryPolicy {
  /**
   * `retryCount` is 0 after the first failure; `elapsedMs` counts from the first attempt.
   * Returns the delay before the next attempt, or undefined to give up.
   */
  delayMs(retryCount: number, elapsedMs: number, random: () => number): number | undefined;
}

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
}

function checkMs(name: string, v: number): void {
  if (!(v >= 0)) throw new RangeError(`${name} must be >= 0 ms, got ${v}`);
}

/** Curator caps exponential retries at 29 so that `1 << (retryCount + 1)` stays an int. */
const EXPONENTIAL_RETRIES_MAX = 29;

/**
 * Retries up to `maxRetries` times, sleeping `baseSleepMs × random(1 … 2^(n+1) − 1)` before retry
 * n (Curator's ExponentialBackoffRetry), at most `maxSleepMs`.
 */
export class ExponentialBackoff implements RetryPolicy {
  readonly maxRetries: number;

  constructor(
    readonly baseSleepMs: number,
    maxRetries: number,
    readonly maxSleepMs: number = Number.POSITIVE_INFINITY,
  ) {
    checkMs('baseSleepMs', baseSleepMs);
    checkCount('maxRetries', maxRetries);
    checkMs('maxSleepMs', maxSleepMs);
    this.maxRetries = Math.min(maxRetries, EXPONENTIAL_RETRIES_MAX);
  }

  delayMs(retryCount: number, _elapsedMs: number, random: () => number): number | undefined {
    if (retryCount >= this.maxRetries) return undefined;
    const factor = Math.max(1, Math.floor(random() * 2 ** (retryCount + 1)));
    return Math.min(this.maxSleepMs, this.baseSleepMs * factor);
  }
}

/** ExponentialBackoff with each sleep capped at `maxSleepMs` (Curator's argument order). */
export class BoundedExponentialBackoff extends ExponentialBackoff {
  constructor(baseSleepMs: number, maxSleepMs: number, maxRetries: number) {
    super(baseSleepMs, maxRetries, maxSleepMs);
  }
}

/** Retries `n` times, `sleepMs` apart. */
export class RetryNTimes implements RetryPolicy {
  constructor(
    readonly n: number,
    readonly sleepMs: number,
  ) {
    checkCount('n', n);
    checkMs('sleepMs', sleepMs);
  }

  delayMs(retryCount: number): number | undefined {
    return retryCount < this.n ? this.sleepMs : undefined;
  }
}

/** Retries once, after `sleepMs`. */
export class RetryOneTime extends RetryNTimes {
  constructor(sleepMs: number) {
    super(1, sleepMs);
  }
}

/** Retries `sleepMs` apart until `maxElapsedMs` have passed since the first attempt. */
export class RetryUntilElapsed implements RetryPolicy {
  constructor(
    readonly maxElapsedMs: number,
    readonly sleepMs: number,
  ) {
    checkMs('maxElapsedMs', maxElapsedMs);
    checkMs('sleepMs', sleepMs);
  }

  delayMs(_retryCount: number, elapsedMs: number): number | undefined {
    return elapsedMs < this.maxElapsedMs ? this.sleepMs : undefined;
  }
}

/** Retries forever, `intervalMs` apart (until the session is lost or the call is aborted). */
export class RetryForever implements RetryPolicy {
  constructor(readonly intervalMs: number) {
    checkMs('intervalMs', intervalMs);
  }

  delayMs(): number {
    return this.intervalMs;
  }
}

/** ConnectionLoss and OperationTimeout: the outcome is unknown and the session may be fine. */
export function isRetryable(err: unknown): boolean {
  return err instanceof ConnectionLossError || err instanceof OperationTimeoutError;
}

export interface RetryOptions {
  /** Aborting stops retrying: a pending sleep rejects with AbortError. */
  signal?: AbortSignal;
  /** Random source for the exponential policies' jitter. Default Math.random. */
  random?: () => number;
  /** Called before each sleep (logging, metrics). */
  onRetry?: (info: { error: unknown; retryCount: number; delayMs: number }) => void;
}

/** A sleep that an AbortSignal cuts short with AbortError. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(signal.reason));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` (attempt 0, 1, ...) until it succeeds, fails with a non-retryable error, or the policy
 * gives up; then the last error is thrown unchanged. `fn` must be safe to repeat.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, opts: RetryOptions = {}): Promise<T> {
  const started = Date.now();
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    if (opts.signal?.aborted) throw new AbortError(opts.signal.reason);
    try {
      return await fn(attempt);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      const delayMs = policy.delayMs(attempt, Date.now() - started, random);
      if (delayMs === undefined) throw error;
      opts.onRetry?.({ error, retryCount: attempt, delayMs });
      await sleep(delayMs, opts.signal);
    }
  }
}
