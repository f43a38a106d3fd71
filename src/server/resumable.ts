/**
 * Server side of zabkeeper's protocol extensions (protocol/jute/extensions.ts): which features a
 * connection is granted in the handshake, the event history every applied txn is recorded in, and
 * notifications with an EventDetail (Stat, data) for connections that negotiated it. Apache
 * clients never ask, so they never get any of it.
 */
import { EventType, KeeperState, Xid } from '../../protocol/jute/constants';
import { Feature, writeEventDetail, type EventDetail } from '../../protocol/jute/extensions';
import { writeReplyHeader, writeWatcherEvent } from '../../protocol/jute/records';
import type { JuteWriter } from '../../protocol/jute/writer';
import { DEFAULT_HISTORY_LIMITS, WatchHistory } from '../watch/history';
import type { DataTree } from '../tree';
import type { Delivery } from '../watch';
import type { ServerOptions } from './options';

/** What this server implements. */
export const SUPPORTED_FEATURES = Feature.resumableWatches;

/** undefined when the client asked for nothing (then the ConnectResponse carries no trailer). */
export function grantFeatures(requested: number | undefined): number | undefined {
  return requested === undefined ? undefined : requested & SUPPORTED_FEATURES;
}

export const hasFeature = (granted: number | undefined, f: number): boolean => ((granted ?? 0) & f) !== 0;

export function newWatchHistory(options: ServerOptions): WatchHistory {
  return new WatchHistory(0n, { ...DEFAULT_HISTORY_LIMITS, ...options.watchHistory });
}

export type DetailLookup = (d: Delivery) => EventDetail | undefined;

/**
 * The Stat and data a detailed notification carries, read from the tree right after the txn that
 * fired it (deliveries are written in the same turn as the apply, before the next txn): created and
 * changed carry their node's Stat and data, childrenChanged the parent's Stat, deleted nothing —
 * the same the watch history records for a resumed watch.
 */
export function eventDetail(tree: DataTree, d: Delivery): EventDetail | undefined {
  if (d.type === EventType.nodeDeleted) return undefined;
  const stat = tree.statOf(d.path);
  if (!stat) return undefined;
  return d.type === EventType.nodeChildrenChanged ? { stat } : { stat, data: tree.dataOf(d.path) ?? null };
}

/**
 * A notification followed by an EventDetail (always present, possibly empty, on granted
 * connections). Its header always carries the triggering zxid, whatever `notificationZxid` says:
 * resumable watches position themselves by it.
 */
export function writeDetailedNotification(out: JuteWriter, d: Delivery, detail: EventDetail | undefined): void {
  out.beginFrame();
  writeReplyHeader(out, { xid: Xid.notification, zxid: d.zxid, err: 0 });
  writeWatcherEvent(out, { type: d.type, state: KeeperState.syncConnected, path: d.path });
  writeEventDetail(out, detail ?? {});
  out.endFrame();
}
