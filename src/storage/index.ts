export type { LogEntry, HardState, PersistBatch, Snapshot, SnapshotInfo, PurgeResult, Store, Failpoints } from './types';
export { StorageFatalError, StoreCorruptError, StoreLockedError } from './types';
export { openSqliteStore, DATA_DB_FILE, LOG_DB_FILE, type SqliteStoreOptions } from './sqlite';
export { createMemoryStore, newMemoryDisk, type MemoryDisk, type MemoryStoreOptions } from './memory';
export { LOCK_FILE } from './lock';
