import { performance } from 'node:perf_hooks';
import type { Store } from '../storage';
import type { ServerMetrics } from './hub';
import { timed } from './looplag';

/**
 * The store as the replicators see it, with every durable write timed from its start until it is
 * durable: persist() returns then (its commit includes the fsync), persistWritten() says so later
 * (its fsync runs on the thread pool). That is ZooKeeper's fsynctime, and the entry count the
 * group-commit batch size. Everything else passes through.
 */
export function instrumentStore(store: Store, metrics: ServerMetrics): Store {
  const persist: Store['persist'] = (batch) => {
    const started = performance.now();
    store.persist(batch);
    metrics.notePersist(batch.entries?.length ?? 0, performance.now() - started);
  };
  // Written now, durable later: fsynctime runs until the disk has it, as ZooKeeper times its fsync
  // (including any wait for the sync already running, which this write's fsync joins). What waited
  // for it (ACKs, replies, the next batch) runs in the callback's turn: timed so that a slow turn's
  // log names it, as 'commit batch' names the write.
  const persistWritten: Store['persistWritten'] = (batch, durable) => {
    const started = performance.now();
    store.persistWritten(batch, (err) => {
      if (!err) metrics.notePersist(batch.entries?.length ?? 0, performance.now() - started);
      timed('after log fsync', () => durable(err));
    });
  };
  const wrapped: Partial<Store> = { persist, persistWritten };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'persist' || prop === 'persistWritten') return wrapped[prop];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
