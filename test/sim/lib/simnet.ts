/**
 * An in-memory network with TCP's contract, for the whole-server simulator. Servers and clients
 * get the `Network` interface production code uses (listeners and dials); the sockets and
 * listeners behave like Node's for the subset the server uses (data/end/close/error/connect/
 * timeout events, write, end, destroy, pause/resume, cork, idle timeouts).
 *
 * Each direction of a connection is a FIFO with a random delay. Faults are per pair of hosts:
 *  - `silent`: nothing crosses in either direction — bytes, FINs, resets and new connection
 *    attempts are held, and nobody is told; each side learns only from its own timeouts. On heal
 *    the held packets flow again in order (TCP retransmits).
 *  - `reject`: existing connections are reset on both ends, new ones are refused.
 *  - one-way: bytes from one host to the other are held (the other direction flows).
 * A process that dies (kill -9, fail-stop) closes its sockets with FINs the network delivers like
 * any other packet (so a fast restart may reconnect before the old FIN arrives).
 */
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import type { Network } from '../../../src/util/network';
import type { Prng } from '../../../src/util/prng';
import { IMMEDIATE, IO, TIMERS, type Owner, type World } from './world';

type Packet = { kind: 'syn' } | { kind: 'data'; bytes: Buffer } | { kind: 'fin' } | { kind: 'rst' };

interface Held {
  from: SimSocket;
  pkt: Packet;
}

interface PairState {
  mode: 'ok' | 'silent' | 'reject';
  /** Directions held by a one-way fault, as `${from}>${to}`. */
  oneway: Set<string>;
  held: Held[];
}

const pairKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

export interface NetStats {
  packets: number;
  held: number;
  connects: number;
  refused: number;
}

export class SimNetwork {
  private readonly pairs = new Map<string, PairState>();
  private readonly listeners = new Map<string, SimServer>();
  private readonly sockets = new Set<SimSocket>();
  private nextPort = 40000;
  readonly stats: NetStats = { packets: 0, held: 0, connects: 0, refused: 0 };

  constructor(
    readonly world: World,
    private readonly rng: Prng,
    /** Largest one-way delay in ms (each packet: uniform in [0.1, maxDelay], FIFO per direction). */
    readonly maxDelay: number,
  ) {}

  /** The Network a process on `host` uses; its sockets and timers belong to `owner`. */
  view(host: string, owner: Owner): Network {
    return {
      createServer: (onConnection) => new SimServer(this, host, owner, onConnection) as unknown as net.Server,
      connect: (opts) => this.connect(host, owner, opts.host, opts.port) as unknown as net.Socket,
    };
  }

  // ---------------------------------------------------------------- faults

  private pair(a: string, b: string): PairState {
    const k = pairKey(a, b);
    let p = this.pairs.get(k);
    if (!p) this.pairs.set(k, (p = { mode: 'ok', oneway: new Set(), held: [] }));
    return p;
  }

  /** Nothing crosses between a and b, and nobody is told. */
  cutSilently(a: string, b: string): void {
    this.pair(a, b).mode = 'silent';
  }

  /** Existing connections between a and b are reset (both ends told); new ones are refused. */
  cutLoudly(a: string, b: string): void {
    this.pair(a, b).mode = 'reject';
    for (const s of [...this.sockets]) {
      if (s.peer && ((s.host === a && s.peer.host === b) || (s.host === b && s.peer.host === a)) && s.owner.alive) s.receive({ kind: 'rst' });
    }
  }

  /** Bytes from `from` to `to` are held until healed. */
  blockOneWay(from: string, to: string): void {
    this.pair(from, to).oneway.add(`${from}>${to}`);
  }

  /** Every fault healed; held packets flow again, in order. */
  healAll(): void {
    for (const p of this.pairs.values()) {
      p.mode = 'ok';
      p.oneway.clear();
      const held = p.held;
      p.held = [];
      for (const h of held) this.transmit(h.from, h.pkt, true);
    }
  }

