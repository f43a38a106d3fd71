/**
 * A ZooKeeper client for the whole-server simulator: real jute frames over the simulated network,
 * written with the protocol codecs (protocol/jute) and nothing of the server. Like the Java
 * client it pings when idle for a third of the session timeout, gives up on a server that has
 * been silent for two thirds of it, moves to another server and resumes its session there (or
 * starts a new one once told the session expired). It has no watch re-registration: a new
 * connection starts with no watches.
 *
 * Everything it sees is reported to `ClientChecks`, where the simulator's client-side invariants
 * live; the workload calls `act()` to issue one request.
 */
import type net from 'node:net';
import { AddWatchMode, CreateFlags, ErrorCode, EventType, OpCode, Perms } from '../../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE, type ACL, type Id, type Stat } from '../../../protocol/jute/data';
import { FrameDecoder } from '../../../protocol/jute/framer';
import { JuteReader } from '../../../protocol/jute/reader';
import { JuteWriter } from '../../../protocol/jute/writer';
import {
  readConnectResponse,
  readCreateResponse,
  readGetDataResponse,
  readReplyHeader,
  readStat,
  readWatcherEvent,
  writeAddWatchRequest,
  writeAuthPacket,
  writeConnectRequest,
  writeCreateRequest,
  writeDeleteRequest,
  writeExistsRequest,
  writeGetChildrenRequest,
  writeGetDataRequest,
  writeRequestHeader,
  writeSetDataRequest,
  writeSyncRequest,
} from '../../../protocol/jute/records';
import { generateDigest } from '../../../src/acl/digest';
import type { Network } from '../../../src/util/network';
import type { Prng } from '../../../src/util/prng';
import type { Clock, TimerHandle } from '../../../src/util/clock';
import { SimViolation } from './world';

export type WatchKind = 'data' | 'exist' | 'child' | 'recursive';

export interface Armed {
  path: string;
  kind: WatchKind;
  /** Changes with a zxid above this must be announced before any reply past them. */
  seenUpTo: bigint;
}

/** What the simulator checks about what clients see. */
export interface ClientChecks {
  /** A write was acknowledged (the reply header carries its txn's zxid). */
  acked(c: SimClient, what: string, zxid: bigint): void;
  /** Every reply (and ping answer) header: watch events due at or below `zxid` must have come first. */
  reply(c: SimClient, zxid: bigint, armed: readonly Armed[]): void;
  /** A notification; its header zxid is the txn that raised it. */
  event(c: SimClient, type: number, path: string, zxid: bigint): void;
  /** sync, then a read on the same connection: the read must see `ackedBefore`. */
  syncRead(c: SimClient, readZxid: bigint, ackedBefore: bigint): void;
  /** The highest zxid of any write acknowledged so far (to any client). */
  maxAcked(): bigint;
  /** The client is closing its session (before the request leaves), or learned it expired. */
  sessionEnded(c: SimClient, sessionId: bigint, how: 'expired' | 'closing'): void;
  /** The server closed the connection in the middle of a request (its outcome is unknown). */
  note(c: SimClient, what: string): void;
}

interface Pending {
  xid: number;
  opCode: number;
  decode?: (r: JuteReader) => unknown;
  done(err: number, zxid: bigint, body: unknown): void;
}

export const ALICE = 'alice:secret';
/** Nodes under /secret are readable by alice only: watchers without her auth must not hear of them. */
export const SECRET_ACL: ACL[] = [{ perms: Perms.all, id: { scheme: 'digest', id: generateDigest(ALICE) } }];

export class SimClient {
  state: 'idle' | 'connecting' | 'handshake' | 'connected' | 'stopped' = 'idle';
  sessionId = 0n;
  private passwd: Buffer = Buffer.alloc(16);
  private timeoutMs: number;
  private lastZxid = 0n;
  private socket: net.Socket | undefined;
  private decoder = new FrameDecoder({ maxFrameBytes: 1 << 22 });
  private readonly out = new JuteWriter(1024);
  private pending: Pending[] = [];
  private xid = 1;
  private lastSend = 0;
  private lastRecv = 0;
  private timer: TimerHandle | undefined;
  private serverIndex: number;
  armed: Armed[] = [];
  /** Identities this client has (ip, and digest for alice). */
  readonly authIds: Id[];
  private seq = 0;
  connectedTo: string | undefined;
  /** Last time the server answered anything (a live session's contact, for the expiry checker). */
  lastOkAt = -1;
  stats = { requests: 0, replies: 0, lost: 0, events: 0, reconnects: 0, sessions: 0 };

