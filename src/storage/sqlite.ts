import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { lockDir, type DirLock } from './lock';
import { checkAppend, checkHardState, checkTruncate, checkZxid, hex, historyProblem, isStaleLog, maxOf, planPurge } from './rules';
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

export interface SqliteStoreOptions {
  dataDir: string;
  /** Where the txn log lives; defaults to dataDir. ZooKeeper users put it on its own disk. */
  dataLogDir?: string;
  logger?: Logger;
  failpoints?: Failpoints;
}

export const DATA_DB_FILE = 'zabkeeper.db';
export const LOG_DB_FILE = 'zabkeeper-log.db';
const SCHEMA_VERSION = 1n;
const BUSY_TIMEOUT_MS = 5000;
type Kind = 'data' | 'log';

/*
 * Layout. The log db holds the txn log AND the hard state (epochs), so one SQLite transaction
 * covers everything `persist` writes: no cross-file atomicity is ever needed on the write path.
 * The data db holds snapshots. Both carry the same random store id, so a log paired with the
 * wrong (or a freshly emptied) data dir is refused instead of silently starting from nothing.
 */
const SCHEMA: Record<Kind, string> = {
  log: `CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value NOT NULL);
        CREATE TABLE log (zxid INTEGER PRIMARY KEY NOT NULL, data BLOB NOT NULL);`,
  data: `CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value NOT NULL);
         CREATE TABLE snapshots (zxid INTEGER PRIMARY KEY NOT NULL, created_at INTEGER NOT NULL, data BLOB NOT NULL);`,
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
  try {
    for (const dir of dirs) locks.push(lockDir(dir));
    const dataDb = openDb(path.join(dataDir, DATA_DB_FILE), dbs);
    const logDb = openDb(path.join(dataLogDir, LOG_DB_FILE), dbs);
    initSchemas(dataDb, logDb);
    return new SqliteStore({ dataDir, dataLogDir, dataDb, logDb, locks, logger: opts.logger, failpoints: opts.failpoints });
  } catch (err) {
    for (const db of dbs) closeQuietly(db);
    for (const lock of locks) lock.release();
    throw err;
  }
}

function refuseZooKeeperDir(dir: string): void {
  if (fs.existsSync(path.join(dir, 'version-2'))) {
    throw new StoreCorruptError(`${dir} contains Apache ZooKeeper's version-2/ directory: not a zabkeeper data dir`);
  }
}

