import { checkAppend, checkHardState, checkTruncate, checkZxid, historyProblem, isStaleLog, maxOf, isSuccessor, planPurge } from './rules';
import {
  StorageFatalError,
  StoreCorruptError,
  type Failpoints,
  type HardState,
  type LogEntry,
  type PersistBatch,
  type PurgeResult,
  type Snapshot,
  type SnapshotInfo,
  type Store,
} from './types';

/**
 * The durable state of an in-memory store. Everything a store persisted lives here, so a simulated
 * crash is "drop the Store object, open a new one on the same disk" (no lock: a crashed store
 * object simply stops being used).
 */
export interface MemoryDisk {
  hardState: HardState;
  /** Sorted by zxid. */
  log: LogEntry[];
  /** Sorted by zxid. */
  snapshots: Snapshot[];
}

export function newMemoryDisk(): MemoryDisk {
  return { hardState: { acceptedEpoch: 0, currentEpoch: 0 }, log: [], snapshots: [] };
}

export interface MemoryStoreOptions {
  disk?: MemoryDisk;
  failpoints?: Failpoints;
}

/** Same contract as the SQLite store, for unit tests and the ensemble simulator. */
export function createMemoryStore(opts: MemoryStoreOptions = {}): Store {
  const disk = opts.disk ?? newMemoryDisk();
  // Finish an interrupted snapshot install, as the SQLite store does on open.
  if (isStaleLog(disk.log.at(-1)?.zxid, disk.snapshots.at(-1)?.zxid)) disk.log = [];
  checkDisk(disk);
  return new MemoryStore(disk, opts.failpoints);
}

function checkDisk(disk: MemoryDisk): void {
  const { log, snapshots } = disk;
  let gap: { prev: bigint; next: bigint } | undefined;
  for (let i = 1; i < log.length && !gap; i++) {
    if (!isSuccessor(log[i - 1].zxid, log[i].zxid)) gap = { prev: log[i - 1].zxid, next: log[i].zxid };
  }
  const latest = snapshots.at(-1)?.zxid;
  const problem = historyProblem({
    firstLog: log[0]?.zxid,
    lastLog: log.at(-1)?.zxid,
    gap,
    latestSnapshot: latest,
    firstLogAfterSnapshot: latest === undefined ? undefined : log.find((e) => e.zxid > latest)?.zxid,
    acceptedEpoch: disk.hardState.acceptedEpoch,
  });
  if (problem) throw new StoreCorruptError(`memory store: ${problem}`);
}

/** Copies buffers in and out so callers cannot mutate "durable" bytes after the fact. */
const copy = (b: Buffer): Buffer => Buffer.from(b);

class MemoryStore implements Store {
  private failed: Error | undefined;
  private closed = false;

  constructor(
    private readonly disk: MemoryDisk,
    private readonly failpoints: Failpoints | undefined,
  ) {}

  persist(batch: PersistBatch): void {
    this.checkWritable();
    const entries = batch.entries ?? [];
    const t = batch.truncateAfter;
    if (t !== undefined) checkTruncate(t, this.latestZxidOfSnapshots());
    const kept = t === undefined ? this.disk.log : this.disk.log.filter((e) => e.zxid <= t);
    checkAppend(maxOf(kept.at(-1)?.zxid, this.latestZxidOfSnapshots()), entries);
    if (batch.hardState) checkHardState(batch.hardState);
    if (t === undefined && entries.length === 0 && !batch.hardState) return;
    // Build the new state first and swap it in only if the "commit" succeeds: all or nothing.
    const log = [...kept, ...entries.map((e) => ({ zxid: e.zxid, data: copy(e.data) }))];
    const hardState = batch.hardState ? { ...batch.hardState } : this.disk.hardState;
    this.commit('persist', () => {
      this.disk.log = log;
      this.disk.hardState = hardState;
    });
  }

  hardState(): HardState {
    return { ...this.disk.hardState };
  }

  lastZxid(): bigint {
    return maxOf(this.disk.log.at(-1)?.zxid, this.latestZxidOfSnapshots());
  }

