import { entryIntact } from '../util/checksum';
import { isSuccessor, zxidHex as hex } from '../util/zxid';
import { checkAppend, checkHardState, checkTruncate, checkZxid, chunkProblem, historyProblem, maxOf, planPurge } from './rules';
import { bodyWriter } from './writer';
import {
  StorageFatalError,
  StoreCorruptError,
  type Failpoints,
  type HardState,
  type LogEntry,
  type PersistBatch,
  type PurgeResult,
  type SnapshotInfo,
  type SnapshotWriter,
  type Store,
} from './types';

/**
 * The durable state of an in-memory store, laid out like the SQLite store's two files: the "log
 * db" (hard state, log, snapshot catalog) and the "data db" (snapshot bodies). Everything a store
 * persisted lives here, so a simulated crash is "drop the Store object, open a new one on the same
 * disk" (no lock: a crashed store object simply stops being used). Each assignment below is one
 * "transaction", made in the same order as the SQLite store commits.
 */
export interface MemoryDisk {
  hardState: HardState;
  /** Sorted by zxid. */
  log: LogEntry[];
  /** Named snapshots, sorted by zxid. */
  catalog: SnapshotInfo[];
  /** Snapshot bodies by id, named or not. */
  bodies: Map<number, { crc: number; data: Buffer }[]>;
}

export function newMemoryDisk(): MemoryDisk {
  return { hardState: { acceptedEpoch: 0, currentEpoch: 0 }, log: [], catalog: [], bodies: new Map() };
}

export interface MemoryStoreOptions {
  disk?: MemoryDisk;
  failpoints?: Failpoints;
}

/** Same contract as the SQLite store, for unit tests and the ensemble simulator. */
export function createMemoryStore(opts: MemoryStoreOptions = {}): Store {
  const disk = opts.disk ?? newMemoryDisk();
  checkDisk(disk);
  return new MemoryStore(disk, opts.failpoints);
}

function checkDisk(disk: MemoryDisk): void {
  const { log, catalog } = disk;
  for (const c of catalog) {
    const have = disk.bodies.get(c.id)?.length ?? 0;
    if (have !== c.chunks) throw new StoreCorruptError(`memory store: snapshot ${hex(c.zxid)} should have ${c.chunks} chunks but has ${have}`);
  }
  const latest = catalog.at(-1)?.zxid;
  const after = latest === undefined ? log : log.filter((e) => e.zxid >= latest);
  let gap: { prev: bigint; next: bigint } | undefined;
  for (let i = 1; i < after.length && !gap; i++) {
    if (!isSuccessor(after[i - 1].zxid, after[i].zxid)) gap = { prev: after[i - 1].zxid, next: after[i].zxid };
  }
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
const byZxid = (a: { zxid: bigint }, b: { zxid: bigint }): number => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0);

class MemoryStore implements Store {
  private failed: Error | undefined;
  private isClosed = false;
  private readonly staged = new Map<number, 'writing' | 'finished'>();
  private nextBodyId: number;

  constructor(
    private readonly disk: MemoryDisk,
    private readonly failpoints: Failpoints | undefined,
  ) {
    this.nextBodyId = 1 + Math.max(0, ...disk.bodies.keys(), ...disk.catalog.map((c) => c.id));
  }

