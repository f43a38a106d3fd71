import type net from 'node:net';
import { StorageFatalError } from '../storage/types';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { FrameDecoder } from '../../protocol/jute/framer';
import type { PeerMessage } from '../../protocol/peer/messages';
import { PeerSecurity } from './peerSecurity';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { nodeNetwork, type Network } from '../util/network';
import { systemRng, type Rng } from '../util/rng';

/** One member of the ensemble as the transport sees it: where its peer listener is. */
export interface PeerAddress {
  id: number;
  host: string;
  port: number;
}

/** Frame bodies (the 4-byte length prefix is the transport's). */
export interface PeerBodyCodec {
  encode(msg: PeerMessage): Buffer;
  decode(body: Buffer): PeerMessage;
}

/**
 * Messages that stand for a stream (a SNAP and its body). The shell expands them on the way out and
 * folds them back on the way in, so the core keeps sending and receiving one SNAP.
 */
export interface PeerStreams {
  /**
   * Outgoing: the frames to send in place of `msg`, produced on demand as the socket drains, or
   * undefined for an ordinary message. Messages sent to that peer meanwhile wait behind the stream.
   */
  expand(to: number, msg: PeerMessage): Iterator<PeerMessage> | undefined;
  /** Incoming: the message to deliver (possibly another one), or undefined to swallow a stream frame. Throwing drops the link. */
  receive(from: number, msg: PeerMessage): PeerMessage | undefined;
  /** The link to `peer` is gone: drop any half-received stream from it. */
  down(peer: number): void;
}

export interface PeerTransportOptions {
  self: number;
  /** host undefined: every address (Node's wildcard). */
  listen: { host: string | undefined; port: number };
  peers: readonly PeerAddress[];
  codec: PeerBodyCodec;
  logger: Logger;
  maxFrameBytes: number;
  /** Reconnect backoff bounds in ms. */
  backoff?: { minMs: number; maxMs: number };
  /** How long a dial may take before it is abandoned (an unreachable peer must never block). */
  connectTimeoutMs?: number;
  /** TLS and quorum authentication of links (src/quorum/peerSecurity.ts); default plaintext hello. */
  security?: PeerSecurity;
  /** Sees every message queued and received (metrics: peer RTT, ACK latency, proposal counts). */
  observer?: PeerObserver;
  /** Injected I/O (the simulator's in-memory network, simulated time, a seeded generator); default Node's. */
  network?: Network;
  clock?: Clock;
  rng?: Rng;
  streams?: PeerStreams;
}

const CLOSED_UNHEARD =
  'closed by the peer before it sent anything: is a zabkeeper member with the same server list listening there? (Apache ZooKeeper members cannot join a zabkeeper ensemble)';

interface DialFailure {
  err: string;
  at: number;
}

/**
 * Whether a failed dial is worth a WARN: the first one, a different reason, or the same one a
 * minute later. Redials run every ≤ 2 s; ZooKeeper warns on each, which buries everything else.
 */
export function warnDialFailure(last: DialFailure | undefined, err: string, now: number, everyMs = 60_000): boolean {
  return last === undefined || last.err !== err || now - last.at >= everyMs;
}

/** A stream pauses while more than this is buffered for the socket (flow control). */
const STREAM_HIGH_WATER_BYTES = 1 << 20;

export interface PeerObserver {
  sent(to: number, msg: PeerMessage): void;
  received(from: number, msg: PeerMessage): void;
}


/** What the ZAB driver needs from its peer links. Events: `up`, `down`, `message`, `fatal` (our own store failed under a stream). */
export interface PeerLinks extends EventEmitter {
  send(to: number, msg: PeerMessage): boolean;
  /** Writes everything queued now. */
  flushAll(): void;
  disconnect(peer: number): void;
}

/** A standalone server's links: none (an ensemble of one never sends or hears anything). */
export class NoPeers extends EventEmitter implements PeerLinks {
  send(): boolean {
    return false;
  }

  flushAll(): void {}

  disconnect(): void {}
}