  constructor(
    readonly id: number,
    readonly host: string,
    private readonly net: Network,
    private readonly clock: Clock,
    private readonly rng: Prng,
    private readonly servers: readonly string[],
    private readonly checks: ClientChecks,
    sessionTimeoutMs: number,
    readonly alice: boolean,
  ) {
    this.timeoutMs = sessionTimeoutMs;
    this.serverIndex = rng.int(servers.length);
    this.authIds = [{ scheme: 'ip', id: host }];
    if (alice) this.authIds.push({ scheme: 'digest', id: generateDigest(ALICE) });
  }

  get negotiatedTimeoutMs(): number {
    return this.timeoutMs;
  }

  start(): void {
    if (this.state === 'idle') this.connect();
  }

  /** The client process stops (kill -9): no close, its session will expire. */
  stop(): void {
    this.state = 'stopped';
    this.timer?.cancel();
    this.socket?.destroy();
  }

  // ------------------------------------------------------------ connection

  private connect(): void {
    this.state = 'connecting';
    this.decoder = new FrameDecoder({ maxFrameBytes: 1 << 22 });
    this.pending = [];
    this.armed = [];
    this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    const host = this.servers[this.serverIndex]!;
    this.connectedTo = host;
    const s = this.net.connect({ host, port: 2181 });
    this.socket = s;
    s.on('error', () => undefined);
    s.on('close', () => this.lost(s, 'closed'));
    s.on('connect', () => {
      if (this.socket !== s) return;
      this.state = 'handshake';
      this.out.beginFrame();
      writeConnectRequest(this.out, { protocolVersion: 0, lastZxidSeen: this.lastZxid, timeOut: this.timeoutMs, sessionId: this.sessionId, passwd: this.passwd, readOnly: false });
      this.out.endFrame();
      this.flush();
    });
    s.on('data', (chunk: Buffer) => {
      if (this.socket !== s) return;
      this.lastRecv = this.clock.now();
      try {
        this.decoder.push(chunk, (frame) => this.onFrame(frame));
      } catch (err) {
        throw new SimViolation(`client ${this.id}: undecodable bytes from ${host}: ${(err as Error).message}`);
      }
    });
    this.lastSend = this.lastRecv = this.clock.now();
    this.arm();
  }

  private lost(s: net.Socket, why: string): void {
    if (this.socket !== s) return;
    this.socket = undefined;
    const wasPending = this.pending.length;
    this.pending = [];
    this.armed = [];
    if (wasPending > 0) this.stats.lost += wasPending;
    if (this.state === 'stopped') return;
    this.checks.note(this, `disconnected from ${this.connectedTo} (${why})`);
    this.state = 'connecting';
    this.stats.reconnects++;
    this.timer?.cancel();
    // Back off a little, then try the next server (as the Java client does).
    this.timer = this.clock.setTimeout(() => this.connect(), 5 + this.rng.next() * 30);
  }

  /** Idle ping every third of the session timeout; give up after two thirds of silence. */
  private arm(): void {
    this.timer?.cancel();
    const period = Math.max(5, this.timeoutMs / 6);
    this.timer = this.clock.setTimeout(() => this.onTimer(), period);
  }

  private onTimer(): void {
    if (this.state === 'stopped' || !this.socket) return;
    const now = this.clock.now();
    if (now - this.lastRecv > (this.timeoutMs * 2) / 3) {
      const s = this.socket;
      s.destroy();
      this.lost(s, 'read timeout');
      return;
    }
    if (this.state === 'connected' && now - this.lastSend >= this.timeoutMs / 3) this.ping();
    this.arm();
  }

  private flush(): void {
    if (!this.socket || this.out.length === 0) return;
    const bytes = this.out.toBuffer();
    this.out.reset();
    this.socket.write(bytes);
    this.lastSend = this.clock.now();
  }