  /**
   * Every connection between a and b is forgotten at a's end without a word to b (a NAT or a
   * firewall dropped its state, or a's FIN was lost): a's process sees a reset; b keeps its end
   * until it writes and the RST comes back, so a dialer a reconnects while b still holds the old
   * connection — a duplicate connection from one peer, whose old bytes may still be in flight.
   */
  forgetAtOneEnd(a: string, b: string): number {
    let n = 0;
    for (const s of [...this.sockets]) {
      if (s.peer && s.host === a && s.peer.host === b && s.state === 'open') {
        n++;
        s.forget();
      }
    }
    return n;
  }

  /** A reset of every connection between a and b (a middlebox, a flapping link). */
  resetBetween(a: string, b: string): number {
    let n = 0;
    for (const s of [...this.sockets]) {
      if (s.peer && s.host === a && s.peer.host === b && !s.destroyed) {
        n++;
        this.transmit(s, { kind: 'rst' });
        s.receive({ kind: 'rst' });
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- processes

  /** kill -9 of `owner`: its listeners vanish; the kernel closes its sockets with FINs. */
  processDied(owner: Owner): void {
    for (const [addr, l] of this.listeners) if (l.owner === owner) this.listeners.delete(addr);
    for (const s of [...this.sockets]) if (s.owner === owner) s.kernelClose();
  }

  listen(server: SimServer, host: string, port: number): void {
    const addr = `${host}:${port}`;
    const current = this.listeners.get(addr);
    if (current && current.owner.alive && current !== server) throw new Error(`EADDRINUSE ${addr}`);
    this.listeners.set(addr, server);
  }

  unlisten(server: SimServer): void {
    for (const [addr, l] of this.listeners) if (l === server) this.listeners.delete(addr);
  }

  ephemeralPort(): number {
    return this.nextPort++;
  }

  track(s: SimSocket): void {
    this.sockets.add(s);
  }

  untrack(s: SimSocket): void {
    this.sockets.delete(s);
  }

  // ---------------------------------------------------------------- packets

  private delay(): number {
    return 0.1 + this.rng.next() * (this.maxDelay - 0.1);
  }

  private connect(host: string, owner: Owner, toHost: string, toPort: number): SimSocket {
    const s = new SimSocket(this, host, owner, this.ephemeralPort());
    s.target = { host: toHost, port: toPort };
    if (!owner.alive) {
      s.kernelClose();
      return s;
    }
    this.stats.connects++;
    this.transmit(s, { kind: 'syn' });
    return s;
  }

  /**
   * Sends a packet from socket `from` toward its peer (or, for a SYN, its target). Held by a
   * fault, or scheduled for delivery after a delay, in FIFO order per direction.
   */
  transmit(from: SimSocket, pkt: Packet, released = false): void {
    const toHost = from.peer?.host ?? from.target?.host;
    if (toHost === undefined) return;
    const p = this.pair(from.host, toHost);
    if (p.mode === 'silent' || (pkt.kind !== 'syn' && p.oneway.has(`${from.host}>${toHost}`)) || (pkt.kind === 'syn' && p.oneway.size > 0)) {
      p.held.push({ from, pkt });
      this.stats.held++;
      return;
    }
    if (p.mode === 'reject' && pkt.kind === 'syn') {
      this.stats.refused++;
      this.world.schedule(from.owner, this.world.timeOf(from.owner) + this.delay(), IO, () => from.refused());
      return;
    }
    const depart = released ? this.world.now : this.world.timeOf(from.owner);
    const at = Math.max(from.lastArrival, depart + this.delay());
    from.lastArrival = at;
    this.stats.packets++;
    if (pkt.kind === 'syn') {
      this.world.schedule(this.world.god, at, IO, () => this.arriveSyn(from));
      return;
    }
    const to = from.peer!;
    this.world.schedule(to.owner, at, IO, () => to.receive(pkt));
  }

  /** A SYN reached its target host: accept it (and answer with the SYN-ACK) or refuse it. */
  private arriveSyn(client: SimSocket): void {
    const t = client.target!;
    const listener = this.listeners.get(`${t.host}:${t.port}`);
    if (!listener || !listener.owner.alive || client.destroyed) {
      if (!client.destroyed) this.world.schedule(client.owner, this.world.now + this.delay(), IO, () => client.refused());
      return;
    }
    const server = new SimSocket(this, t.host, listener.owner, t.port);
    server.peer = client;
    server.remoteAddress = client.host;
    server.remotePort = client.localPort;
    server.state = 'open';
    client.peer = server;
    client.remoteAddress = t.host;
    client.remotePort = t.port;
    this.world.schedule(listener.owner, this.world.now, IO, () => listener.accept(server));
    // The SYN-ACK travels back like data (held by a fault that started meanwhile).
    const back = Math.max(server.lastArrival, this.world.now + this.delay());
    server.lastArrival = back;
    this.world.schedule(client.owner, back, IO, () => client.established());
  }
}

/** The server side of `Network.createServer`: a listener that hands accepted sockets to its callback. */
class SimServer extends EventEmitter {
  private addr: { host: string; port: number } | undefined;

  constructor(
    private readonly net: SimNetwork,
    private readonly host: string,
    readonly owner: Owner,
    private readonly onConnection: (socket: net.Socket) => void,
  ) {
    super();
  }

  listen(opts: { host?: string; port?: number }, cb?: () => void): this {
    const port = opts.port === undefined || opts.port === 0 ? this.net.ephemeralPort() : opts.port;
    this.addr = { host: this.host, port };
    try {
      this.net.listen(this, this.host, port);
    } catch (err) {
      queueMicrotask(() => this.emit('error', err));
      return this;
    }
    if (cb) queueMicrotask(cb);
    return this;
  }

  accept(socket: SimSocket): void {
    if (!this.addr) return void socket.destroy();
    this.onConnection(socket as unknown as net.Socket);
  }

  address(): { address: string; port: number; family: string } | null {
    return this.addr ? { address: this.addr.host, port: this.addr.port, family: 'IPv4' } : null;
  }

  close(cb?: () => void): this {
    this.net.unlisten(this);
    this.addr = undefined;
    if (cb) queueMicrotask(cb);
    return this;
  }
}

/** A TCP socket as the server code sees it. */
export class SimSocket extends EventEmitter {
  peer: SimSocket | undefined;
  target: { host: string; port: number } | undefined;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  state: 'connecting' | 'open' | 'closed' = 'connecting';
  /** Delivery time of the last packet sent in this direction (FIFO). */
  lastArrival = 0;
  private paused = false;
  private inbox: Packet[] = [];
  private pendingWrites: Buffer[] = [];
  private idleMs = 0;
  private idleTimer: { cancel(): void } | undefined;
  private closeEmitted = false;
  /** Closed by `forget`: bytes that still arrive are answered with an RST, as a kernel does. */
  private forgotten = false;

  constructor(
    private readonly net: SimNetwork,
    readonly host: string,
    readonly owner: Owner,
    readonly localPort: number,
  ) {
    super();
    net.track(this);
  }

  get destroyed(): boolean {
    return this.state === 'closed';
  }

  get localAddress(): string {
    return this.host;
  }

  /** The kernel takes every write at once (bytes in flight live in the network): never a backlog, so never 'drain'. */
  get writableLength(): number {
    return 0;
  }

  // ------------------------------------------------------------ the net.Socket subset

  write(data: Buffer | string, cb?: (err?: Error) => void): boolean {
    if (this.state === 'closed') return false;
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    if (this.state === 'connecting') this.pendingWrites.push(bytes);
    else this.net.transmit(this, { kind: 'data', bytes });
    this.touchIdle();
    if (cb) queueMicrotask(() => cb());
    return true;
  }

  end(data?: Buffer | string): this {
    if (data !== undefined) this.write(data);
    // allowHalfOpen is false everywhere we use sockets: ending is closing once the FIN is out.
    this.destroy();
    return this;
  }

  destroy(err?: Error): this {
    if (this.state === 'closed') return this;
    this.state = 'closed';
    this.cancelIdle();
    // Accepted (even if our SYN-ACK is still on its way): the other end hears a FIN.
    if (this.peer) this.net.transmit(this, { kind: 'fin' });
    this.scheduleClose(err);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  cork(): void {}

  uncork(): void {}

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    const inbox = this.inbox;
    this.inbox = [];
    if (inbox.length > 0) this.schedule(() => inbox.forEach((p) => this.receive(p)));
    return this;
  }

  /** Node's idle timeout: 'timeout' after `ms` without traffic (0 turns it off). */
  setTimeout(ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    this.idleMs = ms;
    this.touchIdle();
    return this;
  }

  address(): { address: string; port: number; family: string } {
    return { address: this.host, port: this.localPort, family: 'IPv4' };
  }

  // ------------------------------------------------------------ the network's side

  private schedule(fn: () => void, phase: typeof IO | typeof IMMEDIATE = IO): void {
    this.net.world.schedule(this.owner, this.net.world.timeOf(this.owner), phase, fn);
  }

  private touchIdle(): void {
    this.cancelIdle();
    if (this.idleMs <= 0 || this.state === 'closed') return;
    const w = this.net.world;
    const ev = w.schedule(this.owner, w.timeOf(this.owner) + this.idleMs, TIMERS, () => {
      this.idleTimer = undefined;
      if (this.state !== 'closed') this.emit('timeout');
    });
    this.idleTimer = { cancel: () => void (ev.cancelled = true) };
  }

  private cancelIdle(): void {
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
  }

  private scheduleClose(err?: Error): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.net.untrack(this);
    this.schedule(() => {
      if (err && this.listenerCount('error') > 0) this.emit('error', err);
      this.emit('close', err !== undefined);
    }, IMMEDIATE);
  }

  /** The handshake finished on the dialing side. */
  established(): void {
    // Given up on before the SYN-ACK: destroy() already sent the accepted end a FIN.
    if (this.state !== 'connecting') return;
    this.state = 'open';
    const queued = this.pendingWrites;
    this.pendingWrites = [];
    for (const b of queued) this.net.transmit(this, { kind: 'data', bytes: b });
    this.touchIdle();
    this.emit('connect');
  }

  /** ECONNREFUSED. */
  refused(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelIdle();
    const err = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    this.scheduleClose(err);
  }

  /** The kernel lost this connection: the process sees a reset, the peer is not told. */
  forget(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.forgotten = true;
    this.cancelIdle();
    this.scheduleClose(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  }

  /** A packet arrived from the peer. */
  receive(pkt: Packet): void {
    if (this.state === 'closed') {
      if (this.forgotten && pkt.kind === 'data' && this.peer) {
        this.forgotten = false;
        this.net.transmit(this, { kind: 'rst' });
      }
      return;
    }
    if (this.paused && pkt.kind === 'data') {
      this.inbox.push(pkt);
      return;
    }
    this.touchIdle();
    if (pkt.kind === 'data') {
      this.emit('data', pkt.bytes);
    } else if (pkt.kind === 'fin') {
      this.state = 'closed';
      this.cancelIdle();
      this.emit('end');
      this.scheduleClose();
    } else if (pkt.kind === 'rst') {
      this.state = 'closed';
      this.cancelIdle();
      this.scheduleClose(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    }
  }

  /** The owning process died: the kernel sends a FIN; no event reaches the dead process. */
  kernelClose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelIdle();
    this.net.untrack(this);
    this.closeEmitted = true;
    if (this.peer) this.net.transmit(this, { kind: 'fin' });
  }
}