/** OpenSSL's certificate verification failures (and Node's name check) as Node reports them on a TLS client socket. */
const CERT_ERRORS = /^(ERR_TLS_CERT_ALTNAME_INVALID|CERT_|UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|ERR_SSL_.*CERTIFICATE)/;
function isCertificateError(err: NodeJS.ErrnoException): boolean {
  return CERT_ERRORS.test(err.code ?? '');
}

interface Link {
  socket: net.Socket;
  out: Buffer[];
  scheduled: boolean;
  /** A stream being sent; `held` are the messages sent to this peer since it started. */
  stream?: Iterator<PeerMessage>;
  held: PeerMessage[];
}

/**
 * One TCP connection per pair of servers. The server with the larger id dials (ZooKeeper's
 * QuorumCnxManager tie-break), so two servers never keep two connections. The dialer opens with
 * an 8-byte hello (magic + its id). Messages to a peer leave in FIFO order, batched into one write
 * per turn. A broken connection is reported once as `down` and redialed with backoff; sends to a
 * peer that is down are dropped (ZAB and FLE retransmit what matters on `up`).
 *
 * Events: `up` (peerId), `down` (peerId), `message` (peerId, PeerMessage).
 */
export class PeerTransport extends EventEmitter implements PeerLinks {
  private readonly server: net.Server;
  private readonly links = new Map<number, Link>();
  private readonly dialTimers = new Map<number, TimerHandle>();
  private readonly backoffMs = new Map<number, number>();
  /** The last dial failure reported at WARN per peer (warnDialFailure). */
  private readonly dialFailures = new Map<number, DialFailure>();
  private readonly peers: Map<number, PeerAddress>;
  private closed = false;
  private readonly security: PeerSecurity;
  private readonly clock: Clock;
  private readonly rng: Rng;