  firstLogZxid(): bigint | undefined {
    return this.disk.log[0]?.zxid;
  }

  readLog(afterZxid: bigint, limit?: number): LogEntry[] {
    this.checkOpen();
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new Error(`readLog limit ${limit} is invalid`);
    const log = this.disk.log;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log[mid].zxid <= afterZxid) lo = mid + 1;
      else hi = mid;
    }
    const end = limit === undefined ? log.length : Math.min(log.length, lo + limit);
    return log.slice(lo, end).map((e) => ({ zxid: e.zxid, data: copy(e.data) }));
  }

  saveSnapshot(zxid: bigint, data: Buffer, createdAt: number): void {
    this.checkWritable();
    checkZxid(zxid, 'snapshot zxid');
    if (!Buffer.isBuffer(data)) throw new Error('snapshot data must be a Buffer');
    if (!Number.isSafeInteger(createdAt)) throw new Error(`snapshot createdAt ${createdAt} must be an integer (ms)`);
    const snaps = this.disk.snapshots.filter((s) => s.zxid !== zxid);
    snaps.push({ zxid, data: copy(data), createdAt });
    snaps.sort((a, b) => (a.zxid < b.zxid ? -1 : 1));
    // A snapshot past the log end replaces history (SNAP sync): the old log goes with it.
    const log = isStaleLog(this.disk.log.at(-1)?.zxid, snaps.at(-1)?.zxid) ? [] : this.disk.log;
    this.commit('saveSnapshot', () => {
      this.disk.snapshots = snaps;
      this.disk.log = log;
    });
  }

  latestSnapshot(): Snapshot | undefined {
    this.checkOpen();
    const s = this.disk.snapshots.at(-1);
    return s && { zxid: s.zxid, data: copy(s.data), createdAt: s.createdAt };
  }

  listSnapshots(): SnapshotInfo[] {
    this.checkOpen();
    return this.disk.snapshots.map((s) => ({ zxid: s.zxid, bytes: s.data.length, createdAt: s.createdAt }));
  }

  purge(retainSnapshots: number): PurgeResult {
    this.checkWritable();
    const plan = planPurge(this.listSnapshots(), retainSnapshots);
    if (!plan) return { snapshotsRemoved: 0, logEntriesRemoved: 0 };
    const snaps = this.disk.snapshots.filter((s) => s.zxid >= plan.removeBelow);
    const log = this.disk.log.filter((e) => e.zxid > plan.logUpTo);
    const result = { snapshotsRemoved: this.disk.snapshots.length - snaps.length, logEntriesRemoved: this.disk.log.length - log.length };
    this.commit('purge', () => {
      this.disk.snapshots = snaps;
      this.disk.log = log;
    });
    return result;
  }

  describe(): { dataDir: string; dataLogDir: string; files: string[] } {
    return { dataDir: ':memory:', dataLogDir: ':memory:', files: [] };
  }

  sizes(): { dataBytes: number; logBytes: number } {
    const sum = (xs: { data: Buffer }[]) => xs.reduce((n, x) => n + x.data.length, 0);
    return { dataBytes: sum(this.disk.snapshots), logBytes: sum(this.disk.log) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
  }

  private latestZxidOfSnapshots(): bigint | undefined {
    return this.disk.snapshots.at(-1)?.zxid;
  }

  /** Runs the failpoints, then applies `swap`; a failure leaves the disk untouched and poisons the store. */
  private commit(op: string, swap: () => void): void {
    try {
      if (this.failpoints?.failFsync) throw new Error('disk I/O error (failpoint: simulated fsync failure)');
      this.failpoints?.beforeCommit?.();
    } catch (err) {
      this.failed = err as Error;
      throw new StorageFatalError(`${op} failed: ${(err as Error).message}`, { cause: err });
    }
    swap();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failed) throw new StorageFatalError(`store failed earlier and accepts no more writes: ${this.failed.message}`, { cause: this.failed });
  }
}
