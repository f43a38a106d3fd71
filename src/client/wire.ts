import net from 'node:net';
import tls from 'node:tls';
import { EventEmitter } from 'node:events';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import { FrameDecoder } from '../../protocol/jute/framer';
import { OpCode, Xid } from '../../protocol/jute/constants';
import {
  readConnectResponse,
  readReplyHeader,
  readWatcherEvent,
  writeConnectRequest,
  writeRequestHeader,
  type ConnectResponse,
  type WatcherEvent,
} from '../../protocol/jute/records';
import { Feature, readEventDetail, type EventDetail } from '../../protocol/jute/extensions';

export interface WireConnectOptions {
  host: string;
  port: number;
  sessionTimeoutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  lastZxidSeen?: bigint;
  /** Send the trailing readOnly byte of ConnectRequest (3.4+ clients do). */
  readOnly?: boolean;
  connectTimeoutMs?: number;
  maxFrameBytes?: number;
  /** zabkeeper extensions to ask for (protocol/jute/extensions.ts); Apache servers ignore the ask. */
  features?: number;
  /**
   * Connect over TLS (ZooKeeper's secureClientPort) with these options: `ca`, `cert`, `key`,
   * `servername`, ... The server's certificate is verified against `ca` and must name `host`
   * (or `servername`) unless `checkServerIdentity` says otherwise.
   */
  tls?: tls.ConnectionOptions;
}

export interface WireReply<T> {
  xid: number;
  zxid: bigint;
  err: number;
  body: T | undefined;
}

export interface Notification extends WatcherEvent {
  zxid: bigint;
  /** Stat/data after the event (connections granted Feature.resumableWatches only). */
  detail?: EventDetail;
}

interface Waiter {
  xid: number;
  read?: (r: JuteReader) => unknown;
  onReply?: (reply: WireReply<unknown>) => void;
  resolve(reply: WireReply<unknown>): void;
  reject(err: Error): void;
}

/**
 * The connection is gone: closed by either side, reset, or poisoned by a reply we could not
 * decode. Every way a connection fails surfaces as this one class (the socket or decode error is
 * its `cause`), so the client can map all of them to ConnectionLoss: raw `ECONNRESET`s never
 * reach callers.
 */
export class WireClosedError extends Error {
  constructor(message = 'connection closed', cause?: unknown) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.name = 'WireClosedError';
  }
}

/** Wraps whatever broke the connection (socket error, decode error) as a WireClosedError. */
function broken(what: string, err: unknown): WireClosedError {
  return new WireClosedError(`${what}: ${err instanceof Error ? err.message : String(err)}`, err);
}

/**
 * One TCP connection speaking ZooKeeper's client protocol: handshake, pipelined requests matched
 * to replies in order, notifications as events. It knows nothing about reconnects or sessions
 * beyond the handshake; the client library builds those on top. Requests written in one turn
 * leave in one socket write.
 */
export class WireConnection extends EventEmitter {
  private readonly decoder: FrameDecoder;
  private readonly out = new JuteWriter(4096);
  private readonly waiters: Waiter[] = [];
  private flushScheduled = false;
  private nextXid = 1;
  private closed = false;
  session!: ConnectResponse;

  private constructor(
    readonly socket: net.Socket,
    maxFrameBytes: number,
  ) {
    super();
    this.decoder = new FrameDecoder({ maxFrameBytes });
  }

