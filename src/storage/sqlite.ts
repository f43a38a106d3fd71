import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { entryIntact } from '../util/checksum';
import { lockDir, type DirLock } from './lock';
import { bodyWriter } from './writer';
import { WalCheckpointer } from './checkpointer';
import { WalSyncer } from './walsync';
import {
  checkAppend, checkHardState, checkTruncate, checkZxid, chunkProblem, historyProblem, maxOf, planPurge, resyncAdvice,
} from './rules';
import { counterOf, zxidHex as hex } from '../util/zxid';
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

export interface SqliteStoreOptions {
  dataDir: string;
  /** Where the txn log lives; defaults to dataDir. ZooKeeper users put it on its own disk. */
  dataLogDir?: string;
  logger?: Logger;
  failpoints?: Failpoints;
}

export const DATA_DB_FILE = 'zabkeeper.db';
export const LOG_DB_FILE = 'zabkeeper-log.db';
const SCHEMA_VERSION = 2n;
const BUSY_TIMEOUT_MS = 5000;
const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
/** Chunk rows are keyed body id * 2^20 + seq: up to a million chunks per snapshot, no extra index. */
const CHUNK_SEQ_BITS = 2 ** 20;
type Kind = 'data' | 'log';

/*
 * Layout (schema 2).
 *  - The log db (dataLogDir) holds the txn log, the hard state (epochs) and the snapshot catalog.
 *    Everything `persist` writes is in this one file, so one SQLite transaction makes a batch
 *    atomic — including a SNAP install, whose commit point is the catalog row naming the body.
 *  - The data db (dataDir) holds snapshot bodies as CRC-checked chunks. A body is written and
 *    fsynced before anything names it; a body the catalog does not name (a crash before the
 *    naming commit) is garbage and is dropped. Attached WAL databases do not commit atomically
 *    together, hence this write-body-then-name protocol instead of one cross-file transaction.
 * Both files carry the same random store id, so a log paired with the wrong (or a freshly emptied)
 * data dir is refused instead of silently starting from nothing.
 */
const SCHEMA: Record<Kind, string> = {
  log: `CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value NOT NULL);
        CREATE TABLE log (zxid INTEGER PRIMARY KEY NOT NULL, data BLOB NOT NULL);
        CREATE TABLE snapshots (zxid INTEGER PRIMARY KEY NOT NULL, body_id INTEGER NOT NULL, created_at INTEGER NOT NULL,
                                bytes INTEGER NOT NULL, chunks INTEGER NOT NULL, checksum INTEGER NOT NULL);`,
  data: `CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value NOT NULL);
         CREATE TABLE snapshot_chunks (key INTEGER PRIMARY KEY NOT NULL, crc INTEGER NOT NULL, data BLOB NOT NULL);`,
};

/** Opens (or creates) the store, refusing to start on anything it cannot trust. */
export function openSqliteStore(opts: SqliteStoreOptions): Store {
  const dataDir = path.resolve(opts.dataDir);
  const dataLogDir = path.resolve(opts.dataLogDir ?? opts.dataDir);
  const dirs = dataDir === dataLogDir ? [dataDir] : [dataDir, dataLogDir];
  for (const dir of dirs) refuseZooKeeperDir(dir);
  for (const dir of dirs) fs.mkdirSync(dir, { recursive: true });
  const locks: DirLock[] = [];
  const dbs: Database.Database[] = [];
  const damaged = (msg: string, cause?: unknown) =>
    new StoreCorruptError(`${msg}. ${resyncAdvice(dataDir, dataLogDir, { data: DATA_DB_FILE, log: LOG_DB_FILE })}`, { cause });
  try {
    for (const dir of dirs) locks.push(lockDir(dir));
    const dataDb = openDb(path.join(dataDir, DATA_DB_FILE), dbs, damaged);
    const logDb = openDb(path.join(dataLogDir, LOG_DB_FILE), dbs, damaged);
    initSchemas(dataDb, logDb, damaged);
    return new SqliteStore({ dataDir, dataLogDir, dataDb, logDb, locks, logger: opts.logger, failpoints: opts.failpoints, damaged });
  } catch (err) {
    for (const db of dbs) closeQuietly(db);
    for (const lock of locks) lock.release();
    if (err instanceof StoreCorruptError || !isSqliteDamage(err)) throw err;
    throw damaged(`cannot read the store: ${(err as Error).message}`, err);
  }
}

