/**
 * Server side of zabkeeper's protocol extensions (protocol/jute/extensions.ts): which features a
 * connection is granted in the handshake, the event history every applied txn is recorded in, and
 * notifications with an EventDetail (Stat, data) for connections that negotiated it. Apache
 * clients never ask, so they never get any of it.
 */
import { KeeperState, Xid } from '../../protocol/jute/constants';
import { Feature, writeEventDetail, type EventDetail } from '../../protocol/jute/extensions';
import { writeReplyHeader, writeWatcherEvent } from '../../protocol/jute/records';
import type { JuteWriter } from '../../protocol/jute/writer';
import { DEFAULT_HISTORY_LIMITS, WatchHistory, type HistoryEvent } from '../watch/history';
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

/** The recorded Stat/data for each delivery of one txn (matched by event type and path). */
export function detailLookup(recorded: readonly HistoryEvent[]): DetailLookup {
  return (d) => {
    const ev = recorded.find((e) => e.type === d.type && e.path === d.path && e.zxid === d.zxid);
    if (!ev) return undefined;
    const detail: EventDetail = {};
    if (ev.stat) detail.stat = ev.stat;
    if (ev.data !== undefined) detail.data = ev.data;
    return detail;
  };
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