  static connect(o: WireConnectOptions): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = o.tls ? tls.connect({ ...o.tls, host: o.host, port: o.port }).setNoDelay(true) : net.connect({ host: o.host, port: o.port, noDelay: true });
      const conn = new WireConnection(socket, o.maxFrameBytes ?? 0xfffff + 1024);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${o.host}:${o.port} timed out`));
      }, o.connectTimeoutMs ?? 10_000);
      let handshakeDone = false;
      socket.once(o.tls ? 'secureConnect' : 'connect', () => {
        const w = new JuteWriter(64);
        w.beginFrame();
        writeConnectRequest(w, {
          protocolVersion: 0,
          lastZxidSeen: o.lastZxidSeen ?? 0n,
          timeOut: o.sessionTimeoutMs ?? 30_000,
          sessionId: o.sessionId ?? 0n,
          passwd: o.passwd ?? Buffer.alloc(16),
          readOnly: o.readOnly === undefined ? false : o.readOnly,
          ...(o.features !== undefined ? { features: o.features } : {}),
        });
        w.endFrame();
        socket.write(w.toBuffer());
      });
      socket.on('data', (chunk) => {
        try {
          conn.decoder.push(chunk, (frame) => {
            if (!handshakeDone) {
              conn.session = readConnectResponse(new JuteReader(frame));
              handshakeDone = true;
              clearTimeout(timer);
              resolve(conn);
              return;
            }
            conn.onFrame(frame);
          });
        } catch (err) {
          const closed = err instanceof WireClosedError ? err : broken('undecodable reply', err);
          if (!handshakeDone) reject(closed);
          conn.fail(closed);
        }
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        const closed = broken(`connection to ${o.host}:${o.port} failed`, err);
        if (!handshakeDone) reject(closed);
        conn.fail(closed);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (!handshakeDone) reject(new WireClosedError('closed during handshake'));
        conn.fail(new WireClosedError());
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the server granted a zabkeeper extension (never, from Apache ZooKeeper). */
  hasFeature(f: number): boolean {
    return ((this.session?.features ?? 0) & f) !== 0;
  }

  /**
   * Sends one request; the promise settles with its reply (err != 0 is a value, not a throw).
   * `onReply` runs synchronously while the reply frame is handled, before any later frame (such as
   * a notification in the same chunk) is looked at: the client registers watches there.
   */
  request<T>(
    opCode: number,
    write?: (w: JuteWriter) => void,
    read?: (r: JuteReader) => T,
    xid?: number,
    onReply?: (reply: WireReply<T>) => void,
  ): Promise<WireReply<T>> {
    if (this.closed) return Promise.reject(new WireClosedError());
    const id = xid ?? this.nextXid++;
    return new Promise<WireReply<T>>((resolve, reject) => {
      this.out.beginFrame();
      writeRequestHeader(this.out, { xid: id, type: opCode });
      if (write) write(this.out);
      this.out.endFrame();
      this.waiters.push({
        xid: id,
        read,
        onReply: onReply as ((r: WireReply<unknown>) => void) | undefined,
        resolve: resolve as (r: WireReply<unknown>) => void,
        reject,
      });
      this.scheduleFlush();
    });
  }

  ping(): Promise<WireReply<void>> {
    return this.request<void>(OpCode.ping, undefined, undefined, Xid.ping);
  }

  /** Writes raw bytes (hostile-input tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
    this.fail(new WireClosedError());
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (this.out.length === 0 || this.closed) return;
      this.socket.write(this.out.toBuffer());
      this.out.reset();
    });
  }

  private onFrame(frame: Buffer): void {
    const r = new JuteReader(frame);
    const header = readReplyHeader(r);
    if (header.xid === Xid.notification) {
      const ev = readWatcherEvent(r);
      const detail = this.hasFeature(Feature.resumableWatches) && !r.atEnd() ? readEventDetail(r) : undefined;
      this.emit('notification', { ...ev, zxid: header.zxid, ...(detail ? { detail } : {}) } satisfies Notification);
      return;
    }
    // The waiter stays queued until its reply decodes, so that a broken stream fails it (with the
    // rest) through fail(), like any other in-flight request: its outcome is unknown.
    const waiter = this.waiters[0];
    if (!waiter) throw new WireClosedError(`unexpected reply xid ${header.xid}`);
    if (waiter.xid !== header.xid) throw new WireClosedError(`reply out of order: expected xid ${waiter.xid}, got ${header.xid}`);
    const body = header.err === 0 && waiter.read ? waiter.read(r) : undefined;
    this.waiters.shift();
    const reply = { xid: header.xid, zxid: header.zxid, err: header.err, body };
    if (waiter.onReply) waiter.onReply(reply);
    waiter.resolve(reply);
  }

  private fail(err: WireClosedError): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.emit('close', err);
  }
}