  persist(batch: PersistBatch): void {
    this.checkWritable();
    const entries = batch.entries ?? [];
    const snap = batch.snapshot;
    const t = batch.truncateAfter;
    if (snap) this.checkFinished(snap);
    const latest = snap ? snap.zxid : this.latestZxidOfSnapshots();
    if (t !== undefined) checkTruncate(t, latest);
    const base = snap ? [] : this.disk.log;
    const kept = t === undefined ? base : base.filter((e) => e.zxid <= t);
    checkAppend(maxOf(kept.at(-1)?.zxid, latest), entries);
    if (batch.hardState) checkHardState(batch.hardState);
    if (!snap && t === undefined && entries.length === 0 && !batch.hardState) return;
    // Build the new state first and swap it in only if the "commit" succeeds: all or nothing.
    const added = entries.map((e) => ({ zxid: e.zxid, data: copy(e.data) }));
    // A plain append extends the durable log in place (the simulators append thousands of times
    // per run; copying the whole log each time dominated their cost).
    const log = kept === this.disk.log ? kept : [...kept, ...added];
    const hardState = batch.hardState ? { ...batch.hardState } : this.disk.hardState;
    const catalog = snap ? [{ ...snap }] : this.disk.catalog;
    this.commit('persist', () => {
      if (log === this.disk.log) for (const e of added) log.push(e);
      this.disk.log = log;
      this.disk.hardState = hardState;
      this.disk.catalog = catalog;
    });
    if (snap) this.staged.delete(snap.id);
  }

  /** Nothing to wait for: the simulator's disk is durable once `persist` returns. */
  persistWritten(batch: PersistBatch, durable: (err?: StorageFatalError) => void): void {
    this.persist(batch);
    durable();
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
    return log.slice(lo, end).map((e) => {
      if (!entryIntact(e.zxid, e.data)) throw new StoreCorruptError(`memory store: txn ${hex(e.zxid)} is damaged (checksum mismatch)`);
      return { zxid: e.zxid, data: copy(e.data) };
    });
  }

  beginSnapshot(): SnapshotWriter {
    this.checkWritable();
    const id = this.nextBodyId++;
    this.staged.set(id, 'writing');
    const finish = (body: number): void => {
      this.commit('snapshotFinish', () => {
        if (!this.disk.bodies.has(body)) this.disk.bodies.set(body, []);
      });
      this.staged.set(body, 'finished');
    };
    return bodyWriter(id, {
      maxChunks: Number.MAX_SAFE_INTEGER,
      checkWriting: (body) => {
        this.checkWritable();
        if (this.staged.get(body) !== 'writing') throw new Error(`snapshot body ${body} is not being written`);
      },
      writeChunk: (body, _seq, crc, chunk) => {
        const chunks = [...(this.disk.bodies.get(body) ?? []), { crc, data: copy(chunk) }];
        this.commit('snapshotChunk', () => this.disk.bodies.set(body, chunks));
      },
      finish,
      // Nothing to wait for: the simulator's disk is durable once a commit returns.
      finishWritten: (body, durable) => {
        finish(body);
        durable();
      },
      abort: (body) => this.staged.delete(body),
    });
  }

  saveSnapshot(info: SnapshotInfo): void {
    this.checkWritable();
    this.checkFinished(info);
    if (info.zxid > this.lastZxid()) throw new Error(`snapshot ${hex(info.zxid)} is beyond the log end ${hex(this.lastZxid())}: a SNAP install goes through persist`);
    const catalog = [...this.disk.catalog.filter((c) => c.zxid !== info.zxid), { ...info }].sort(byZxid);
    this.commit('saveSnapshot', () => {
      this.disk.catalog = catalog;
    });
    this.staged.delete(info.id);
  }

  private checkFinished(info: SnapshotInfo): void {
    checkZxid(info.zxid, 'snapshot zxid');
    if (this.staged.get(info.id) !== 'finished') throw new Error(`snapshot body ${info.id} is not a finished, unnamed body of this store`);
  }

  latestSnapshot(): SnapshotInfo | undefined {
    this.checkOpen();
    const s = this.disk.catalog.at(-1);
    return s && { ...s };
  }

  listSnapshots(): SnapshotInfo[] {
    this.checkOpen();
    return this.disk.catalog.map((c) => ({ ...c }));
  }

