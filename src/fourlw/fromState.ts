import type { WatchManager } from '../watch';
import type { SessionTracker } from '../session';
import type { ServerSnapshot } from './snapshot';

/**
 * Fills the watch fields of a ServerSnapshot from the live WatchManager. ZooKeeper's wchs/wchc/wchp
 * walk only the data-watch table and print session ids, so connections are mapped to their session
 * (connections without one, or not in `sessionOf`, print as 0x0). zk_watch_count counts both tables.
 */
export function watchFields(
  w: WatchManager,
  sessionOf: (conn: number) => bigint | undefined,
): Pick<ServerSnapshot, 'watchSummary' | 'watchesBySession' | 'watchesByPath' | 'watchCount'> {
  const sid = (conn: number): bigint => sessionOf(conn) ?? 0n;
  return {
    watchCount: w.count(),
    watchSummary: { connections: w.connectionCount('data'), paths: w.pathCount('data'), total: w.dataTableCount() },
    watchesBySession: [...w.byConnection('data')].map(([conn, paths]) => [sid(conn), paths]),
    watchesByPath: [...w.byPath('data')].map(([path, conns]) => [path, conns.map(sid)]),
  };
}

/**
 * Session fields for `dump`. `toWallMs` converts the tracker's clock to wall-clock ms (identity when
 * the tracker is fed Date.now()).
 */
export function sessionFields(
  t: SessionTracker,
  toWallMs: (trackerMs: number) => number = (ms) => ms,
): Pick<ServerSnapshot, 'sessionBuckets' | 'sessionCount'> {
  return {
    sessionBuckets: t.dumpBuckets().map((b) => ({ expiresAtMs: toWallMs(b.expiresAt), sessions: b.sessions })),
    sessionCount: t.size,
  };
}