  constructor(private readonly o: PeerTransportOptions) {
    super();
    this.clock = o.clock ?? systemClock;
    this.rng = o.rng ?? systemRng;
    this.security = o.security ?? new PeerSecurity({ logger: o.logger, timeoutMs: o.connectTimeoutMs ?? 5000, network: o.network, clock: o.clock });
    this.peers = new Map(o.peers.filter((p) => p.id !== o.self).map((p) => [p.id, p]));
    this.server = (o.network ?? nodeNetwork).createServer((socket) => this.onInbound(socket));
    this.server.on('error', (err) => o.logger.error({ err }, 'peer listener error'));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: this.o.listen.host, port: this.o.listen.port }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    for (const id of this.peers.keys()) if (id < this.o.self) this.dial(id);
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : this.o.listen.port;
  }

  isUp(peer: number): boolean {
    return this.links.has(peer);
  }

  send(to: number, msg: PeerMessage): boolean {
    const link = this.links.get(to);
    if (!link) return false;
    if (link.stream) {
      link.held.push(msg);
      return true;
    }
    const stream = this.o.streams?.expand(to, msg);
    if (stream) {
      // Whatever was queued before goes first, then the stream, then what was sent after it.
      this.flushLink(to, link);
      link.stream = stream;
      this.pump(to, link);
      return true;
    }
    this.enqueue(to, link, msg);
    return true;
  }

  /** Bytes waiting to be written to `peer` (queued frames plus the socket's buffer). */
  bufferedBytes(peer: number): number {
    const link = this.links.get(peer);
    if (!link) return 0;
    return link.socket.writableLength + link.out.reduce((n, b) => n + b.length, 0);
  }

  /**
   * The last message encoded and its bytes. The core hands the same PROPOSAL / COMMIT object to
   * every learner, one after the other, so a leader encodes each once instead of once per
   * follower. Keyed by identity: messages are never changed after they are sent.
   */
  private lastEncoded: { msg: PeerMessage; body: Buffer } | undefined;

  private encode(msg: PeerMessage): Buffer {
    if (this.lastEncoded?.msg === msg) return this.lastEncoded.body;
    const body = this.o.codec.encode(msg);
    this.lastEncoded = { msg, body };
    return body;
  }

  private enqueue(to: number, link: Link, msg: PeerMessage): void {
    const body = this.encode(msg);
    this.o.observer?.sent(to, msg);
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(body.length);
    link.out.push(head, body);
    if (!link.scheduled) {
      link.scheduled = true;
      this.clock.setImmediate(() => this.flushLink(to, link));
    }
  }

  /**
   * Writes stream frames while the socket has room; resumes on 'drain'. Each step is one frame (a
   * bounded piece of work), so a stream of any size never holds the event loop or unbounded memory.
   */
  private pump(to: number, link: Link): void {
    if (this.links.get(to) !== link || link.socket.destroyed || !link.stream) return;
    try {
      while (link.socket.writableLength < STREAM_HIGH_WATER_BYTES) {
        const next = link.stream.next();
        if (next.done) {
          link.stream = undefined;
          const held = link.held.splice(0);
          for (const m of held) this.send(to, m);
          return;
        }
        this.writeNow(to, link, next.value);
      }
    } catch (err) {
      this.o.logger.warn({ peer: to, err: (err as Error).message }, 'stream to peer failed; dropping connection');
      link.socket.destroy();
      return;
    }
    link.socket.once('drain', () => this.pump(to, link));
  }

  private writeNow(to: number, link: Link, msg: PeerMessage): void {
    // Stream frames (SNAP chunks) go to one peer: not memoized, so no chunk stays pinned.
    const body = this.o.codec.encode(msg);
    this.o.observer?.sent(to, msg);
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(body.length);
    link.socket.cork();
    link.socket.write(head);
    link.socket.write(body);
    link.socket.uncork();
  }

  /** Writes everything queued for every peer now (the driver calls this at the end of a Ready). */
  flushAll(): void {
    for (const [id, link] of this.links) if (link.out.length > 0) this.flushLink(id, link);
  }

  /** Drops the connection to `peer` (protocol violation, or the core asked); it is redialed later. */
  disconnect(peer: number): void {
    const link = this.links.get(peer);
    if (link) link.socket.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.dialTimers.values()) t.cancel();
    this.dialTimers.clear();
    for (const link of this.links.values()) {
      this.flushLink(-1, link);
      link.socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private flushLink(_peer: number, link: Link): void {
    link.scheduled = false;
    if (link.out.length === 0 || link.socket.destroyed) return;
    const chunks = link.out;
    link.out = [];
    link.socket.cork();
    for (const c of chunks) link.socket.write(c);
    link.socket.uncork();
  }

  private dial(id: number): void {
    if (this.closed || this.links.has(id) || this.dialTimers.has(id)) return;
    const addr = this.peers.get(id)!;
    const { socket, ready } = this.security.dialSocket(addr);
    const timeoutMs = this.o.connectTimeoutMs ?? 5000;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)));
    let established = false;
    socket.once(ready, () => {
      socket.setTimeout(0);
      // The hello (authenticated with quorum auth) names us; frames flow only after it.
      this.security.dialHello(socket, this.o.self, id).then(
        (rest) => {
          if (this.closed || socket.destroyed) return void socket.destroy();
          established = true;
          this.attach(id, socket, rest);
        },
        (err: Error) => {
          this.o.logger.warn({ peer: id, err: err.message }, 'peer handshake failed');
          socket.destroy();
        },
      );
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A certificate the peer cannot be trusted with is worth an operator's attention at once;
      // other dial failures (refused, unresolved) are reported by dialFailed, rate-limited.
      if (isCertificateError(err)) this.o.logger.warn({ peer: id, err: err.message, code: err.code }, 'peer certificate not trusted; dropping the link');
      else this.dialFailed(id, addr, err.message);
    });
    socket.once('close', () => {
      if (!established) this.scheduleRedial(id);
    });
  }

  /** The first frame from a peer: the link works, so redials start from the shortest backoff again. */
  private peerAnswered(id: number): void {
    this.backoffMs.delete(id);
    const addr = this.peers.get(id);
    if (this.dialFailures.delete(id) && addr) this.o.logger.info({ peer: id, address: `${addr.host}:${addr.port}` }, 'connected to peer');
  }

  /** A member sitting in LOOKING because a server line is wrong or a peer unreachable must say so. */
  private dialFailed(id: number, addr: PeerAddress, err: string): void {
    const fields = { peer: id, address: `${addr.host}:${addr.port}`, err };
    if (!warnDialFailure(this.dialFailures.get(id), err, this.clock.now())) return void this.o.logger.debug(fields, 'peer dial error');
    this.dialFailures.set(id, { err, at: this.clock.now() });
    this.o.logger.warn(fields, 'cannot connect to peer; retrying');
  }

  private scheduleRedial(id: number): void {
    if (this.closed || this.dialTimers.has(id) || id >= this.o.self) return;
    const { minMs, maxMs } = this.o.backoff ?? { minMs: 50, maxMs: 2000 };
    const last = this.backoffMs.get(id) ?? minMs / 2;
    const next = Math.min(maxMs, last * 2);
    this.backoffMs.set(id, next);
    // Jitter keeps servers that restarted together from dialing in lockstep.
    const t = this.clock.setTimeout(() => {
      this.dialTimers.delete(id);
      this.dial(id);
    }, next * (0.5 + this.rng.next() / 2));
    this.dialTimers.set(id, t);
  }

  private onInbound(raw: net.Socket): void {
    if (this.closed) return void raw.destroy();
    raw.setNoDelay(true);
    raw.on('error', () => undefined);
    // Only known members with a larger id dial us; anything else is not a peer of this ensemble.
    const mayDial = (id: number): boolean => this.peers.has(id) && id > this.o.self;
    this.security
      .acceptSocket(raw)
      .then(async (socket) => {
        socket.on('error', () => undefined);
        const { id, rest } = await this.security.acceptHello(socket, this.o.self, mayDial);
        if (this.closed) return void socket.destroy();
        // A second connection from the same peer (it restarted, or its old connection died without a
        // FIN reaching us): the old one is gone, and `down` says so before `up`, so nothing the peer
        // said on the old connection (its lease echoes, its ACKs) is counted for the new one.
        const old = this.links.get(id);
        if (old) {
          this.links.delete(id);
          old.socket.destroy();
          this.o.streams?.down(id);
          this.emit('down', id);
        }
        this.attach(id, socket, rest);
      })
      .catch((err: Error) => {
        this.o.logger.warn({ remote: raw.remoteAddress, err: err.message }, 'rejected peer connection');
        raw.destroy();
      });
  }

  private attach(id: number, socket: net.Socket, initial: Buffer): void {
    const link: Link = { socket, out: [], scheduled: false, held: [] };
    const decoder = new FrameDecoder({ maxFrameBytes: this.o.maxFrameBytes });
    this.links.set(id, link);
    let heard = false;
    const onFrame = (body: Buffer) => {
      if (!heard) {
        heard = true;
        this.peerAnswered(id);
      }
      let msg: PeerMessage | undefined;
      try {
        msg = this.o.codec.decode(body);
        if (this.o.streams) msg = this.o.streams.receive(id, msg);
      } catch (err) {
        // Our own store failing under a stream (a SNAP chunk hitting a full disk) is not the peer's
        // fault: dropping the link would only resync into the same failure forever. Fail-stop.
        if (err instanceof StorageFatalError) return void this.emit('fatal', err);
        this.o.logger.warn({ peer: id, err: (err as Error).message }, 'malformed peer frame; dropping connection');
        socket.destroy();
        return;
      }
      if (!msg) return;
      this.o.observer?.received(id, msg);
      this.emit('message', id, msg);
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, onFrame);
      } catch (err) {
        this.o.logger.warn({ peer: id, err: (err as Error).message }, 'bad peer framing; dropping connection');
        socket.destroy();
      }
    });
    socket.once('close', () => {
      // Dialled, accepted, closed with not one frame: whatever listens there is no member of this
      // ensemble. Say so, and keep backing off instead of redialling it 25 times a second.
      if (!heard && id < this.o.self) this.dialFailed(id, this.peers.get(id)!, CLOSED_UNHEARD);
      if (this.links.get(id) !== link) return;
      this.links.delete(id);
      link.stream = undefined;
      this.o.streams?.down(id);
      this.emit('down', id);
      this.scheduleRedial(id);
    });
    this.emit('up', id);
    if (initial.length > 0) socket.emit('data', initial);
  }
}