  readSnapshotChunks(info: SnapshotInfo, from: number, count: number, crcs?: number[]): Buffer[] {
    this.checkOpen();
    const end = Math.min(info.chunks, from + count);
    if (!Number.isSafeInteger(from) || from < 0 || end < from) throw new Error(`invalid chunk range ${from}+${count}`);
    const body = this.disk.bodies.get(info.id) ?? [];
    const out: Buffer[] = [];
    for (let seq = from; seq < end; seq++) {
      const c = body[seq];
      const problem = c ? chunkProblem({ seq, crc: c.crc, data: c.data }, seq) : `chunk ${seq} is missing`;
      if (problem) throw new StoreCorruptError(`memory store: snapshot ${hex(info.zxid)}: ${problem}`);
      crcs?.push(c!.crc >>> 0);
      out.push(copy(c!.data));
    }
    return out;
  }

  purge(retainSnapshots: number, maxRows = Number.MAX_SAFE_INTEGER): PurgeResult {
    this.checkWritable();
    const plan = planPurge(this.disk.catalog, retainSnapshots);
    let budget = Math.max(1, maxRows);
    let snapshotsRemoved = 0;
    let logEntriesRemoved = 0;
    if (plan) {
      const catalog = this.disk.catalog.filter((c) => c.zxid >= plan.removeBelow);
      snapshotsRemoved = this.disk.catalog.length - catalog.length;
      if (snapshotsRemoved > 0) this.commit('purge', () => (this.disk.catalog = catalog));
      const purgeable = this.disk.log.filter((e) => e.zxid <= plan.logUpTo).length;
      logEntriesRemoved = Math.min(purgeable, budget);
      if (logEntriesRemoved > 0) {
        const log = this.disk.log.slice(logEntriesRemoved);
        this.commit('purge', () => (this.disk.log = log));
        budget -= logEntriesRemoved;
      }
    }
    const named = new Set(this.disk.catalog.map((c) => c.id));
    for (const [id, chunks] of [...this.disk.bodies]) {
      if (budget <= 0) break;
      if (named.has(id) || this.staged.has(id)) continue;
      const left = chunks.slice(Math.min(chunks.length, budget));
      budget -= chunks.length - left.length;
      this.commit('purge', () => (left.length === 0 ? this.disk.bodies.delete(id) : this.disk.bodies.set(id, left)));
    }
    const garbageLeft = [...this.disk.bodies.keys()].some((id) => !named.has(id) && !this.staged.has(id));
    const logLeft = plan !== undefined && this.disk.log.length > 0 && this.disk.log[0].zxid <= plan.logUpTo;
    return { snapshotsRemoved, logEntriesRemoved, done: budget > 0 && !garbageLeft && !logLeft };
  }

  describe(): { dataDir: string; dataLogDir: string; files: string[] } {
    return { dataDir: ':memory:', dataLogDir: ':memory:', files: [] };
  }

  sizes(): { dataBytes: number; logBytes: number } {
    let dataBytes = 0;
    for (const chunks of this.disk.bodies.values()) for (const c of chunks) dataBytes += c.data.length;
    return { dataBytes, logBytes: this.disk.log.reduce((n, e) => n + e.data.length, 0) };
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
  }

  closed(): Promise<void> {
    return Promise.resolve();
  }

  checkpointInBackground(): void {
    /* nothing to checkpoint in memory */
  }

  private latestZxidOfSnapshots(): bigint | undefined {
    return this.disk.catalog.at(-1)?.zxid;
  }

  /** Runs the failpoints, then applies `swap`; a failure leaves the disk untouched and poisons the store. */
  private commit(op: string, swap: () => void): void {
    try {
      if (this.failpoints?.failFsync) throw new Error('disk I/O error (failpoint: simulated fsync failure)');
      this.failpoints?.beforeCommit?.(op);
    } catch (err) {
      this.failed = err as Error;
      throw new StorageFatalError(`${op} failed: ${(err as Error).message}`, { cause: err });
    }
    swap();
  }

  private checkOpen(): void {
    if (this.isClosed) throw new Error('store is closed');
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failed) throw new StorageFatalError(`store failed earlier and accepts no more writes: ${this.failed.message}`, { cause: this.failed });
  }
}
