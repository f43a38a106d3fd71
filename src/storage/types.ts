/** One logged txn. `data` is the encoded txn: storage never looks inside it. */
export interface LogEntry {
  zxid: bigint;
  data: Buffer;
}

/** ZAB's persistent epochs (acceptedEpoch: last NEWEPOCH acked; currentEpoch: last NEWLEADER acked). */
export interface HardState {
  acceptedEpoch: number;
  currentEpoch: number;
}

/**
 * Everything one quorum step must make durable, applied atomically in this order: truncation,
 * then entries, then hard state. Either all of it survives a crash or none of it does.
 */
export interface PersistBatch {
  hardState?: HardState;
  /** Delete log entries with zxid > this (ZAB TRUNC). */
  truncateAfter?: bigint;
  entries?: readonly LogEntry[];
}

export interface Snapshot {
  zxid: bigint;
  data: Buffer;
  createdAt: number;
}

export interface SnapshotInfo {
  zxid: bigint;
  bytes: number;
  createdAt: number;
}

export interface PurgeResult {
  snapshotsRemoved: number;
  logEntriesRemoved: number;
}

export interface Store {
  /** One durable transaction; throws StorageFatalError on I/O failure (nothing of the batch persists). */
  persist(batch: PersistBatch): void;
  /** {0,0} on a fresh store. */
  hardState(): HardState;
  /** Highest zxid the store knows: max(last logged zxid, latest snapshot zxid), 0n when fresh. */
  lastZxid(): bigint;
  firstLogZxid(): bigint | undefined;
  /** Entries with zxid > afterZxid in zxid order; page with `limit` for big logs. */
  readLog(afterZxid: bigint, limit?: number): LogEntry[];
  /** The caller serializes the tree synchronously at `zxid`, so no fuzzy snapshots here. */
  saveSnapshot(zxid: bigint, data: Buffer, createdAt: number): void;
  latestSnapshot(): Snapshot | undefined;
  /** Oldest first. */
  listSnapshots(): SnapshotInfo[];
  /** Keeps the N (at least 3) newest snapshots and every log entry after the oldest kept one. */
  purge(retainSnapshots: number): PurgeResult;
  describe(): { dataDir: string; dataLogDir: string; files: string[] };
  sizes(): { dataBytes: number; logBytes: number };
  close(): void;
}

/**
 * Test-only fault injection. Both hooks fire inside the write transaction, before it commits, so a
 * failure there must leave nothing of the batch behind.
 */
export interface Failpoints {
  /** Called just before COMMIT of persist/saveSnapshot; throwing simulates a failed write. */
  beforeCommit?: () => void;
  /** Simulates SQLITE_IOERR_FSYNC on every write transaction. */
  failFsync?: boolean;
}

/** An I/O or SQLite error while writing: the caller must fail-stop and recover from disk. */
export class StorageFatalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageFatalError';
  }
}

/** The store on disk cannot be trusted (or is not ours): refuse to start rather than start empty. */
export class StoreCorruptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreCorruptError';
  }
}

/** The data dir is locked by another live process. */
export class StoreLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreLockedError';
  }
}
