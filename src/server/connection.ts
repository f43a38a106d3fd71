import type { Socket } from 'node:net';
import { FrameDecoder, FrameError } from '../../protocol/jute/framer';
import { JuteWriter } from '../../protocol/jute/writer';
import type { Id } from '../../protocol/jute/data';
import type { PendingRequest } from './pending';

/**
 * What a connection needs from the server. The connection owns bytes, framing, the reply FIFO and
 * per-connection counters; every decision about requests is the server's.
 */
export interface ConnectionHost {
  readonly maxFrameBytes: number;
  /** The first 4 bytes of a connection: returns true if they were a four-letter word (handled). */
  onPrelude(conn: ClientConnection, first4: number, rest: Buffer): 'fourLetter' | 'needMore' | 'protocol';
  onConnectFrame(conn: ClientConnection, payload: Buffer): void;
  onRequestFrame(conn: ClientConnection, payload: Buffer): void;
  onClosed(conn: ClientConnection, reason: string): void;
  /** Marks the connection as having output to send at the end of this turn. */
  markDirty(conn: ClientConnection): void;
  /** Called whenever a connection's queue shrinks (backpressure release). */
  onQueueDrained(conn: ClientConnection): void;
  /** Server-wide latency accounting for srvr/mntr and the metrics (`bytes`: size of the reply). */
  noteReply(latencyMs: number, opCode: number, bytes: number): void;
}

export const ConnState = {
  prelude: 'prelude',
  handshake: 'handshake',
  established: 'established',
  closed: 'closed',
} as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

export interface ConnStats {
  packetsReceived: number;
  packetsSent: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
  latencyCount: number;
  lastLatencyMs: number;
  lastOp: string;
  lastCxid: number;
  lastZxid: bigint;
  lastResponseAt: number;
}

function freshStats(): ConnStats {
  return {
    packetsReceived: 0, packetsSent: 0, minLatencyMs: 0, maxLatencyMs: 0, totalLatencyMs: 0,
    latencyCount: 0, lastLatencyMs: 0, lastOp: 'NA', lastCxid: -1, lastZxid: -1n, lastResponseAt: 0,
  };
}

let nextConnectionId = 1;

