/**
 * Small helpers shared by the recipes. Recipes use only the client's public index.
 */
import { AbortError, BoundedExponentialBackoff, retry, type WatchedEvent, type ZkClient } from '../client';

/** How recipes retry idempotent steps: 20 times, backing off from 50 ms to 1 s. */
const RECIPE_RETRY = new BoundedExponentialBackoff(50, 1000, 20);

/**
 * Retries an idempotent step while it fails with ConnectionLoss (the client waits for the next
 * connection by itself; SessionExpired and everything else propagate).
 */
export function retryOnConnectionLoss<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return retry(fn, RECIPE_RETRY, signal ? { signal } : {});
}

/** The sequence number ZooKeeper appended (the last 10 digits), for sorting sequential nodes. */
export function sequenceOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** Children sorted by sequence number, keeping only those that carry `marker` (e.g. '-lock-'). */
export function sortedBySequence(children: readonly string[], marker: string): string[] {
  return children.filter((c) => c.includes(marker)).sort((a, b) => sequenceOf(a) - sequenceOf(b));
}

/** Waits for a watch event, an abort, or a timeout, whichever comes first. */
export function waitForEvent(watch: Promise<WatchedEvent>, signal?: AbortSignal, timeoutMs?: number): Promise<'event' | 'timeout'> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(signal.reason));
    const t = timeoutMs !== undefined ? setTimeout(() => finish(() => resolve('timeout')), Math.max(0, timeoutMs)) : undefined;
    const onAbort = () => finish(() => reject(new AbortError(signal?.reason)));
    const finish = (f: () => void) => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    void watch.then(() => finish(() => resolve('event')));
  });
}

/** Joins a parent path and a child name. */
export function child(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Ensures `path` exists, tolerating connection loss. */
export function ensurePath(client: ZkClient, path: string, signal?: AbortSignal): Promise<void> {
  return retryOnConnectionLoss(() => client.ensurePath(path, signal ? { signal } : {}), signal);
}