  private onFrame(frame: Buffer): void {
    const r = new JuteReader(frame, 0, frame.length, { maxBufferBytes: 1 << 22 });
    if (this.state === 'handshake') return this.onConnectResponse(r);
    const h = readReplyHeader(r);
    if (h.zxid > 0n && h.zxid > this.lastZxid) this.lastZxid = h.zxid;
    if (h.xid === -1) {
      const ev = readWatcherEvent(r);
      this.stats.events++;
      this.checks.event(this, ev.type, ev.path, h.zxid);
      this.fire(ev.type, ev.path, h.zxid);
      return;
    }
    this.lastOkAt = this.clock.now();
    if (h.xid === -2 || h.xid === -4) {
      this.checks.reply(this, h.zxid, this.armed);
      return;
    }
    const p = this.pending.shift();
    if (!p || p.xid !== h.xid) throw new SimViolation(`client ${this.id}: reply xid ${h.xid} but expected ${p?.xid} (replies out of request order)`);
    this.stats.replies++;
    this.checks.reply(this, h.zxid, this.armed);
    const body = h.err === ErrorCode.ok && p.decode ? p.decode(r) : undefined;
    p.done(h.err, h.zxid, body);
  }

  private onConnectResponse(r: JuteReader): void {
    const resp = readConnectResponse(r);
    if (resp.timeOut <= 0 || resp.sessionId === 0n) {
      // Our session is gone: start a new one.
      if (this.sessionId !== 0n) this.checks.sessionEnded(this, this.sessionId, 'expired');
      this.sessionId = 0n;
      this.passwd = Buffer.alloc(16);
      this.socket?.destroy();
      return;
    }
    if (resp.sessionId !== this.sessionId) this.stats.sessions++;
    this.sessionId = resp.sessionId;
    this.passwd = resp.passwd ?? Buffer.alloc(16);
    this.timeoutMs = resp.timeOut;
    this.state = 'connected';
    this.lastOkAt = this.clock.now();
    if (this.alice) {
      this.out.beginFrame();
      writeRequestHeader(this.out, { xid: -4, type: OpCode.auth });
      writeAuthPacket(this.out, { type: 0, scheme: 'digest', auth: Buffer.from(ALICE) });
      this.out.endFrame();
      this.flush();
    }
  }

  private request(opCode: number, body: ((w: JuteWriter) => void) | undefined, decode: Pending['decode'], done: Pending['done']): void {
    const xid = this.xid++;
    this.out.beginFrame();
    writeRequestHeader(this.out, { xid, type: opCode });
    body?.(this.out);
    this.out.endFrame();
    this.pending.push({ xid, opCode, decode, done });
    this.stats.requests++;
    this.flush();
  }

  private ping(): void {
    this.out.beginFrame();
    writeRequestHeader(this.out, { xid: -2, type: OpCode.ping });
    this.out.endFrame();
    this.flush();
  }

  // ------------------------------------------------------------ watches

  private arm_(path: string, kind: WatchKind, zxid: bigint): void {
    if (kind !== 'recursive' && this.armed.some((a) => a.path === path && a.kind === kind)) return;
    this.armed.push({ path, kind, seenUpTo: zxid });
  }

  /** A notification fires (and clears) the one-shot watches it concerns. */
  private fire(type: number, path: string, zxid: bigint): void {
    this.armed = this.armed.filter((a) => {
      if (a.kind === 'recursive') {
        if ((path === a.path || path.startsWith(a.path === '/' ? '/' : `${a.path}/`)) && zxid > a.seenUpTo) a.seenUpTo = zxid;
        return true;
      }
      if (a.path !== path) return true;
      if (type === EventType.nodeChildrenChanged) return a.kind !== 'child';
      if (type === EventType.nodeDeleted) return false;
      return a.kind === 'child';
    });
  }

  // ------------------------------------------------------------ the workload