export class ClientConnection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly establishedAt: number;
  state: ConnState = ConnState.prelude;
  sessionId = 0n;
  timeoutMs = 0;
  /** Whether the client sent the readOnly byte (decides the ConnectResponse length). */
  clientSentReadOnly = false;
  /** zabkeeper extensions granted in the handshake (undefined: the client asked for none). */
  features: number | undefined;
  authIds: Id[];
  stats: ConnStats = freshStats();
  readonly queue: PendingRequest[] = [];
  readonly out = new JuteWriter(1024);
  private readonly decoder: FrameDecoder;
  private prelude: Buffer = Buffer.alloc(0);
  private closeAfterFlush = false;
  private paused = false;
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
    now: number,
    handshakeTimeoutMs: number,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.establishedAt = now;
    this.authIds = [{ scheme: 'ip', id: this.remoteAddress }];
    this.decoder = new FrameDecoder({ maxFrameBytes: host.maxFrameBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => this.destroy('socket error'));
    socket.on('close', () => this.destroy('peer closed'));
    // Slowloris: a client that has not completed its handshake by the deadline is dropped. Partial
    // bytes do not extend it.
    this.handshakeTimer = setTimeout(() => {
      if (this.state === ConnState.prelude || this.state === ConnState.handshake) this.destroy('handshake timeout');
    }, handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get isOpen(): boolean {
    return this.state !== ConnState.closed;
  }

  private onData(chunk: Buffer): void {
    if (this.state === ConnState.closed || this.closeAfterFlush) return;
    try {
      if (this.state === ConnState.prelude) {
        chunk = this.consumePrelude(chunk);
        if (chunk.length === 0) return;
      }
      this.decoder.push(chunk, (payload) => this.onFrame(payload));
    } catch (err) {
      // Oversize/negative lengths and anything unexpected close this connection only.
      this.destroy(err instanceof FrameError ? `frame error: ${err.message}` : `protocol error: ${(err as Error).message}`);
    }
  }

  /** Collects the first 4 bytes to tell a four-letter word from a framed ConnectRequest. */
  private consumePrelude(chunk: Buffer): Buffer {
    const all = this.prelude.length === 0 ? chunk : Buffer.concat([this.prelude, chunk]);
    if (all.length < 4) {
      this.prelude = Buffer.from(all);
      return Buffer.alloc(0);
    }
    const verdict = this.host.onPrelude(this, all.readInt32BE(0), all.subarray(4));
    if (verdict === 'needMore') {
      this.prelude = Buffer.from(all);
      return Buffer.alloc(0);
    }
    this.prelude = Buffer.alloc(0);
    if (verdict === 'fourLetter') return Buffer.alloc(0);
    this.state = ConnState.handshake;
    return all;
  }

  private onFrame(payload: Buffer): void {
    if (this.state === ConnState.closed || this.closeAfterFlush) return;
    this.stats.packetsReceived++;
    if (this.state === ConnState.handshake) {
      this.state = ConnState.established;
      if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
      this.host.onConnectFrame(this, payload);
      return;
    }
    this.host.onRequestFrame(this, payload);
  }

  /** Adds a request to the reply FIFO; pauses reading past the outstanding limit (backpressure). */
  enqueue(req: PendingRequest, maxOutstanding: number): void {
    this.queue.push(req);
    if (this.queue.length >= maxOutstanding && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /**
   * Sends every reply that is ready from the head of the FIFO. Read-like requests execute here, so
   * they observe every write the session made before them.
   */
  drain(now: number, lastCommittedZxid: bigint): void {
    let progressed = false;
    while (this.queue.length > 0 && this.state !== ConnState.closed) {
      const head = this.queue[0];
      if (head.barrierZxid !== undefined && head.barrierZxid > lastCommittedZxid) break;
      const before = this.out.length;
      if (head.exec) {
        head.exec(this.out);
      } else if (head.reply) {
        head.reply(this.out);
      } else {
        break;
      }
      this.queue.shift();
      progressed = true;
      this.noteReply(head, now, this.out.length - before);
      if (head.closeAfter) {
        this.closeAfterFlush = true;
        this.queue.length = 0;
        break;
      }
    }
    if (progressed) {
      this.host.markDirty(this);
      this.host.onQueueDrained(this);
    }
  }

  maybeResume(maxOutstanding: number): void {
    if (this.paused && this.queue.length < Math.max(1, maxOutstanding >> 1)) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private noteReply(req: PendingRequest, now: number, bytes: number): void {
    const s = this.stats;
    const lat = Math.max(0, now - req.receivedAt);
    s.packetsSent++;
    s.lastLatencyMs = lat;
    s.totalLatencyMs += lat;
    s.latencyCount++;
    s.minLatencyMs = s.latencyCount === 1 ? lat : Math.min(s.minLatencyMs, lat);
    s.maxLatencyMs = Math.max(s.maxLatencyMs, lat);
    s.lastResponseAt = now;
    this.host.noteReply(lat, req.opCode, bytes);
  }

  /** Writes raw bytes outside the FIFO (watch notifications, handshake replies, 4lw text). */
  markDirty(): void {
    this.host.markDirty(this);
  }

  /** One socket write per connection per turn: everything encoded this turn leaves together. */
  flushOutput(): void {
    if (this.state === ConnState.closed) return;
    if (this.out.length > 0) {
      const bytes = this.out.toBuffer();
      this.out.reset();
      this.socket.write(bytes);
    }
    if (this.closeAfterFlush) this.endGracefully();
  }

  /** Sends what is buffered, then closes (used after closeSession, auth failure, unknown opcode). */
  closeAfterReplies(): void {
    this.closeAfterFlush = true;
    this.host.markDirty(this);
  }

  get closing(): boolean {
    return this.closeAfterFlush;
  }

  get outstanding(): number {
    return this.queue.length;
  }

  /** Resolves once at most `bytes` wait to be written to the client (or the connection is gone). */
  drained(bytes: number): Promise<void> {
    if (this.socket.writableLength <= bytes || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  writeRaw(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  endGracefully(): void {
    if (this.state === ConnState.closed) return;
    this.socket.end();
    this.destroy('closed by server', false);
  }

  destroy(reason: string, hard = true): void {
    if (this.state === ConnState.closed) return;
    this.state = ConnState.closed;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.queue.length = 0;
    if (hard) this.socket.destroy();
    else {
      // Graceful: what is written still goes out, then our FIN. The socket must also read (and
      // drop) until the peer's FIN: a paused one (server shutdown pauses them all) would stay
      // half-open forever and the listener's close() would never complete. A peer that never
      // closes is cut off after a grace period.
      this.socket.end();
      this.socket.resume();
      setTimeout(() => this.socket.destroy(), GRACEFUL_CLOSE_MS).unref();
    }
    this.host.onClosed(this, reason);
  }

  resetStats(): void {
    this.stats = freshStats();
  }
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, so ip ACLs written for IPv4 match dual-stack sockets. */
/** How long a gracefully closed connection waits for the peer's FIN before it is cut. */
const GRACEFUL_CLOSE_MS = 5000;

export function normalizeAddress(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