type Damaged = (msg: string, cause?: unknown) => StoreCorruptError;

function isSqliteDamage(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

function refuseZooKeeperDir(dir: string): void {
  if (fs.existsSync(path.join(dir, 'version-2'))) {
    // Most often ZooKeeper's own dirs reused when swapping the binary: say how to move over.
    throw new StoreCorruptError(
      `${dir} contains Apache ZooKeeper's version-2/ directory: not a zabkeeper data dir. Move version-2/ out (keep myid) or point dataDir/dataLogDir at an ` +
        'empty directory; copy the znodes over with `zabkeeper export` from the running ZooKeeper and `zabkeeper import` into zabkeeper',
    );
  }
}

/*
 * No PRAGMA quick_check at open: it reads every page of both files (seconds at a million znodes).
 * Integrity comes from what we read anyway: every log entry and snapshot chunk carries a CRC that
 * is checked when it is read, and SQLite reports damaged pages it walks (SQLITE_CORRUPT).
 */
function openDb(file: string, opened: Database.Database[], damaged: Damaged): Database.Database {
  try {
    const db = new Database(file);
    opened.push(db);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreCorruptError(`${file}: cannot enable WAL journal mode (got ${String(mode)})`);
    // FULL: every commit is fsynced, so a returned persist survives power loss (RELIABILITY D1).
    db.pragma('synchronous = FULL');
    // A WAL that grew during a burst is cut back once checkpointed, not kept at its peak size.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return db;
  } catch (err) {
    if (err instanceof StoreCorruptError) throw err;
    if (isSqliteDamage(err)) throw damaged(`${file} is not a readable SQLite database (${(err as Error).message})`, err);
    throw new StoreCorruptError(`cannot open ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function closeQuietly(db: Database.Database): void {
  try {
    db.close();
  } catch {
    /* already failing; the original error matters more */
  }
}

/** 'empty' for a brand-new file, otherwise the store id of a zabkeeper file of the expected kind. */
function inspect(db: Database.Database, kind: Kind): { empty: true } | { empty: false; id: string } {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
  if (tables.length === 0) return { empty: true };
  const file = db.name;
  if (!tables.includes('meta')) throw new StoreCorruptError(`${file} is an SQLite database but not a zabkeeper one (no meta table)`);
  const meta = readMeta(db);
  const version = meta.get('schema_version');
  if (version !== SCHEMA_VERSION) {
    throw new StoreCorruptError(
      `${file} has schema version ${String(version)}, this build reads version ${SCHEMA_VERSION}` +
        (version === 1n ? ' (written by an older zabkeeper before checksummed logs: re-sync this member from the ensemble or start from an empty data dir)' : ''),
    );
  }
  if (meta.get('kind') !== kind) throw new StoreCorruptError(`${file} is a zabkeeper '${String(meta.get('kind'))}' file, expected '${kind}'`);
  const id = meta.get('store_id');
  if (typeof id !== 'string') throw new StoreCorruptError(`${file} has no store id`);
  return { empty: false, id };
}

function readMeta(db: Database.Database): Map<string, unknown> {
  const rows = db.prepare('SELECT key, value FROM meta').safeIntegers(true).all() as { key: string; value: unknown }[];
  return new Map(rows.map((r) => [r.key, r.value]));
}

function createSchema(db: Database.Database, kind: Kind, id: string): void {
  db.transaction(() => {
    db.exec(SCHEMA[kind]);
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    put.run('schema_version', SCHEMA_VERSION);
    put.run('kind', kind);
    put.run('store_id', id);
    if (kind === 'log') {
      put.run('accepted_epoch', 0n);
      put.run('current_epoch', 0n);
    }
  })();
}

/**
 * Creation writes the data db first, then the log db, so a crash in between leaves a data db with
 * no snapshots and an empty log db, which is finished here. Any other half-present pair is refused.
 */
function initSchemas(dataDb: Database.Database, logDb: Database.Database, damaged: Damaged): void {
  const data = inspect(dataDb, 'data');
  const log = inspect(logDb, 'log');
  if (data.empty && log.empty) {
    const id = randomUUID();
    createSchema(dataDb, 'data', id);
    createSchema(logDb, 'log', id);
    return;
  }
  if (data.empty) throw damaged(`snapshot database ${dataDb.name} is missing or empty but txn log ${logDb.name} exists`);
  if (log.empty) {
    // Creation was cut short (data db made, log db not yet) only if no snapshot body was ever written.
    const bodies = dataDb.prepare('SELECT COUNT(*) FROM (SELECT 1 FROM snapshot_chunks LIMIT 1)').pluck().get() as number;
    if (bodies > 0) throw damaged(`txn log ${logDb.name} is missing or empty but ${dataDb.name} holds snapshots`);
    createSchema(logDb, 'log', data.id);
    return;
  }
  if (data.id !== log.id) throw new StoreCorruptError(`${dataDb.name} and ${logDb.name} belong to different stores (${data.id} vs ${log.id})`);
}

const toBig = (v: unknown): bigint | undefined => (v === null || v === undefined ? undefined : BigInt(v as bigint));

function simulatedFsyncError(): Error {
  return Object.assign(new Error('disk I/O error (failpoint: simulated fsync failure)'), { code: 'SQLITE_IOERR_FSYNC' });
}

interface Parts {
  dataDir: string;
  dataLogDir: string;
  dataDb: Database.Database;
  logDb: Database.Database;
  locks: DirLock[];
  logger?: Logger;
  failpoints?: Failpoints;
  damaged: Damaged;
}

interface CatalogRow {
  zxid: bigint;
  body_id: bigint;
  created_at: bigint;
  bytes: bigint;
  chunks: bigint;
  checksum: bigint;
}

const infoOf = (r: CatalogRow): SnapshotInfo => ({
  zxid: r.zxid, id: Number(r.body_id), createdAt: Number(r.created_at), bytes: Number(r.bytes), chunks: Number(r.chunks), checksum: Number(r.checksum),
});

const chunkKey = (id: number, seq: number): number => id * CHUNK_SEQ_BITS + seq;

class SqliteStore implements Store {
  private readonly s;
  private hs: HardState;
  private firstLog: bigint | undefined;
  private lastLog: bigint | undefined;
  /** The catalog, oldest first (a handful of rows, kept in memory). */
  private catalog: SnapshotInfo[];
  /** Bodies in the data db that nothing names and no writer owns: dropped by purge. */
  private readonly garbage = new Set<number>();
  /** Bodies being written, being synced (finishWritten) or finished, but not yet named. */
  private readonly staged = new Map<number, 'writing' | 'syncing' | 'finished'>();
  private nextBodyId: number;
  private failed: Error | undefined;
  private isClosed = false;
  private checkpointer: WalCheckpointer | undefined;
  private released: Promise<void> = Promise.resolve();
  /** fdatasync of the log db's WAL off the event loop (persistWritten). */
  private readonly walSync: WalSyncer;
  /** fdatasync of the data db's WAL off the event loop (a snapshot body's finishWritten). */
  private readonly dataWalSync: WalSyncer;

  constructor(private readonly p: Parts) {
    const { logDb, dataDb } = p;
    this.walSync = new WalSyncer(`${logDb.name}-wal`);
    this.dataWalSync = new WalSyncer(`${dataDb.name}-wal`);
    const stmt = (db: Database.Database, sql: string) => db.prepare(sql).safeIntegers(true);
    this.s = {
      insertLog: stmt(logDb, 'INSERT INTO log (zxid, data) VALUES (?, ?)'),
      truncate: stmt(logDb, 'DELETE FROM log WHERE zxid > ?'),
      purgeLog: stmt(logDb, 'DELETE FROM log WHERE zxid IN (SELECT zxid FROM log WHERE zxid <= ? ORDER BY zxid LIMIT ?)'),
      clearLog: stmt(logDb, 'DELETE FROM log'),
      readLog: stmt(logDb, 'SELECT zxid, data FROM log WHERE zxid > ? ORDER BY zxid LIMIT ?'),
      minLog: stmt(logDb, 'SELECT MIN(zxid) FROM log').pluck(),
      maxLog: stmt(logDb, 'SELECT MAX(zxid) FROM log').pluck(),
      maxLogUpTo: stmt(logDb, 'SELECT MAX(zxid) FROM log WHERE zxid <= ?').pluck(),
      minLogAfter: stmt(logDb, 'SELECT MIN(zxid) FROM log WHERE zxid > ?').pluck(),
      logSegment: stmt(logDb, 'SELECT COUNT(*) AS n, MAX(zxid) AS hi FROM log WHERE zxid >= ? AND zxid < ?'),
      setMeta: stmt(logDb, 'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      // A hole is two neighbours that are not a legal succession (see rules.isSuccessor). Only the
      // part after the newest snapshot is ever replayed, so only that part is checked at open.
      findGap: stmt(
        logDb,
        `SELECT prev, zxid FROM (SELECT zxid, LAG(zxid) OVER (ORDER BY zxid) AS prev FROM log WHERE zxid >= ?)
         WHERE prev IS NOT NULL AND NOT (((zxid >> 32) = (prev >> 32) AND zxid = prev + 1)
                                      OR ((zxid >> 32) <> (prev >> 32) AND (zxid & 4294967295) = 1))
         LIMIT 1`,
      ),
      catalog: stmt(logDb, 'SELECT zxid, body_id, created_at, bytes, chunks, checksum FROM snapshots ORDER BY zxid'),
      nameSnap: stmt(logDb, 'INSERT OR REPLACE INTO snapshots (zxid, body_id, created_at, bytes, chunks, checksum) VALUES (?, ?, ?, ?, ?, ?)'),
      clearCatalog: stmt(logDb, 'DELETE FROM snapshots'),
      dropSnapsBelow: stmt(logDb, 'DELETE FROM snapshots WHERE zxid < ?'),
      putChunk: stmt(dataDb, 'INSERT INTO snapshot_chunks (key, crc, data) VALUES (?, ?, ?)'),
      readChunks: stmt(dataDb, 'SELECT key, crc, data FROM snapshot_chunks WHERE key >= ? AND key < ? ORDER BY key'),
      countChunks: stmt(dataDb, 'SELECT COUNT(*) FROM snapshot_chunks WHERE key >= ? AND key < ?').pluck(),
      nextChunkKey: stmt(dataDb, 'SELECT MIN(key) FROM snapshot_chunks WHERE key >= ?').pluck(),
      dropChunks: stmt(dataDb, 'DELETE FROM snapshot_chunks WHERE key IN (SELECT key FROM snapshot_chunks WHERE key >= ? AND key < ? ORDER BY key LIMIT ?)'),
      touchData: stmt(dataDb, "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_body', ?)"),
    };
    // Snapshot bodies are written without an fsync per chunk; finish() makes them durable at once.
    dataDb.pragma('synchronous = NORMAL');
    const meta = readMeta(logDb);
    this.hs = { acceptedEpoch: Number(meta.get('accepted_epoch') ?? 0n), currentEpoch: Number(meta.get('current_epoch') ?? 0n) };
    this.firstLog = toBig(this.s.minLog.get());
    this.lastLog = toBig(this.s.maxLog.get());
    this.catalog = (this.s.catalog.all() as CatalogRow[]).map(infoOf);
    const bodies = this.bodyIds();
    this.nextBodyId = 1 + Math.max(0, ...bodies, ...this.catalog.map((c) => c.id));
    this.checkCatalog(bodies);
    this.checkHistory();
  }

  /** Every body id present in the data db (one index probe per body). */
  private bodyIds(): number[] {
    const ids: number[] = [];
    for (let key = toBig(this.s.nextChunkKey.get(0)); key !== undefined; ) {
      const id = Math.floor(Number(key) / CHUNK_SEQ_BITS);
      ids.push(id);
      key = toBig(this.s.nextChunkKey.get(chunkKey(id + 1, 0)));
    }
    return ids;
  }

  private checkCatalog(bodies: readonly number[]): void {
    const named = new Set(this.catalog.map((c) => c.id));
    for (const id of bodies) if (!named.has(id)) this.garbage.add(id);
    if (this.garbage.size > 0) this.p.logger?.info({ bodies: [...this.garbage] }, 'dropping snapshot bodies a crash left unnamed');
    for (const c of this.catalog) {
      const have = Number(this.s.countChunks.get(chunkKey(c.id, 0), chunkKey(c.id + 1, 0)));
      if (have !== c.chunks) throw this.p.damaged(`snapshot ${hex(c.zxid)} should have ${c.chunks} chunks in ${this.p.dataDb.name} but has ${have}`);
    }
  }

  private latestSnap(): bigint | undefined {
    return this.catalog.at(-1)?.zxid;
  }

  /**
   * Whether the log from `from` on may have a hole: each epoch's entries must be consecutive, and
   * every epoch after the first must start at counter 1. One COUNT per epoch over the rowid range
   * (a 80k-txn tail: 10 ms of CPU) instead of findGap's window over every row (55-64 ms), which
   * then only runs to name the hole.
   */
  private mayHaveGap(from: bigint): boolean {
    for (let x = from, first = true; ; first = false) {
      const lo = toBig(this.s.minLogAfter.get(x - 1n));
      if (lo === undefined) return false;
      const end = ((lo >> 32n) + 1n) << 32n;
      const seg = this.s.logSegment.get(lo, end) as { n: bigint | number; hi: bigint | number };
      if (BigInt(seg.hi) - lo + 1n !== BigInt(seg.n) || (!first && counterOf(lo) !== 1n)) return true;
      x = end;
    }
  }

  private checkHistory(): void {
    const latest = this.latestSnap();
    const gap = this.mayHaveGap(latest ?? 0n) ? (this.s.findGap.get(latest ?? 0n) as { prev: bigint; zxid: bigint } | undefined) : undefined;
    const problem = historyProblem({
      firstLog: this.firstLog,
      lastLog: this.lastLog,
      gap: gap && { prev: gap.prev, next: gap.zxid },
      latestSnapshot: latest,
      firstLogAfterSnapshot: latest === undefined ? undefined : toBig(this.s.minLogAfter.get(latest)),
      acceptedEpoch: this.hs.acceptedEpoch,
    });
    if (problem) throw this.p.damaged(`${this.p.logDb.name}: ${problem}`);
  }

  persist(batch: PersistBatch): void {
    this.checkWritable();
    const entries = batch.entries ?? [];
    const snap = batch.snapshot;
    const t = batch.truncateAfter;
    if (snap) this.checkFinished(snap);
    let lastLog = snap ? undefined : this.lastLog;
    const latest = snap ? snap.zxid : this.latestSnap();
    if (t !== undefined) {
      checkTruncate(t, latest);
      if (lastLog !== undefined && lastLog > t) lastLog = this.read(() => toBig(this.s.maxLogUpTo.get(t)));
    }
    checkAppend(maxOf(lastLog, latest), entries);
    if (batch.hardState) checkHardState(batch.hardState);
    if (!snap && t === undefined && entries.length === 0 && !batch.hardState) return;
    this.write('persist', this.p.logDb, () => {
      if (snap) {
        // SNAP install: the body replaces all history. This row is the commit point.
        this.s.clearLog.run();
        this.s.clearCatalog.run();
        this.name(snap);
      }
      if (t !== undefined) this.s.truncate.run(t);
      for (const e of entries) this.s.insertLog.run(e.zxid, e.data);
      if (batch.hardState) {
        this.s.setMeta.run('accepted_epoch', BigInt(batch.hardState.acceptedEpoch));
        this.s.setMeta.run('current_epoch', BigInt(batch.hardState.currentEpoch));
      }
    });
    let firstLog = snap ? undefined : this.firstLog;
    if (t !== undefined && firstLog !== undefined && firstLog > t) firstLog = undefined;
    if (entries.length > 0) {
      firstLog ??= entries[0].zxid;
      lastLog = entries[entries.length - 1].zxid;
    }
    this.firstLog = firstLog;
    this.lastLog = lastLog;
    if (snap) this.replaceCatalog([snap]);
    if (batch.hardState) this.hs = { ...batch.hardState };
  }

  /**
   * The same transaction as `persist`, committed with synchronous=NORMAL (WAL frames written, no
   * fsync on the event loop), then the WAL fdatasync'ed on the thread pool: the event loop waits
   * for the CPU part of the commit only, never for the disk.
   */
  persistWritten(batch: PersistBatch, durable: (err?: StorageFatalError) => void): void {
    const db = this.p.logDb;
    this.checkWritable();
    db.pragma('synchronous = NORMAL');
    try {
      this.persist(batch);
    } finally {
      if (!this.failed) db.pragma('synchronous = FULL');
    }
    this.syncWal(this.walSync, db, durable);
  }

  /** `durable` once `syncer` has made `db`'s WAL durable; a failed sync poisons the store (never retried). */
  private syncWal(syncer: WalSyncer, db: Database.Database, durable: (err?: StorageFatalError) => void): void {
    syncer.sync((err) => {
      if (!err) return durable();
      this.failed ??= err;
      durable(new StorageFatalError(`fsync of ${db.name}-wal failed: ${err.message}`, { cause: err }));
    });
  }

  hardState(): HardState {
    return { ...this.hs };
  }

  lastZxid(): bigint {
    return maxOf(this.lastLog, this.latestSnap());
  }

  firstLogZxid(): bigint | undefined {
    return this.firstLog;
  }

  readLog(afterZxid: bigint, limit?: number): LogEntry[] {
    this.checkOpen();
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new Error(`readLog limit ${limit} is invalid`);
    const rows = this.read(() => this.s.readLog.all(afterZxid, limit ?? -1) as { zxid: bigint; data: Buffer }[]);
    for (const r of rows) {
      if (!entryIntact(r.zxid, r.data)) throw this.p.damaged(`txn ${hex(r.zxid)} in ${this.p.logDb.name} is damaged (checksum mismatch)`);
    }
    return rows.map((r) => ({ zxid: r.zxid, data: r.data }));
  }

  beginSnapshot(): SnapshotWriter {
    this.checkWritable();
    const id = this.nextBodyId++;
    this.staged.set(id, 'writing');
    return bodyWriter(id, {
      maxChunks: CHUNK_SEQ_BITS,
      checkWriting: (body) => {
        this.checkWritable();
        if (this.staged.get(body) !== 'writing') throw new Error(`snapshot body ${body} is not being written`);
      },
      writeChunk: (body, seq, crc, chunk) => this.write('snapshotChunk', this.p.dataDb, () => this.s.putChunk.run(chunkKey(body, seq), crc, chunk)),
      finish: (body) => {
        // One fsync covers every chunk: in WAL mode a FULL commit syncs the whole log file.
        this.p.dataDb.pragma('synchronous = FULL');
        try {
          this.write('snapshotFinish', this.p.dataDb, () => this.s.touchData.run(BigInt(body)));
        } finally {
          if (!this.failed) this.p.dataDb.pragma('synchronous = NORMAL');
        }
        this.staged.set(body, 'finished');
      },
      // The same commit at NORMAL, then that one fsync of the WAL on the thread pool. Chunks a
      // checkpoint has already moved into the database file were synced there by the checkpoint
      // before SQLite let the WAL be reused, so the WAL's fsync covers every chunk.
      finishWritten: (body, durable) => {
        this.write('snapshotFinish', this.p.dataDb, () => this.s.touchData.run(BigInt(body)));
        this.staged.set(body, 'syncing');
        this.syncWal(this.dataWalSync, this.p.dataDb, (err) => {
          if (!err && this.staged.get(body) === 'syncing') this.staged.set(body, 'finished');
          durable(err);
        });
      },
      abort: (body) => {
        if (!this.staged.delete(body)) return;
        this.garbage.add(body);
      },
    });
  }

  saveSnapshot(info: SnapshotInfo): void {
    this.checkWritable();
    this.checkFinished(info);
    if (info.zxid > this.lastZxid()) throw new Error(`snapshot ${hex(info.zxid)} is beyond the log end ${hex(this.lastZxid())}: a SNAP install goes through persist`);
    this.write('saveSnapshot', this.p.logDb, () => this.name(info));
    this.replaceCatalog([...this.catalog.filter((c) => c.zxid !== info.zxid), info].sort((a, b) => (a.zxid < b.zxid ? -1 : 1)));
  }

  private checkFinished(info: SnapshotInfo): void {
    checkZxid(info.zxid, 'snapshot zxid');
    if (this.staged.get(info.id) !== 'finished') throw new Error(`snapshot body ${info.id} is not a finished, unnamed body of this store`);
  }

  private name(info: SnapshotInfo): void {
    this.s.nameSnap.run(info.zxid, BigInt(info.id), BigInt(info.createdAt), BigInt(info.bytes), BigInt(info.chunks), BigInt(info.checksum));
  }

  /** After a naming commit: bodies that dropped out of the catalog become garbage. */
  private replaceCatalog(next: SnapshotInfo[]): void {
    const keep = new Set(next.map((c) => c.id));
    for (const c of this.catalog) if (!keep.has(c.id)) this.garbage.add(c.id);
    for (const c of next) this.staged.delete(c.id);
    this.catalog = next;
  }

  latestSnapshot(): SnapshotInfo | undefined {
    this.checkOpen();
    const s = this.catalog.at(-1);
    return s && { ...s };
  }

  listSnapshots(): SnapshotInfo[] {
    this.checkOpen();
    return this.catalog.map((c) => ({ ...c }));
  }

  readSnapshotChunks(info: SnapshotInfo, from: number, count: number, crcs?: number[]): Buffer[] {
    this.checkOpen();
    const end = Math.min(info.chunks, from + count);
    if (!Number.isSafeInteger(from) || from < 0 || end < from) throw new Error(`invalid chunk range ${from}+${count}`);
    const rows = this.read(() => this.s.readChunks.all(chunkKey(info.id, from), chunkKey(info.id, end)) as { key: bigint; crc: bigint; data: Buffer }[]);
    const where = `snapshot ${hex(info.zxid)} in ${this.p.dataDb.name}`;
    if (rows.length < end - from) throw this.p.damaged(`${where}: chunk ${from + rows.length} is missing`);
    return rows.map((r, i) => {
      const problem = chunkProblem({ seq: Number(r.key) - chunkKey(info.id, 0), crc: Number(r.crc), data: r.data }, from + i);
      if (problem) throw this.p.damaged(`${where}: ${problem}`);
      crcs?.push(Number(r.crc) >>> 0);
      return r.data;
    });
  }

  /**
   * Catalog first (a crash before the rest only leaves unneeded rows), then the log up to the
   * oldest kept snapshot, then unnamed bodies — at most `maxRows` rows per call.
   */
  purge(retainSnapshots: number, maxRows = Number.MAX_SAFE_INTEGER): PurgeResult {
    this.checkWritable();
    const plan = planPurge(this.catalog, retainSnapshots);
    let snapshotsRemoved = 0;
    let logEntriesRemoved = 0;
    let budget = Math.max(1, maxRows);
    if (plan) {
      const keep = this.catalog.filter((c) => c.zxid >= plan.removeBelow);
      snapshotsRemoved = this.catalog.length - keep.length;
      if (snapshotsRemoved > 0) {
        this.write('purge', this.p.logDb, () => this.s.dropSnapsBelow.run(plan.removeBelow));
        this.replaceCatalog(keep);
      }
      if (this.firstLog !== undefined && this.firstLog <= plan.logUpTo) {
        this.write('purge', this.p.logDb, () => {
          logEntriesRemoved = this.s.purgeLog.run(plan.logUpTo, budget).changes;
        });
        budget -= logEntriesRemoved;
        this.firstLog = toBig(this.s.minLog.get());
        if (this.firstLog === undefined) this.lastLog = undefined;
      }
    }
    for (const id of [...this.garbage]) {
      if (budget <= 0) break;
      let dropped = 0;
      this.write('purge', this.p.dataDb, () => {
        dropped = this.s.dropChunks.run(chunkKey(id, 0), chunkKey(id + 1, 0), budget).changes;
      });
      budget -= dropped;
      if (Number(this.s.countChunks.get(chunkKey(id, 0), chunkKey(id + 1, 0))) === 0) this.garbage.delete(id);
    }
    const done = budget > 0 && (!plan || this.firstLog === undefined || this.firstLog > plan.logUpTo) && this.garbage.size === 0;
    if (snapshotsRemoved > 0 || logEntriesRemoved > 0) {
      this.p.logger?.info({ snapshotsRemoved, logEntriesRemoved, oldestKept: plan && hex(plan.removeBelow), done }, 'purged old snapshots and txn log');
    }
    return { snapshotsRemoved, logEntriesRemoved, done };
  }

  checkpointInBackground(): void {
    if (this.checkpointer || this.isClosed) return;
    const dbs = [this.p.dataDb, this.p.logDb];
    const inline = () => {
      if (!this.isClosed) for (const db of dbs) db.pragma('wal_autocheckpoint = 1000');
    };
    const cp = new WalCheckpointer(dbs.map((db) => db.name), this.p.logger, inline);
    if (!cp.start()) return;
    this.checkpointer = cp;
    for (const db of dbs) db.pragma('wal_autocheckpoint = 0');
  }

  describe(): { dataDir: string; dataLogDir: string; files: string[] } {
    return {
      dataDir: this.p.dataDir,
      dataLogDir: this.p.dataLogDir,
      files: [this.p.dataDb.name, this.p.logDb.name, ...this.p.locks.map((l) => l.file)],
    };
  }

  sizes(): { dataBytes: number; logBytes: number } {
    return { dataBytes: fileBytes(this.p.dataDb.name), logBytes: fileBytes(this.p.logDb.name) };
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.checkpointer) this.released = this.checkpointer.stop();
    this.walSync.close();
    this.dataWalSync.close();
    try {
      this.p.logDb.close();
      this.p.dataDb.close();
    } finally {
      for (const lock of this.p.locks) lock.release();
    }
  }

  closed(): Promise<void> {
    return this.released;
  }

  /** One transaction; any failure rolls it back and poisons the store (never retry an fsync). */
  private write(op: string, db: Database.Database, body: () => void): void {
    const fp = this.p.failpoints;
    try {
      db.transaction(() => {
        body();
        if (fp?.failFsync) throw simulatedFsyncError();
        fp?.beforeCommit?.(op);
      })();
    } catch (err) {
      this.failed = err as Error;
      throw new StorageFatalError(`${op} failed on ${db.name}: ${(err as Error).message}`, { cause: err });
    }
  }

  private read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isSqliteDamage(err)) throw this.p.damaged(`storage read failed: ${(err as Error).message}`, err);
      throw new StorageFatalError(`storage read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private checkOpen(): void {
    if (this.isClosed) throw new Error('store is closed');
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failed) throw new StorageFatalError(`store failed earlier and accepts no more writes: ${this.failed.message}`, { cause: this.failed });
  }
}

function fileBytes(file: string): number {
  let total = 0;
  for (const f of [file, `${file}-wal`]) {
    try {
      total += fs.statSync(f).size;
    } catch {
      /* no WAL right now */
    }
  }
  return total;
}