function openDb(file: string, opened: Database.Database[]): Database.Database {
  try {
    const db = new Database(file);
    opened.push(db);
    // Check before the journal_mode pragma writes anything to a file we may not own.
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new StoreCorruptError(`${file} failed PRAGMA quick_check: ${String(check)}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreCorruptError(`${file}: cannot enable WAL journal mode (got ${String(mode)})`);
    // FULL: every commit is fsynced, so a returned persist survives power loss (RELIABILITY D1).
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    return db;
  } catch (err) {
    if (err instanceof StoreCorruptError) throw err;
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
  if (meta.get('schema_version') !== SCHEMA_VERSION) {
    throw new StoreCorruptError(`${file} has unknown schema version ${String(meta.get('schema_version'))} (this build reads ${SCHEMA_VERSION})`);
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
function initSchemas(dataDb: Database.Database, logDb: Database.Database): void {
  const data = inspect(dataDb, 'data');
  const log = inspect(logDb, 'log');
  if (data.empty && log.empty) {
    const id = randomUUID();
    createSchema(dataDb, 'data', id);
    createSchema(logDb, 'log', id);
    return;
  }
  if (data.empty) throw new StoreCorruptError(`snapshot database ${dataDb.name} is missing or empty but txn log ${logDb.name} exists`);
  if (log.empty) {
    const snaps = dataDb.prepare('SELECT COUNT(*) FROM snapshots').pluck().get() as number;
    if (snaps > 0) throw new StoreCorruptError(`txn log ${logDb.name} is missing or empty but ${dataDb.name} holds ${snaps} snapshot(s)`);
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
}

class SqliteStore implements Store {
  private readonly s;
  private hs: HardState;
  private firstLog: bigint | undefined;
  private lastLog: bigint | undefined;
  private latestSnap: bigint | undefined;
  private failed: Error | undefined;
  private closed = false;

  constructor(private readonly p: Parts) {
    const { logDb, dataDb } = p;
    const stmt = (db: Database.Database, sql: string) => db.prepare(sql).safeIntegers(true);
    this.s = {
      insertLog: stmt(logDb, 'INSERT INTO log (zxid, data) VALUES (?, ?)'),
      truncate: stmt(logDb, 'DELETE FROM log WHERE zxid > ?'),
      purgeLog: stmt(logDb, 'DELETE FROM log WHERE zxid <= ?'),
      clearLog: stmt(logDb, 'DELETE FROM log'),
      readLog: stmt(logDb, 'SELECT zxid, data FROM log WHERE zxid > ? ORDER BY zxid LIMIT ?'),
      minLog: stmt(logDb, 'SELECT MIN(zxid) FROM log').pluck(),
      maxLog: stmt(logDb, 'SELECT MAX(zxid) FROM log').pluck(),
      maxLogUpTo: stmt(logDb, 'SELECT MAX(zxid) FROM log WHERE zxid <= ?').pluck(),
      minLogAfter: stmt(logDb, 'SELECT MIN(zxid) FROM log WHERE zxid > ?').pluck(),
      setMeta: stmt(logDb, 'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      // A hole is two neighbours that are not a legal succession (see rules.isSuccessor).
      findGap: stmt(
        logDb,
        `SELECT prev, zxid FROM (SELECT zxid, LAG(zxid) OVER (ORDER BY zxid) AS prev FROM log)
         WHERE prev IS NOT NULL AND NOT (((zxid >> 32) = (prev >> 32) AND zxid = prev + 1)
                                      OR ((zxid >> 32) <> (prev >> 32) AND (zxid & 4294967295) = 1))
         LIMIT 1`,
      ),
      putSnap: stmt(dataDb, 'INSERT OR REPLACE INTO snapshots (zxid, created_at, data) VALUES (?, ?, ?)'),
      latestSnap: stmt(dataDb, 'SELECT zxid, created_at, data FROM snapshots ORDER BY zxid DESC LIMIT 1'),
      latestSnapZxid: stmt(dataDb, 'SELECT MAX(zxid) FROM snapshots').pluck(),
      listSnaps: stmt(dataDb, 'SELECT zxid, length(data) AS bytes, created_at FROM snapshots ORDER BY zxid'),
      dropSnaps: stmt(dataDb, 'DELETE FROM snapshots WHERE zxid < ?'),
    };
    const meta = readMeta(logDb);
    this.hs = { acceptedEpoch: Number(meta.get('accepted_epoch') ?? 0n), currentEpoch: Number(meta.get('current_epoch') ?? 0n) };
    this.firstLog = toBig(this.s.minLog.get());
    this.lastLog = toBig(this.s.maxLog.get());
    this.latestSnap = toBig(this.s.latestSnapZxid.get());
    if (isStaleLog(this.lastLog, this.latestSnap)) {
      p.logger?.warn({ lastLog: hex(this.lastLog!), snapshot: hex(this.latestSnap!) }, 'finishing an interrupted snapshot install: dropping the superseded txn log');
      this.clearLog('open');
    }
    this.checkHistory();
  }

  private checkHistory(): void {
    const gap = this.s.findGap.get() as { prev: bigint; zxid: bigint } | undefined;
    const problem = historyProblem({
      firstLog: this.firstLog,
      lastLog: this.lastLog,
      gap: gap && { prev: gap.prev, next: gap.zxid },
      latestSnapshot: this.latestSnap,
      firstLogAfterSnapshot: this.latestSnap === undefined ? undefined : toBig(this.s.minLogAfter.get(this.latestSnap)),
      acceptedEpoch: this.hs.acceptedEpoch,
    });
    if (problem) throw new StoreCorruptError(`${this.p.logDb.name}: ${problem}`);
  }

  persist(batch: PersistBatch): void {
    this.checkWritable();
    const entries = batch.entries ?? [];
    const t = batch.truncateAfter;
    let lastLog = this.lastLog;
    if (t !== undefined) {
      checkTruncate(t, this.latestSnap);
      if (lastLog !== undefined && lastLog > t) lastLog = this.read(() => toBig(this.s.maxLogUpTo.get(t)));
    }
    checkAppend(maxOf(lastLog, this.latestSnap), entries);
    if (batch.hardState) checkHardState(batch.hardState);
    if (t === undefined && entries.length === 0 && !batch.hardState) return;
    this.write('persist', this.p.logDb, () => {
      if (t !== undefined) this.s.truncate.run(t);
      for (const e of entries) this.s.insertLog.run(e.zxid, e.data);
      if (batch.hardState) {
        this.s.setMeta.run('accepted_epoch', BigInt(batch.hardState.acceptedEpoch));
        this.s.setMeta.run('current_epoch', BigInt(batch.hardState.currentEpoch));
      }
    });
    let firstLog = this.firstLog;
    if (t !== undefined && firstLog !== undefined && firstLog > t) firstLog = undefined;
    if (entries.length > 0) {
      firstLog ??= entries[0].zxid;
      lastLog = entries[entries.length - 1].zxid;
    }
    this.firstLog = firstLog;
    this.lastLog = lastLog;
    if (batch.hardState) this.hs = { ...batch.hardState };
  }

  hardState(): HardState {
    return { ...this.hs };
  }

  lastZxid(): bigint {
    return maxOf(this.lastLog, this.latestSnap);
  }

  firstLogZxid(): bigint | undefined {
    return this.firstLog;
  }

  readLog(afterZxid: bigint, limit?: number): LogEntry[] {
    this.checkOpen();
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new Error(`readLog limit ${limit} is invalid`);
    const rows = this.read(() => this.s.readLog.all(afterZxid, limit ?? -1) as { zxid: bigint; data: Buffer }[]);
    return rows.map((r) => ({ zxid: r.zxid, data: r.data }));
  }

  saveSnapshot(zxid: bigint, data: Buffer, createdAt: number): void {
    this.checkWritable();
    checkZxid(zxid, 'snapshot zxid');
    if (!Buffer.isBuffer(data)) throw new Error('snapshot data must be a Buffer');
    if (!Number.isSafeInteger(createdAt)) throw new Error(`snapshot createdAt ${createdAt} must be an integer (ms)`);
    this.write('saveSnapshot', this.p.dataDb, () => this.s.putSnap.run(zxid, BigInt(createdAt), data));
    this.latestSnap = maxOf(this.latestSnap, zxid);
    // A snapshot past the log end replaces history (SNAP sync). The old log is dropped in a second
    // transaction; a crash in between is finished on the next open (isStaleLog).
    if (isStaleLog(this.lastLog, this.latestSnap)) this.clearLog('saveSnapshot');
  }

  private clearLog(op: string): void {
    this.write(op, this.p.logDb, () => this.s.clearLog.run());
    this.firstLog = undefined;
    this.lastLog = undefined;
  }

  latestSnapshot(): Snapshot | undefined {
    this.checkOpen();
    const row = this.read(() => this.s.latestSnap.get() as { zxid: bigint; created_at: bigint; data: Buffer } | undefined);
    return row && { zxid: row.zxid, data: row.data, createdAt: Number(row.created_at) };
  }

  listSnapshots(): SnapshotInfo[] {
    this.checkOpen();
    const rows = this.read(() => this.s.listSnaps.all() as { zxid: bigint; bytes: bigint; created_at: bigint }[]);
    return rows.map((r) => ({ zxid: r.zxid, bytes: Number(r.bytes), createdAt: Number(r.created_at) }));
  }

  /**
   * Snapshots go first: if we crash before the log is trimmed, the extra log entries are merely
   * unneeded. The log is only trimmed up to the oldest kept snapshot, so recovery never needs them.
   */
  purge(retainSnapshots: number): PurgeResult {
    this.checkWritable();
    const plan = planPurge(this.listSnapshots(), retainSnapshots);
    if (!plan) return { snapshotsRemoved: 0, logEntriesRemoved: 0 };
    let snapshotsRemoved = 0;
    let logEntriesRemoved = 0;
    this.write('purge', this.p.dataDb, () => {
      snapshotsRemoved = this.s.dropSnaps.run(plan.removeBelow).changes;
    });
    this.write('purge', this.p.logDb, () => {
      logEntriesRemoved = this.s.purgeLog.run(plan.logUpTo).changes;
    });
    this.firstLog = toBig(this.s.minLog.get());
    if (this.firstLog === undefined) this.lastLog = undefined;
    this.p.logger?.info({ snapshotsRemoved, logEntriesRemoved, oldestKept: hex(plan.removeBelow) }, 'purged old snapshots and txn log');
    return { snapshotsRemoved, logEntriesRemoved };
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
    if (this.closed) return;
    this.closed = true;
    try {
      this.p.logDb.close();
      this.p.dataDb.close();
    } finally {
      for (const lock of this.p.locks) lock.release();
    }
  }

  /** One transaction; any failure rolls it back and poisons the store (never retry an fsync). */
  private write(op: string, db: Database.Database, body: () => void): void {
    const fp = this.p.failpoints;
    try {
      db.transaction(() => {
        body();
        if (fp?.failFsync) throw simulatedFsyncError();
        fp?.beforeCommit?.();
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
      throw new StorageFatalError(`storage read failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('store is closed');
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