  /** Issues one request at random, if connected and not too busy. */
  act(): void {
    if (this.state !== 'connected' || this.pending.length > 8) return;
    const r = this.rng.next();
    const n = ++this.seq;
    const value = Buffer.from(`c${this.id}-${n}`);
    if (r < 0.2) {
      const path = `/w/c${this.id}-${n}`;
      this.request(OpCode.create, (w) => writeCreateRequest(w, { path, data: value, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.persistent }), readCreateResponse, (err, zxid) => {
        if (err === ErrorCode.ok) this.checks.acked(this, `create ${path}`, zxid);
      });
    } else if (r < 0.3) {
      const path = `/e/c${this.id}-${n}`;
      this.request(OpCode.create, (w) => writeCreateRequest(w, { path, data: value, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.ephemeral }), readCreateResponse, (err, zxid) => {
        if (err === ErrorCode.ok) this.checks.acked(this, `create ephemeral ${path}`, zxid);
      });
    } else if (r < 0.45) {
      const path = `/r/${this.rng.int(4)}`;
      this.request(OpCode.setData, (w) => writeSetDataRequest(w, { path, data: value, version: -1 }), readStat, (err, zxid) => {
        if (err === ErrorCode.ok) this.checks.acked(this, `setData ${path}`, zxid);
      });
    } else if (r < 0.55) {
      const path = `/r/${this.rng.int(4)}`;
      this.request(OpCode.getData, (w) => writeGetDataRequest(w, { path, watch: true }), readGetDataResponse, (err, zxid) => {
        if (err === ErrorCode.ok) this.arm_(path, 'data', zxid);
      });
    } else if (r < 0.63) {
      const path = `/w/c${this.rng.int(6)}-${this.rng.int(Math.max(1, n))}`;
      this.request(OpCode.exists, (w) => writeExistsRequest(w, { path, watch: true }), readStat, (err, zxid) => {
        if (err === ErrorCode.ok || err === ErrorCode.noNode) this.arm_(path, err === ErrorCode.ok ? 'data' : 'exist', zxid);
      });
    } else if (r < 0.73) {
      // sync + read, pipelined on this connection: the read must include every write
      // acknowledged (to anyone) before the sync left.
      const ackedBefore = this.checks.maxAcked();
      const path = `/r/${this.rng.int(4)}`;
      this.request(OpCode.sync, (w) => writeSyncRequest(w, { path }), undefined, () => undefined);
      this.request(OpCode.getData, (w) => writeGetDataRequest(w, { path, watch: false }), readGetDataResponse, (err, zxid) => {
        if (err === ErrorCode.ok) this.checks.syncRead(this, zxid, ackedBefore);
      });
    } else if (r < 0.78) {
      this.request(OpCode.getChildren, (w) => writeGetChildrenRequest(w, { path: '/e', watch: true }), undefined, (err, zxid) => {
        if (err === ErrorCode.ok) this.arm_('/e', 'child', zxid);
      });
    } else if (r < 0.84) {
      const path = `/secret/c${this.id}-${n}`;
      const acl = this.alice ? SECRET_ACL : OPEN_ACL_UNSAFE;
      this.request(OpCode.create, (w) => writeCreateRequest(w, { path, data: value, acl, flags: CreateFlags.persistent }), readCreateResponse, (err, zxid) => {
        if (err === ErrorCode.ok) this.checks.acked(this, `create ${path}`, zxid);
      });
    } else if (r < 0.87) {
      if (this.armed.some((a) => a.kind === 'recursive')) return;
      this.request(OpCode.addWatch, (w) => writeAddWatchRequest(w, { path: '/secret', mode: AddWatchMode.persistentRecursive }), undefined, (err, zxid) => {
        if (err === ErrorCode.ok) this.arm_('/secret', 'recursive', zxid);
      });
    } else if (r < 0.95) {
      const path = `/w/c${this.id}-${this.rng.int(Math.max(1, n))}`;
      this.request(OpCode.delete, (w) => writeDeleteRequest(w, { path, version: -1 }), undefined, (err, zxid) => {
        if (err === ErrorCode.ok) this.checks.acked(this, `delete ${path}`, zxid);
      });
    } else if (r < 0.97) {
      // End the session; the next connection starts a new one.
      const sid = this.sessionId;
      this.checks.sessionEnded(this, sid, 'closing');
      this.request(OpCode.closeSession, undefined, undefined, (err) => {
        if (err !== ErrorCode.ok) return;
        if (this.sessionId === sid) {
          this.sessionId = 0n;
          this.passwd = Buffer.alloc(16);
        }
      });
    }
  }

  /** The barrier write after healing. */
  createForBarrier(path: string): void {
    if (this.state !== 'connected') return;
    this.request(OpCode.create, (w) => writeCreateRequest(w, { path, data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.persistent }), readCreateResponse, (err, zxid) => {
      if (err === ErrorCode.ok) this.checks.acked(this, `create ${path}`, zxid);
    });
  }

  /** Creates the workload's parents (once, by client 1). */
  setup(done: () => void): void {
    const paths = ['/w', '/e', '/r', '/secret', '/r/0', '/r/1', '/r/2', '/r/3'];
    let left = paths.length;
    for (const path of paths) {
      this.request(OpCode.create, (w) => writeCreateRequest(w, { path, data: null, acl: OPEN_ACL_UNSAFE, flags: CreateFlags.persistent }), undefined, (err) => {
        if (err !== ErrorCode.ok && err !== ErrorCode.nodeExists) return;
        if (--left === 0) done();
      });
    }
  }
}

export type { Stat };
