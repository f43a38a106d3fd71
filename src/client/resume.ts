/**
 * Resumable watches, client side (zabkeeper's extension, protocol/README.md): attaching a
 * PersistentWatch with resumeWatch from its position, paging through the replayed history,
 * falling back to "from now" plus a `resync` event when the server's history no longer reaches
 * back, and re-attaching every resumable watch after each reconnect, wherever it lands.
 *
 * Each attach is driven from the reply frames themselves (WireConnection.request's onReply runs
 * before any later frame is looked at), so a watch starts taking live notifications exactly
 * after the reply that ends its replay: nothing in between is lost, nothing is taken twice.
 */
import { AddWatchMode, EventType } from '../../protocol/jute/constants';
import {
  ExtErrorCode,
  ExtOpCode,
  RESUME_FROM_NOW,
  ResumeFlags,
  readResumeWatchResponse,
  writeResumeWatchRequest,
  type ResumeWatchResponse,
  type ResumedEvent,
} from '../../protocol/jute/extensions';
import { errorFromCode } from './errors';
import type { EventTypeName, WatchedEvent } from './types';
import type { PersistentWatch } from './watches';
import type { WireConnection, WireReply } from './wire';

export interface ResumeHost {
  serverPath(clientPath: string): string;
  clientPath(serverPath: string): string;
  /** A reply arrived with this zxid (the client's lastZxidSeen bookkeeping). */
  noteZxid(zxid: bigint): void;
}

const eventTypeName = new Map<number, EventTypeName>(Object.entries(EventType).map(([k, v]) => [v, k as EventTypeName]));

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class Resumer {
  /** Resumable watches taking live events on the current connection. */
  private readonly attached = new Set<PersistentWatch>();
  private readonly waiters = new Map<PersistentWatch, Waiter>();

  constructor(
    private readonly host: ResumeHost,
    /** Page budget asked of the server: well inside the client's frame limit. */
    private readonly pageBytes: number,
  ) {}

  /** Attaches `w` on `conn`; resolves once it takes live events (on this or a later connection). */
  attach(w: PersistentWatch, conn: WireConnection): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.set(w, { resolve, reject }));
    this.send(w, conn, false);
    return done;
  }

  /**
   * After a reconnect: every resumable watch starts again from its position, and says
   * `syncConnected` once the replay is through (for them it means "caught up and live again").
   */
  reattachAll(watches: readonly PersistentWatch[], conn: WireConnection): void {
    for (const w of watches) this.send(w, conn, true);
  }

  /** The connection is gone: nothing is attached until re-attached. */
  detachAll(): void {
    for (const w of this.attached) w.attached = false;
    this.attached.clear();
  }

  /** Every attached watch has received all its events up to `zxid` (a reply came after them). */
  caughtUp(zxid: bigint): void {
    for (const w of this.attached) w.caughtUp(zxid);
  }

  /** The client closed: pending attaches fail with `err`. */
  closeAll(err: Error): void {
    for (const waiter of this.waiters.values()) waiter.reject(err);
    this.waiters.clear();
    this.detachAll();
  }

  forget(w: PersistentWatch): void {
    this.attached.delete(w);
    w.attached = false;
    this.waiters.get(w)?.reject(new Error('watch closed'));
    this.waiters.delete(w);
  }

  private send(w: PersistentWatch, conn: WireConnection, announce: boolean): void {
    w.attached = false;
    this.attached.delete(w);
    const from = w.received;
    conn
      .request<ResumeWatchResponse>(
        ExtOpCode.resumeWatch,
        (wr) =>
          writeResumeWatchRequest(wr, {
            path: this.host.serverPath(w.path),
            mode: AddWatchMode[w.mode],
            afterZxid: from ? from.zxid : RESUME_FROM_NOW,
            afterSeen: from ? from.seen : -1,
            maxBytes: this.pageBytes,
            flags: w.includeData ? ResumeFlags.includeData : 0,
          }),
        readResumeWatchResponse,
        undefined,
        (reply) => this.onReply(w, conn, reply, announce),
      )
      // A connection lost mid-attach is re-attached by the next one.
      .catch(() => undefined);
  }

  private onReply(w: PersistentWatch, conn: WireConnection, reply: WireReply<ResumeWatchResponse>, announce: boolean): void {
    this.host.noteZxid(reply.zxid);
    if (w.stream.isDone) return;
    if (reply.err === ExtErrorCode.historyPurged) {
      // The server no longer has every event after our position: start from now and say so.
      w.received = undefined;
      w.stream.push({ type: 'none', state: 'syncConnected', path: w.path, resync: true });
      this.send(w, conn, false);
      return;
    }
    if (reply.err !== 0) {
      const err = errorFromCode(reply.err, w.path);
      const waiter = this.waiters.get(w);
      this.waiters.delete(w);
      if (waiter) waiter.reject(err);
      else w.stream.fail(err);
      return;
    }
    for (const e of reply.body!.events) w.deliver(this.toEvent(e));
    if (reply.body!.more) {
      this.send(w, conn, announce);
      return;
    }
    w.attached = true;
    w.caughtUp(reply.zxid);
    this.attached.add(w);
    if (announce) w.stream.push({ type: 'none', state: 'syncConnected', path: w.path });
    this.waiters.get(w)?.resolve();
    this.waiters.delete(w);
  }

  private toEvent(e: ResumedEvent): WatchedEvent {
    const ev: WatchedEvent = { type: eventTypeName.get(e.type) ?? 'none', state: 'syncConnected', path: this.host.clientPath(e.path), zxid: e.zxid };
    if (e.stat) ev.stat = e.stat;
    if (e.data !== undefined) ev.data = e.data;
    return ev;
  }
}
