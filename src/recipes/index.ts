/**
 * Recipes built on the public client API only. Each file's header says what happens on
 * `suspended` and `lost`.
 */
export { Mutex, Semaphore, ReadWriteLock, LockHandle, LockInternals, leaseRule, readRule, sortContenders } from './lock';
export type { AcquireOptions, LockOptions, LockDecision, LockRule } from './lock';
export { LeaderLatch, LeaderElection } from './leader';
export type { LeaderLatchOptions, LeaderElectionOptions } from './leader';
export { DistributedCounter, type CounterUpdate } from './counter';
export { TreeCache, type TreeCacheEntry, type TreeCacheOptions } from './treeCache';
export { ConfigWatcher, type ConfigWatcherOptions } from './config';
export { ServiceRegistry, ServiceDiscovery, ServiceCache, encodeInstance, decodeInstance } from './discovery';
export type { ServiceInstance, NewServiceInstance } from './discovery';
export { Barrier, DoubleBarrier, DoubleBarrier as DistributedDoubleBarrier, type WaitOptions } from './barrier';
export { PersistentNode, PersistentTtlNode, GroupMember } from './persistentNode';
export { SharedCount, type VersionedCount } from './sharedCount';
export { DistributedQueue } from './queue';
