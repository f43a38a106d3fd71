import { performance } from 'node:perf_hooks';
import type { Store } from '../storage';
import type { ServerMetrics } from './hub';

/**
 * The store as the replicators see it, with every durable write timed: persist() is one SQLite
 * transaction whose commit includes the fsync (synchronous=FULL), so its duration is ZooKeeper's
 * fsynctime and its entry count the group-commit batch size. Everything else passes through.
 */
export function instrumentStore(store: Store, metrics: ServerMetrics): Store {
  const persist: Store['persist'] = (batch) => {
    const started = performance.now();
    store.persist(batch);
    metrics.notePersist(batch.entries?.length ?? 0, performance.now() - started);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'persist') return persist;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
