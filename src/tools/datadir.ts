import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { assertNoErrors, loadConfig } from '../config';
import { DATA_DB_FILE, LOG_DB_FILE, openSqliteStore, readSnapshotBytes, StoreLockedError, type SnapshotInfo, type Store } from '../storage';
import { applyTxn, createDatabase, decodeTxn, deserializeSnapshot, type Txn, type ZkDatabase } from '../tree';

/**
 * The data tools' access to a data dir, offline: the server must be stopped (its lock is held
 * otherwise; `zabkeeper backup` takes a snapshot from a running one). Nothing is ever created:
 * a directory that is not a zabkeeper data dir is an error, not a new empty store.
 */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

export interface DataDirs {
  dataDir: string;
  dataLogDir: string;
}

/** --data-dir/--data-log-dir, else dataDir/dataLogDir of --config. */
export function resolveDataDirs(o: { dataDir?: string; dataLogDir?: string; config?: string }): DataDirs {
  if (o.dataDir) return { dataDir: path.resolve(o.dataDir), dataLogDir: path.resolve(o.dataLogDir ?? o.dataDir) };
  if (!o.config) throw new ToolError('give --data-dir DIR or --config zoo.cfg');
  const cfg = assertNoErrors(loadConfig(o.config, { requireDataDir: true }), o.config);
  return { dataDir: cfg.dataDir, dataLogDir: cfg.dataLogDir ?? cfg.dataDir };
}

const quiet = pino({ level: 'silent' });

/** Opens an existing store (never creates one); a running server's store is refused with its pid. */
export function openExisting(dirs: DataDirs): Store {
  for (const [dir, file] of [[dirs.dataDir, DATA_DB_FILE], [dirs.dataLogDir, LOG_DB_FILE]] as const) {
    if (!fs.existsSync(path.join(dir, file))) throw new ToolError(`${dir} is not a zabkeeper data dir (no ${file})`);
  }
  try {
    return openSqliteStore({ dataDir: dirs.dataDir, dataLogDir: dirs.dataLogDir, logger: quiet });
  } catch (err) {
    if (err instanceof StoreLockedError) throw new ToolError(`${err.message}; stop the server first, or take a snapshot of the running server with \`zabkeeper backup\``);
    throw err;
  }
}

/** The newest snapshot, or the one at `zxid`. */
export function pickSnapshot(store: Store, zxid?: bigint): SnapshotInfo | undefined {
  const all = store.listSnapshots();
  if (zxid === undefined) return all[all.length - 1];
  const found = all.find((s) => s.zxid === zxid);
  if (!found) throw new ToolError(`no snapshot at 0x${zxid.toString(16)}; snapshots: ${all.map((s) => `0x${s.zxid.toString(16)}`).join(', ') || 'none'}`);
  return found;
}

/** Txns after `afterZxid`, in zxid order, a page at a time. */
export function* txnsAfter(store: Store, afterZxid: bigint): Generator<Txn> {
  for (let after = afterZxid; ; ) {
    const page = store.readLog(after, 10_000);
    if (page.length === 0) return;
    for (const e of page) yield decodeTxn(e.data);
    after = page[page.length - 1]!.zxid;
  }
}

export interface LoadedSnapshot {
  db: ZkDatabase;
  source: string;
}

/**
 * A snapshot to inspect: a data dir (its newest snapshot or the one at `zxid`; with `replay`, plus
 * every txn logged after it: what a standalone server starts with; an ensemble member's log tail may
 * hold proposals never committed) or a snapshot file written by `zabkeeper backup`.
 */
export function loadSnapshotFrom(spec: string, o: { zxid?: bigint; replay?: boolean; dataLogDir?: string } = {}): LoadedSnapshot {
  const stat = fs.statSync(spec, { throwIfNoEntry: false });
  if (!stat) throw new ToolError(`${spec}: no such file or directory`);
  if (stat.isFile()) return { db: deserializeSnapshot(fs.readFileSync(spec)), source: spec };
  const store = openExisting({ dataDir: path.resolve(spec), dataLogDir: path.resolve(o.dataLogDir ?? spec) });
  try {
    const info = pickSnapshot(store, o.zxid);
    const db = info ? deserializeSnapshot(readSnapshotBytes(store, info)) : createDatabase();
    if (o.replay) {
      for (const txn of txnsAfter(store, db.lastProcessedZxid)) applyTxn(db, txn);
    }
    return { db, source: `${spec} (snapshot ${info ? `0x${info.zxid.toString(16)}` : 'none'}${o.replay ? ' + log' : ''})` };
  } finally {
    store.close();
  }
}

