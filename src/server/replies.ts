import type { JuteWriter } from '../../protocol/jute/writer';
import { writeReplyHeader, writeWatcherEvent } from '../../protocol/jute/records';
import { KeeperState, Xid } from '../../protocol/jute/constants';

/**
 * Frame builders for everything the server sends after the handshake. Every reply is encoded
 * straight into the connection's output buffer: one frame, no intermediate Buffers.
 */
export function writeReply(
  out: JuteWriter,
  xid: number,
  zxid: bigint,
  err: number,
  body?: (w: JuteWriter) => void,
): void {
  out.beginFrame();
  writeReplyHeader(out, { xid, zxid, err });
  // Clients read no body when err != 0 (multi is the exception and passes err 0 itself).
  if (err === 0 && body) body(out);
  out.endFrame();
}

/** How the notification header's zxid is filled: 3.9 sends the triggering zxid, 3.8 sent -1. */
export const NotificationZxid = { trigger: 'trigger', minusOne: 'minusOne' } as const;
export type NotificationZxid = (typeof NotificationZxid)[keyof typeof NotificationZxid];

export function writeNotification(
  out: JuteWriter,
  type: number,
  path: string,
  zxid: bigint,
  mode: NotificationZxid,
): void {
  out.beginFrame();
  writeReplyHeader(out, { xid: Xid.notification, zxid: mode === NotificationZxid.trigger ? zxid : -1n, err: 0 });
  writeWatcherEvent(out, { type, state: KeeperState.syncConnected, path });
  out.endFrame();
}
