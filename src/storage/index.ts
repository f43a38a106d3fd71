export type { LogEntry, HardState, PersistBatch, SnapshotInfo, SnapshotWriter, PurgeResult, Store, Failpoints } from './types';
export { StorageFatalError, StoreCorruptError, StoreLockedError } from './types';
export { openSqliteStore, DATA_DB_FILE, LOG_DB_FILE, type SqliteStoreOptions } from './sqlite';
export { createMemoryStore, newMemoryDisk, type MemoryDisk, type MemoryStoreOptions } from './memory';
export { writeSnapshotBytes, readSnapshotBytes, encodeSnapshotRef, decodeSnapshotRef, type SnapshotRef } from './bodies';
export { LOCK_FILE } from './lock';
