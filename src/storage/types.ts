/**
 * One logged txn. `data` is sealed (util/checksum.ts: payload + CRC-32 of zxid and payload): every
 * store refuses to write an entry whose seal does not match and refuses to return a damaged one.
 * Storage never looks inside the payload.
 */
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
 * A finished snapshot body: `chunks` chunks in the data db under body `id`, each stored with its
 * CRC-32; `checksum` is the CRC-32 of those CRCs in order (so the whole body is checked while it
 * streams). A snapshot exists once the log db's catalog names it (saveSnapshot or persist);
 * a body nobody names is garbage from a crash and is dropped.
 */
export interface SnapshotInfo {
  zxid: bigint;
  id: number;
  createdAt: number;
  bytes: number;
  chunks: number;
  checksum: number;
}

/** Writes one snapshot body chunk by chunk, each chunk its own bounded write (no fsync). */
export interface SnapshotWriter {
  readonly id: number;
  readonly bytes: number;
  readonly chunks: number;
  append(chunk: Buffer): void;
  /** Makes the body durable (one fsync) and describes it; it is still unnamed (not a snapshot yet). */
  finish(zxid: bigint, createdAt: number): SnapshotInfo;
  /**
   * `finish` without waiting for the disk on the event loop (a 1M-znode body is 128 MB: its fsync
   * took most of a second). The body is complete when this returns; `durable` gets its description
   * once it would survive power loss: at once from a store with no disk to wait for, else from a
   * later turn. A failed sync poisons the store, as a failed `persistWritten` does.
   */
  finishWritten(zxid: bigint, createdAt: number, durable: (err: StorageFatalError | undefined, info: SnapshotInfo) => void): void;
  /** Drops what was written (also fine after finish, as long as nothing named it). */
  abort(): void;
}

/**
 * Everything one quorum step must make durable, in one atomic unit: `snapshot` (a SNAP install:
 * the finished body replaces the whole history — log and older snapshots), then truncation, then
 * entries, then hard state. Either all of it survives a crash or none of it does.
 */
export interface PersistBatch {
  hardState?: HardState;
  snapshot?: SnapshotInfo;
  /** Delete log entries with zxid > this (ZAB TRUNC). */
  truncateAfter?: bigint;
  entries?: readonly LogEntry[];
}

export interface PurgeResult {
  snapshotsRemoved: number;
  logEntriesRemoved: number;
  /** False when the row budget ran out: call purge again (next turn) to continue. */
  done: boolean;
}

export interface Store {
  /** One durable transaction; throws StorageFatalError on I/O failure (nothing of the batch persists). */
  persist(batch: PersistBatch): void;
  /**
   * `persist` without waiting for the disk on the event loop: when this returns the batch is
   * written (readable, and ordered before any later write) but perhaps not yet fsynced; `durable`
   * is called once it would survive power loss — at once, before returning, by a store with no
   * disk to wait for, else from a later turn, in call order. If the sync fails, `durable` gets a
   * StorageFatalError and the store accepts no more writes. A failed write throws as `persist` does.
   */
  persistWritten(batch: PersistBatch, durable: (err?: StorageFatalError) => void): void;
  /** {0,0} on a fresh store. */
  hardState(): HardState;
  /** Highest zxid the store knows: max(last logged zxid, latest snapshot zxid), 0n when fresh. */
  lastZxid(): bigint;
  firstLogZxid(): bigint | undefined;
  /** Entries with zxid > afterZxid in zxid order, seals verified; page with `limit` for big logs. */
  readLog(afterZxid: bigint, limit?: number): LogEntry[];
  /** Starts a snapshot body (for the snapshot of this server's tree, or one received by SNAP). */
  beginSnapshot(): SnapshotWriter;
  /** Names a finished body as a snapshot at info.zxid (a state already in this server's history). */
  saveSnapshot(info: SnapshotInfo): void;
  latestSnapshot(): SnapshotInfo | undefined;
  /** Oldest first. */
  listSnapshots(): SnapshotInfo[];
  /**
   * Chunks [from, from + count) of a named snapshot, each CRC-verified (StoreCorruptError if not).
   * With `crcs`, each chunk's verified CRC-32 is appended to it: a loader folds them into the
   * whole-body checksum without hashing the bytes a second time (134 MB at 1M znodes).
   */
  readSnapshotChunks(info: SnapshotInfo, from: number, count: number, crcs?: number[]): Buffer[];
  /**
   * Keeps the N (at least 3) newest snapshots and every log entry after the oldest kept one,
   * deleting at most `maxRows` rows per call (default: no limit) so a big purge can be spread
   * over event-loop turns; also drops bodies left unnamed by a crash.
   */
  purge(retainSnapshots: number, maxRows?: number): PurgeResult;
  describe(): { dataDir: string; dataLogDir: string; files: string[] };
  sizes(): { dataBytes: number; logBytes: number };
  /**
   * Servers call this once they serve: WAL checkpoints then run in a worker thread instead of
   * inside commits (a checkpoint is MBs of writes and two fsyncs that would stall a client's write).
   */
  checkpointInBackground(): void;
  close(): void;
  /** Resolves once close() has released everything (background threads included). */
  closed(): Promise<void>;
}

/**
 * Test-only fault injection. Both hooks fire inside a write transaction, before it commits, so a
 * failure there must leave nothing of that transaction behind. `what` names the write
 * ('persist', 'snapshotChunk', 'snapshotFinish', 'saveSnapshot', 'purge', ...).
 */
export interface Failpoints {
  /** Called just before COMMIT of every write transaction; throwing simulates a failed write. */
  beforeCommit?: (what: string) => void;
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
