import type { Logger } from 'pino';
import { applyTxn, createDatabase, decodeTxn, type ZkDatabase } from '../tree';
// Not '../storage': its index loads the SQLite store, which a memory-store server never needs.
import { StoreCorruptError, type SnapshotInfo, type Store } from '../storage/types';
import { loadSnapshot } from './snapshots';
import { counterOf, zxidHex } from '../util/zxid';
import type { WatchHistory } from '../watch/history';
import { systemClock, type Clock } from '../util/clock';

const REPLAY_PAGE = 10_000;

/**
 * Rebuilds the in-memory database from durable state only: the newest snapshot, then every logged
 * txn after it, in zxid order. Replay runs the same pure `applyTxn` the live path uses, so the tree,
 * sessions and sequence counters come back exactly as they were. Anything that does not line up
 * (a log that skips past the snapshot, a txn that fails to decode) stops the server: starting with
 * a silently shorter history would un-acknowledge writes.
 */
export function recoverDatabase(store: Store, logger: Logger, opts: { replayLog?: boolean; history?: WatchHistory; clock?: Clock } = {}): ZkDatabase {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const snap = store.latestSnapshot();
  const db = snap ? loadLatest(store, snap) : createDatabase();
  const snapshotMs = Math.round(clock.now() - started);
  // Replayed txns are recorded like live ones: resumable watches can resume across a restart.
  opts.history?.reset(db.lastProcessedZxid);
  const first = store.firstLogZxid();
  if (snap && first !== undefined && first > snap.zxid + 1n && store.lastZxid() > snap.zxid) {
    // A gap is only legal across an epoch boundary (counter restarts at 1).
    const entries = store.readLog(snap.zxid, 1);
    if (entries.length > 0 && counterOf(entries[0].zxid) !== 1n) {
      throw new StoreCorruptError(`txn log starts at ${zxidHex(first)} but the newest snapshot is at ${zxidHex(snap.zxid)}: txns are missing`);
    }
  }
  let replayed = 0;
  let after = db.lastProcessedZxid;
  for (; opts.replayLog !== false; ) {
    const page = store.readLog(after, REPLAY_PAGE);
    if (page.length === 0) break;
    for (const entry of page) {
      let txn;
      try {
        txn = decodeTxn(entry.data);
      } catch (err) {
        throw new StoreCorruptError(`txn ${zxidHex(entry.zxid)} in the log cannot be decoded: ${(err as Error).message}`);
      }
      if (txn.zxid !== entry.zxid) throw new StoreCorruptError(`log entry ${zxidHex(entry.zxid)} holds txn ${zxidHex(txn.zxid)}`);
      const { events } = applyTxn(db, txn);
      if (opts.history && events.length > 0) opts.history.recordApplied(db.tree, events);
      replayed++;
    }
    after = page[page.length - 1].zxid;
  }
  logger.info(
    { snapshotZxid: snap ? zxidHex(snap.zxid) : null, replayed, lastZxid: zxidHex(db.lastProcessedZxid), sessions: db.sessions.size, snapshotMs, ms: Math.round(clock.now() - started) },
    'database recovered',
  );
  return db;
}

function loadLatest(store: Store, snap: SnapshotInfo): ZkDatabase {
  try {
    return loadSnapshot(store, snap);
  } catch (err) {
    if (err instanceof StoreCorruptError) throw err;
    throw new StoreCorruptError(`snapshot ${zxidHex(snap.zxid)} cannot be loaded: ${(err as Error).message}`);
  }
}
