/**
 * Deterministic simulator for the pure quorum core (the whole-server simulator is sim.ts): 3 or 5 voters (plus sometimes an observer) in one
 * process, driven by one seeded PRNG. Links are TCP-like FIFO connections: random delay but in
 * order, dropped on partition, crash or reset (both ends see peerDown). A one-way partition stalls
 * a direction (as TCP would) until it heals or the connection times out. Each server runs its
 * Readies through production's executor (`executeReady`, src/quorum/execute.ts, with production's
 * send policy) into a memory store on a disk of its own; a crash keeps only that disk, and a
 * restart builds the core from what it holds (`durableStateOf`). Invariant checkers run on every
 * store write, send, apply and role change; after the fault phase everything heals and the
 * ensemble must commit a barrier write on every server.
 */
import { QuorumCore } from '../../../src/quorum/core/core';
import type { Entry } from '../../../src/quorum/core/log';
import type { PlantedBugs, Ready, RoleEvent } from '../../../src/quorum/core/types';
import { durableStateOf, executeReady, sendPolicy, type ReadyTarget } from '../../../src/quorum/execute';
import { createMemoryStore, newMemoryDisk, type MemoryDisk } from '../../../src/storage/memory';
import { decodeSnapshotRef, encodeSnapshotRef, readSnapshotBytes, writeSnapshotBytes, type SnapshotRef } from '../../../src/storage/bodies';
import type { PersistBatch, Store } from '../../../src/storage/types';
import { entryPayload, sealEntry } from '../../../src/util/checksum';
import { isSuccessor, zxidHex } from '../../../src/util/zxid';
import { quorumTiming, type QuorumTiming } from '../../../src/quorum/core/timing';
import { Prng } from '../../../src/util/prng';
import type { PeerMessage } from '../../../protocol/peer/messages';
import { EventQueue } from './queue';
import { ackProblem, committedLost, committedOnDisk, durableLast, epochsProblem, flappingProblem, overriding, type SimResult as SimResultOf } from './checks';

export interface SimOptions {
  seed: number;
  bugs?: PlantedBugs;
  trace?: boolean;
  /** Fault-phase length in units of F (TICK scaled by syncLimit; default 150). */
  faultTicks?: number;
  /**
   * Turn off the direct persist-before-ACK checker, to show that the end-to-end checks (lost
   * acknowledged writes, prefix consistency) catch the planted persistence bugs on their own.
   */
  endToEndOnly?: boolean;
  /** Leader zxid counter limit (test hook): small values force frequent epoch rollovers. */
  counterMax?: bigint;
  /** Time after healing (units of F) within which a barrier write must reach every server (default 150). */
  livenessTicks?: number;
  /** zoo.cfg limits (in ticks of tickTime); random per seed when absent. */
  limits?: { syncLimit: number; initLimit: number };
}

export interface SimStats {
  voters: number;
  observers: number;
  events: number;
  messages: number;
  writesAcked: number;
  committed: number;
  faults: string[];
  elections: number;
  endTick: number;
  syncLimit: number;
  initLimit: number;
}

export type SimResult = SimResultOf<SimStats>;

import { SimViolation } from './world';
export { SimViolation };

const TICK = 10; // time units per core tick; message delays are a few units
/** The simulated zoo.cfg tickTime, in time units. */
const TICK_TIME = 100;

/** Retained snapshots when the shell purges after a snapshot (ZooKeeper's autopurge minimum). */
const PURGE_RETAIN = 3;
/** A SNAP from a leader that has no snapshot yet names the empty state (as server/snapsync.ts does). */
const EMPTY_REF: SnapshotRef = { id: 0, chunks: 0, bytes: 0, checksum: 0, createdAt: 0 };

/**
 * The state machine is the committed sequence itself, so a count and the last zxid describe it;
 * that pair is what a snapshot body holds.
 */
function stateBody(count: number, zxid: bigint): Buffer {
  return Buffer.from(`${count}:${zxid}`);
}

function parseState(body: Buffer): { count: number; zxid: bigint } {
  const [count, zxid] = body.toString().split(':');
  return { count: Number(count), zxid: BigInt(zxid!) };
}

/** A txn's client value (entries travel and rest sealed with their checksum). */
function valueOf(e: { data: Buffer }): string {
  return entryPayload(e.data).toString();
}

function writesAnything(r: Ready): boolean {
  return r.entries.length > 0 || r.hardState !== undefined || r.snapshot !== undefined || r.truncateAfter !== undefined;
}

/** Thrown from the shell's send hook at an armed failpoint: the process dies there. */
class FailpointCrash extends Error {}

interface SimNode {
  id: number;
  observer: boolean;
  alive: boolean;
  incarnation: number;
  core: QuorumCore | undefined;
  /** What survives a crash: everything this server's stores committed. */
  disk: MemoryDisk;
  /** This incarnation's store on `disk`, with the persistence checkers around its writes. */
  store: Store;
  /** Where executeReady sends this incarnation's Readies. */
  target: ReadyTarget | undefined;
  /** The Ready being executed: its message count, how many have left, and the kind of ACK among them. */
  sending: { total: number; sent: number; acked: 'ack' | 'newLeaderAck' | undefined };
  appliedCount: number;
  appliedZxid: bigint;
  /** SIGSTOP: no ticks, no deliveries until this time; missed ticks are replayed on resume. */
  pausedUntil: number;
  missedTicks: number;
  /** Connections that closed while paused, noticed on resume. */
  deferredDowns: number[];
  /** Client syncs in request order: `zxid` once answered; the read must then see `ackedPos`. */
  syncs: Array<{ ackedPos: number; zxid?: bigint }>;
}

interface Link {
  q: Array<{ at: number; msg: PeerMessage }>;
  lastAt: number;
  retry: boolean;
}

type Ev =
  | { k: 'tick' }
  | { k: 'deliver'; from: number; to: number; gen: number }
  | { k: 'connect'; a: number; b: number }
  | { k: 'down'; node: number; peer: number; inc: number }
  | { k: 'restart'; node: number }
  | { k: 'close'; a: number; b: number; gen: number }
  | { k: 'resume'; node: number; inc: number }
  | { k: 'fault' }
  | { k: 'healPartition'; id: number }
  | { k: 'heal' }
  | { k: 'write' }
  | { k: 'read' }
  | { k: 'sync' };

type FaultKind = 'crash' | 'crashAll' | 'failpoint' | 'partition' | 'isolateLeader' | 'oneway' | 'silent' | 'reset' | 'compact' | 'pause';
const FAULT_KINDS: readonly FaultKind[] = ['crash', 'crashAll', 'failpoint', 'partition', 'isolateLeader', 'oneway', 'silent', 'reset', 'compact', 'pause'];

export class Simulation {
  private readonly rng: Prng;
  private readonly q = new EventQueue<Ev>();
  private now = 0;
  private readonly nodes = new Map<number, SimNode>();
  private readonly ids: number[];
  private readonly voterIds: number[];
  private readonly observerIds: number[];
  private readonly conns = new Map<string, { up: boolean; gen: number }>();
  private readonly links = new Map<string, Link>();
  private readonly cut = new Set<string>();
  private readonly blocked = new Set<string>();
  /** Pairs cut silently: bytes held, closes and resets too; each side learns only by its own timeouts. */
  private readonly silent = new Set<string>();
  /** Ends that closed across a silent cut: the other end hears of it when the cut heals. */
  private heldDowns: Array<{ node: number; peer: number; inc: number }> = [];
  private partitionId = 0;
  /** Armed failpoints: crash this server right after it sends an ACK (of a PROPOSAL or of NEWLEADER). */
  private readonly armed = new Map<number, 'ack' | 'newLeaderAck' | 'fsync'>();
  private readonly maxDelay: number;
  private readonly faultKinds: FaultKind[];
  private readonly faultEnd: number;
  private readonly deadline: number;
  private healed = false;
  private done = false;
  private readonly limits: { syncLimit: number; initLimit: number };
  private readonly timing: QuorumTiming;
  /** Fault time unit: TICK scaled by syncLimit (a partition lasts a few syncLimits whatever they are). */
  private readonly F: number;
  /** After the barrier: the ensemble must keep its leader, untouched, until this time. */
  private quietUntil: number | undefined;
  private quietLeader: { id: number; epoch: number } | undefined;

  // checker state
  private readonly global: Entry[] = [];
  private readonly globalIndex = new Map<bigint, number>();
  private readonly proposed = new Map<bigint, string>();
  private readonly leaderOfEpoch = new Map<number, number>();
  private readonly pendingWrites = new Map<string, { node: number; inc: number }>();
  /** Global position of the highest write acknowledged to a client so far. */
  private ackedMaxPos = -1;
  private writeSeq = 0;
  private barrier: { value: string; node: number; inc: number } | undefined;

  readonly trace: string[] = [];
  readonly stats: SimStats;

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    const voters = this.rng.bool(0.5) ? 3 : 5;
    const observers = this.rng.bool(0.25) ? 1 : 0;
    this.voterIds = Array.from({ length: voters }, (_, i) => i + 1);
    this.observerIds = Array.from({ length: observers }, (_, i) => voters + i + 1);
    this.ids = [...this.voterIds, ...this.observerIds];
    this.maxDelay = this.rng.pick([2, 5, 9, 14]);
    this.faultKinds = FAULT_KINDS.filter(() => this.rng.bool(0.6));
    if (this.faultKinds.length === 0) this.faultKinds.push(this.rng.pick(FAULT_KINDS));
    this.limits = opts.limits ?? this.randomLimits();
    this.timing = quorumTiming({ tickTimeMs: TICK_TIME, ...this.limits });
    // Core ticks are TICK units long; fault durations scale with syncLimit, so every seed sees as
    // many timeouts during its fault phase whatever its limits are.
    this.F = TICK * Math.max(1, this.timing.syncLimitTicks / 5);
    this.faultEnd = (opts.faultTicks ?? 150) * this.F;
    this.deadline = this.faultEnd + (opts.livenessTicks ?? 150) * this.F;
    this.stats = {
      voters,
      observers,
      events: 0,
      messages: 0,
      writesAcked: 0,
      committed: 0,
      faults: [],
      elections: 0,
      endTick: 0,
      syncLimit: this.limits.syncLimit,
      initLimit: this.limits.initLimit,
    };
    for (const id of this.ids) {
      const disk = newMemoryDisk();
      this.nodes.set(id, {
        id,
        observer: this.observerIds.includes(id),
        alive: false,
        incarnation: 0,
        core: undefined,
        disk,
        // Opened again, with the checkers around it, at every start.
        store: createMemoryStore({ disk }),
        target: undefined,
        sending: { total: 0, sent: 0, acked: undefined },
        appliedCount: 0,
        appliedZxid: 0n,
        pausedUntil: 0,
        missedTicks: 0,
        deferredDowns: [],
        syncs: [],
      });
    }
    this.log(`seed ${opts.seed}: ${voters} voters, ${observers} observers, delay<=${this.maxDelay}, syncLimit=${this.limits.syncLimit} initLimit=${this.limits.initLimit}, faults ${this.faultKinds.join(',')}`);
  }

  /** Any limits ZooKeeper accepts, weighted towards the smallest (GUIDE: test limits at their minimum). */
  private randomLimits(): { syncLimit: number; initLimit: number } {
    const syncLimit = this.rng.pick([1, 1, 2, 2, 3]);
    return { syncLimit, initLimit: this.rng.pick([1, 2, 5, 10]) };
  }

  // ------------------------------------------------------------------ driver

  run(): SimResult {
    try {
      for (const id of this.ids) this.start(id);
      this.schedule(TICK, { k: 'tick' });
      this.schedule(this.rng.range(5, 40), { k: 'write' });
      this.schedule(this.rng.range(5, 40), { k: 'read' });
      this.schedule(this.rng.range(5, 40), { k: 'sync' });
      this.schedule(this.rng.range(10, 40) * this.F, { k: 'fault' });
      this.schedule(this.faultEnd, { k: 'heal' });
      while (!this.done) {
        const item = this.q.pop();
        if (!item) throw new SimViolation('event queue ran dry');
        this.now = item.at;
        if (this.now > this.deadline && this.quietUntil === undefined) throw new SimViolation(`liveness: no barrier write on every server ${this.deadline - this.faultEnd} units after healing; ${this.describe()}`);
        this.stats.events++;
        this.handle(item.ev);
      }
      this.stats.endTick = Math.floor(this.now / TICK);
      this.log(`ok: ${this.global.length} committed, ${this.stats.writesAcked} acked`);
      return { ok: true, seed: this.opts.seed, trace: this.trace, stats: this.stats };
    } catch (e) {
      if (!(e instanceof SimViolation)) throw e;
      this.stats.endTick = Math.floor(this.now / TICK);
      this.log(`VIOLATION: ${e.message}`);
      return { ok: false, seed: this.opts.seed, failure: e.message, trace: this.trace, stats: this.stats };
    }
  }

  private schedule(delay: number, ev: Ev, key = this.rng.next()): void {
    this.q.push({ at: this.now + delay, key, ev });
  }

  private log(line: string): void {
    if (this.opts.trace) this.trace.push(`[${String(this.now).padStart(6)}] ${line}`);
  }

  private handle(ev: Ev): void {
    switch (ev.k) {
      case 'tick':
        return this.onTick();
      case 'deliver':
        return this.onDeliver(ev.from, ev.to, ev.gen);
      case 'connect':
        return this.connect(ev.a, ev.b);
      case 'down': {
        const n = this.nodes.get(ev.node)!;
        if (!n.alive || n.incarnation !== ev.inc || !n.core) return;
        // A stopped process notices the close only after SIGCONT.
        if (this.isPaused(n)) return void n.deferredDowns.push(ev.peer);
        n.core.peerDown(ev.peer);
        return this.drain(n);
      }
      case 'restart':
        return this.start(ev.node);
      case 'close':
        if (this.conn(ev.a, ev.b).gen === ev.gen) this.breakConn(ev.a, ev.b);
        return;
      case 'resume':
        return this.resume(ev.node, ev.inc);
      case 'fault':
        return this.onFault();
      case 'healPartition':
        if (ev.id === this.partitionId) this.healNetwork();
        return;
      case 'heal':
        return this.onHeal();
      case 'write':
        return this.onWrite();
      case 'read':
        return this.onRead();
      case 'sync':
        return this.onSync();
    }
  }

  private onTick(): void {
    const order = this.rng.shuffle([...this.ids]);
    for (const id of order) {
      const n = this.nodes.get(id)!;
      if (!n.alive || !n.core) continue;
      if (this.isPaused(n)) {
        n.missedTicks++;
        continue;
      }
      n.core.tick();
      this.drain(n);
    }
    if (this.quietUntil !== undefined && this.now >= this.quietUntil) this.done = true;
    else if (this.healed) this.checkBarrier();
    if (!this.done) this.schedule(TICK, { k: 'tick' }, -2);
  }

  // ------------------------------------------------------------------ nodes

  private start(id: number): void {
    const n = this.nodes.get(id)!;
    if (n.alive) return;
    n.alive = true;
    n.incarnation++;
    n.pausedUntil = 0;
    n.missedTicks = 0;
    n.deferredDowns = [];
    n.syncs = [];
    n.store = this.checkingStore(n, createMemoryStore({ disk: n.disk }));
    const d = durableStateOf(n.store);
    const snap = n.store.latestSnapshot();
    const state = snap ? parseState(readSnapshotBytes(n.store, snap)) : { count: 0, zxid: 0n };
    n.appliedCount = state.count;
    n.appliedZxid = state.zxid;
    n.core = new QuorumCore(
      {
        id,
        voters: this.voterIds,
        observers: this.observerIds,
        electionTimeoutTicks: this.timing.electionTimeoutTicks,
        syncLimitTicks: this.timing.syncLimitTicks,
        initLimitTicks: this.timing.initLimitTicks,
        pingIntervalTicks: this.timing.pingIntervalTicks,
        rng: this.rng.fork(),
        counterMax: this.opts.counterMax,
      },
      d,
      { bugs: this.opts.bugs, hooks: { snapshot: () => this.snapshotForSync(n) } },
    );
    n.target = this.readyTarget(n);
    this.log(`n${id} start #${n.incarnation} (accepted=${d.acceptedEpoch} current=${d.currentEpoch} last=${zxidHex(n.core.status().lastZxid)})`);
    this.drain(n);
    for (const other of this.ids) if (other !== id) this.schedule(this.rng.range(1, 2 * TICK), { k: 'connect', a: id, b: other });
  }

  private isPaused(n: SimNode): boolean {
    return n.pausedUntil > this.now;
  }

  private pause(n: SimNode, ticks: number): void {
    n.pausedUntil = this.now + ticks * this.F;
    n.missedTicks = 0;
    this.log(`n${n.id} PAUSE for ${ticks} ticks`);
    this.schedule(ticks * this.F, { k: 'resume', node: n.id, inc: n.incarnation }, -3);
  }

  /**
   * SIGCONT. The shell drives ticks from a monotonic clock, so the missed ticks are delivered
   * first, before any message that queued up meanwhile (and before any read is served).
   */
  private resume(id: number, inc: number): void {
    const n = this.nodes.get(id)!;
    if (!n.alive || n.incarnation !== inc || !n.core) return;
    n.pausedUntil = 0;
    this.log(`n${id} RESUME (${n.missedTicks} missed ticks)`);
    const downs = n.deferredDowns;
    n.deferredDowns = [];
    for (const peer of downs) {
      n.core.peerDown(peer);
      this.drain(n);
      if (!n.core) return;
    }
    const missed = n.missedTicks;
    n.missedTicks = 0;
    for (let i = 0; i < missed && n.core; i++) {
      n.core.tick();
      this.drain(n);
    }
  }

  private crash(id: number): void {
    const n = this.nodes.get(id)!;
    if (!n.alive) return;
    n.alive = false;
    n.core = undefined;
    n.target = undefined;
    this.log(`n${id} CRASH`);
    for (const other of this.ids) {
      if (other === id) continue;
      // Like kill -9 under TCP: bytes already sent still arrive, then the peer sees the close.
      const c = this.conn(id, other);
      const out = this.link(id, other);
      this.link(other, id).q = [];
      if (!c.up || out.q.length === 0) this.breakConn(id, other);
      else this.q.push({ at: out.lastAt, key: 2, ev: { k: 'close', a: id, b: other, gen: c.gen } });
    }
  }

  /** learner.afterAck / learner.afterAckNewLeader = crash: die before applying or persisting anything more. */
  private failpointCrash(n: SimNode, what: string): void {
    this.armed.delete(n.id);
    this.log(`n${n.id} failpoint after ${what}: crash`);
    this.crash(n.id);
    this.schedule(this.rng.range(3, 40) * this.F, { k: 'restart', node: n.id });
  }

  /** As server/snapsync.ts: a SNAP names this server's newest durable snapshot (or the empty state). */
  private snapshotForSync(n: SimNode): { zxid: bigint; data: Buffer } {
    const s = n.store.latestSnapshot();
    return { zxid: s?.zxid ?? 0n, data: encodeSnapshotRef(s ?? EMPTY_REF) };
  }

  /** A SNAP leaves with the body its descriptor names, read from the sender's store, as the shell streams it. */
  private wireOut(n: SimNode, msg: PeerMessage): PeerMessage {
    if (msg.type !== 'snap') return msg;
    const ref = decodeSnapshotRef(msg.data);
    return { ...msg, data: ref.id === 0 ? stateBody(0, 0n) : readSnapshotBytes(n.store, { ...ref, zxid: msg.zxid }) };
  }

  /** A SNAP arrives: its body is written to the receiver's store first, and the core gets a descriptor of that local body. */
  private wireIn(n: SimNode, msg: PeerMessage): PeerMessage {
    if (msg.type !== 'snap') return msg;
    return { ...msg, data: encodeSnapshotRef(writeSnapshotBytes(n.store, msg.zxid, msg.data, this.now)) };
  }

  // ------------------------------------------------------------------ network

  private pairKey(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  private conn(a: number, b: number): { up: boolean; gen: number } {
    const k = this.pairKey(a, b);
    let c = this.conns.get(k);
    if (!c) this.conns.set(k, (c = { up: false, gen: 0 }));
    return c;
  }

  private link(from: number, to: number): Link {
    const k = `${from}>${to}`;
    let l = this.links.get(k);
    if (!l) this.links.set(k, (l = { q: [], lastAt: 0, retry: false }));
    return l;
  }

  private connect(a: number, b: number): void {
    const na = this.nodes.get(a)!;
    const nb = this.nodes.get(b)!;
    const c = this.conn(a, b);
    if (c.up || !na.alive || !nb.alive) return;
    const paused = [na, nb].find((n) => this.isPaused(n));
    if (paused) return this.q.push({ at: paused.pausedUntil + 1, key: this.rng.next(), ev: { k: 'connect', a, b } });
    if (this.cut.has(this.pairKey(a, b)) || this.silent.has(this.pairKey(a, b))) {
      this.schedule(this.rng.range(1, 3) * TICK, { k: 'connect', a, b });
      return;
    }
    c.up = true;
    c.gen++;
    this.link(a, b).q = [];
    this.link(b, a).q = [];
    na.core!.peerUp(b);
    this.drain(na);
    nb.core!.peerUp(a);
    this.drain(nb);
  }

  /**
   * `a` closes the connection: in-flight bytes are lost, both ends learn at once, and it redials
   * later. Across a silent cut only `a` knows; `b` hears of it when the cut heals (its own timeout
   * may tell it first).
   */
  private breakConn(a: number, b: number): void {
    const c = this.conn(a, b);
    if (!c.up) return;
    c.up = false;
    c.gen++;
    this.link(a, b).q = [];
    this.link(b, a).q = [];
    const silent = this.silent.has(this.pairKey(a, b));
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const n = this.nodes.get(x)!;
      if (!n.alive) continue;
      if (silent && x === b) this.heldDowns.push({ node: x, peer: y, inc: n.incarnation });
      else this.schedule(0, { k: 'down', node: x, peer: y, inc: n.incarnation }, -1);
    }
    this.schedule(this.rng.range(1, 3) * TICK, { k: 'connect', a, b });
  }

  private sendMsg(n: SimNode, to: number, msg: PeerMessage): void {
    const c = this.conn(n.id, to);
    if (!c.up) return;
    this.stats.messages++;
    const l = this.link(n.id, to);
    const at = Math.max(l.lastAt, this.now + this.rng.range(1, this.maxDelay));
    l.lastAt = at;
    l.q.push({ at, msg: this.wireOut(n, msg) });
    this.q.push({ at, key: this.rng.next(), ev: { k: 'deliver', from: n.id, to, gen: c.gen } });
  }

  private onDeliver(from: number, to: number, gen: number): void {
    const c = this.conn(from, to);
    if (!c.up || c.gen !== gen) return;
    const l = this.link(from, to);
    while (l.q.length > 0 && l.q[0]!.at <= this.now) {
      if (this.blocked.has(`${from}>${to}`)) {
        // A stalled TCP stream: hold the bytes; give up on the connection after a while (a silent
        // cut is left to the servers' own timeouts).
        if (!this.silent.has(this.pairKey(from, to)) && this.now - l.q[0]!.at > 8 * this.F) return this.breakConn(from, to);
        if (!l.retry) {
          l.retry = true;
          this.schedule(TICK, { k: 'deliver', from, to, gen });
        }
        return;
      }
      const target = this.nodes.get(to)!;
      if (target.alive && this.isPaused(target)) {
        // A stopped process: the kernel buffers the bytes; they are read after SIGCONT.
        if (!l.retry) {
          l.retry = true;
          this.q.push({ at: target.pausedUntil, key: 3, ev: { k: 'deliver', from, to, gen } });
        }
        return;
      }
      l.retry = false;
      const { msg } = l.q.shift()!;
      const n = this.nodes.get(to)!;
      if (!n.alive) {
        l.q = [];
        return;
      }
      n.core!.step(from, this.wireIn(n, msg));
      this.drain(n);
      if (!c.up || c.gen !== gen) return;
    }
  }

  // ------------------------------------------------------------------ the shell: production's executor

  /**
   * Runs each Ready through production's executor. An armed failed fsync kills the process before
   * anything of a Ready that writes is durable or sent (D1); an armed ACK failpoint kills it from
   * the send hook once that Ready's messages, the ACK among them, have left.
   */
  private drain(n: SimNode): void {
    const core = n.core;
    if (!core) return;
    let guard = 0;
    while (core.hasReady()) {
      if (++guard > 1000) throw new SimViolation(`n${n.id}: Ready loop does not settle`);
      const r = core.ready();
      if (this.armed.get(n.id) === 'fsync' && writesAnything(r)) return this.failpointCrash(n, 'failed fsync');
      n.sending = { total: r.messages.length, sent: 0, acked: undefined };
      try {
        executeReady(r, core.status().role, n.target!, this.policy);
      } catch (e) {
        if (!(e instanceof FailpointCrash)) throw e;
        return this.failpointCrash(n, e.message);
      }
      this.checkSyncs(n);
      core.advance(r);
    }
  }

  private readonly policy = sendPolicy();

  /** Where executeReady's steps go for this incarnation of `n`: the checkers, the network, the state machine. */
  private readyTarget(n: SimNode): ReadyTarget {
    return {
      store: n.store,
      send: (to, msg) => this.send(n, to, msg),
      flush: () => undefined,
      disconnect: (peer) => this.breakConn(n.id, peer),
      installSnapshot: (zxid, data) => this.installSnapshot(n, zxid, data),
      applyCommitted: (es) => {
        for (const e of es) this.apply(n, e);
      },
      onRoleEvent: (ev) => this.onRoleEvent(n, ev),
      // The core simulator has no server layer: nothing forwards REQUESTs.
      onForwarded: () => undefined,
      onSyncAnswer: (z) => {
        // Leaving the broadcast phase dropped the clients and their syncs (the server's dropClients).
        const w = n.syncs.find((x) => x.zxid === undefined);
        if (w) w.zxid = z;
      },
      log: (_level, text, fields) => {
        // In a correct ensemble no server ever sees an impossible message (Zab.tla ShouldNotBeTriggered).
        if (fields?.error !== undefined) throw new SimViolation(`n${n.id} saw a protocol violation ${String(fields.error)} (ShouldNotBeTriggered)`);
        this.log(`n${n.id}: ${text}`);
      },
    };
  }

  private send(n: SimNode, to: number, msg: PeerMessage): void {
    if (!this.opts.endToEndOnly) {
      const problem = ackProblem(n.disk, msg, n.core!.status().epoch);
      if (problem) throw new SimViolation(`n${n.id}: ${problem}`);
    }
    this.sendMsg(n, to, msg);
    const s = n.sending;
    s.sent++;
    if (msg.type === 'ack') s.acked = msg.newLeader ? 'newLeaderAck' : 'ack';
    if (s.sent === s.total && s.acked !== undefined && this.armed.get(n.id) === s.acked) throw new FailpointCrash(s.acked);
  }

  /** The store executeReady writes to, its `persist` checked before and after each transaction. */
  private checkingStore(n: SimNode, store: Store): Store {
    return overriding(store, {
      persist: (b: PersistBatch) => {
        this.checkBatch(n, b);
        const before = b.snapshot || b.truncateAfter !== undefined ? committedOnDisk(n.disk, (z) => this.globalIndex.has(z)) : undefined;
        try {
          store.persist(b);
        } catch (e) {
          // A write the store refuses is one the core should never have asked for.
          throw new SimViolation(`n${n.id}: the store refused a write: ${(e as Error).message}`);
        }
        const lost = before && committedLost(n.disk, before);
        if (lost !== undefined) throw new SimViolation(`n${n.id}: committed ${zxidHex(lost)} removed by TRUNC/SNAP (Z11)`);
      },
    });
  }

  /** Z2, Z4 and integrity of one store transaction, before it is committed. */
  private checkBatch(n: SimNode, b: PersistBatch): void {
    const t = b.truncateAfter;
    if (!b.snapshot && t !== undefined && t < (n.disk.catalog.at(-1)?.zxid ?? 0n)) throw new SimViolation(`n${n.id}: TRUNC below the snapshot`);
    let last = b.snapshot ? b.snapshot.zxid : durableLast(n.disk);
    if (!b.snapshot && t !== undefined && t < last) last = t;
    for (const e of b.entries ?? []) {
      if (e.zxid <= last) throw new SimViolation(`n${n.id}: persisted ${zxidHex(e.zxid)} after ${zxidHex(last)} (Z4)`);
      if (this.proposed.get(e.zxid) !== valueOf(e)) {
        throw new SimViolation(`n${n.id}: logged ${zxidHex(e.zxid)}=${valueOf(e)} that no leader proposed as such (integrity)`);
      }
      last = e.zxid;
    }
    const problem = b.hardState && epochsProblem(n.disk.hardState, b.hardState);
    if (problem) throw new SimViolation(`n${n.id}: ${problem}`);
  }

  /** A SNAP's body, already durable in this server's store, replaces the state machine. */
  private installSnapshot(n: SimNode, zxid: bigint, data: Buffer): void {
    const s = parseState(readSnapshotBytes(n.store, { ...decodeSnapshotRef(data), zxid }));
    if (s.zxid !== zxid) throw new SimViolation(`n${n.id}: snapshot zxid mismatch`);
    if (s.count > 0 && this.global[s.count - 1]?.zxid !== s.zxid) throw new SimViolation(`n${n.id}: snapshot is not a committed prefix`);
    n.appliedCount = s.count;
    n.appliedZxid = s.zxid;
  }

  /** Z5/Z6/Z7/Z8: every server applies the same sequence; it only holds proposed txns, in zxid order. */
  private apply(n: SimNode, e: Entry): void {
    const pos = n.appliedCount;
    const value = valueOf(e);
    if (this.proposed.get(e.zxid) !== value) throw new SimViolation(`n${n.id}: applied ${zxidHex(e.zxid)}=${value} never proposed (integrity)`);
    if (pos < this.global.length) {
      const g = this.global[pos]!;
      if (g.zxid !== e.zxid || !g.data.equals(e.data)) {
        throw new SimViolation(`n${n.id}: applied ${zxidHex(e.zxid)}=${value} at position ${pos} where others applied ${zxidHex(g.zxid)}=${valueOf(g)} (prefix consistency)`);
      }
    } else {
      const prev = this.global[pos - 1];
      if (prev && !isSuccessor(prev.zxid, e.zxid)) {
        throw new SimViolation(`n${n.id}: committed ${zxidHex(e.zxid)} right after ${zxidHex(prev.zxid)} (total / primary order)`);
      }
      this.global.push(e);
      this.globalIndex.set(e.zxid, pos);
      this.stats.committed++;
    }
    n.appliedCount = pos + 1;
    n.appliedZxid = e.zxid;
    const w = this.pendingWrites.get(value);
    if (w && w.node === n.id && w.inc === n.incarnation) {
      this.pendingWrites.delete(value);
      if (pos > this.ackedMaxPos) this.ackedMaxPos = pos;
      this.stats.writesAcked++;
      this.log(`n${n.id} acks ${value} (${zxidHex(e.zxid)}, position ${pos})`);
    }
  }

  private onRoleEvent(n: SimNode, ev: RoleEvent): void {
    this.log(`n${n.id} ${ev.role}/${ev.phase} leader=${ev.leader ?? '-'} epoch=${ev.epoch}`);
    this.checkQuiet(n, ev);
    if (ev.phase !== 'broadcast') n.syncs = [];
    if (ev.role !== 'leading' || ev.phase !== 'broadcast') return;
    this.stats.elections++;
    const prev = this.leaderOfEpoch.get(ev.epoch);
    if (prev !== undefined && prev !== n.id) throw new SimViolation(`two leaders established in epoch ${ev.epoch}: n${prev} and n${n.id} (Z1)`);
    this.leaderOfEpoch.set(ev.epoch, n.id);
    // Primary integrity: the new primary holds every txn committed so far.
    const last = this.global[this.global.length - 1];
    if (last && !n.core!.hasLogged(last.zxid)) {
      throw new SimViolation(`n${n.id} leads epoch ${ev.epoch} without committed ${zxidHex(last.zxid)} (primary integrity, Z12)`);
    }
  }

  // ------------------------------------------------------------------ clients

  private leaders(pred: (c: QuorumCore) => boolean): SimNode[] {
    return this.ids.map((id) => this.nodes.get(id)!).filter((n) => n.alive && n.core && !this.isPaused(n) && pred(n.core));
  }

  private propose(n: SimNode, value: string): boolean {
    if (!n.core) return false; // crashed by a failpoint earlier in this burst
    // The core decides the zxid before the txn is sealed with it, as the server's prep does.
    const next = n.core.nextZxid();
    const zxid = next === undefined ? undefined : n.core.propose(sealEntry(next, Buffer.from(value)));
    if (zxid === undefined) {
      this.drain(n);
      return false;
    }
    const seen = this.proposed.get(zxid);
    if (seen !== undefined) throw new SimViolation(`zxid ${zxidHex(zxid)} proposed twice (${seen}, ${value}) (Z4)`);
    this.proposed.set(zxid, value);
    this.log(`n${n.id} proposes ${value} as ${zxidHex(zxid)}`);
    this.pendingWrites.set(value, { node: n.id, inc: n.incarnation });
    this.drain(n);
    return true;
  }

  private onWrite(): void {
    if (this.healed) return;
    const ls = this.leaders((c) => c.canPropose());
    if (ls.length > 0) {
      const burst = this.rng.range(1, 3);
      for (let i = 0; i < burst; i++) this.propose(this.rng.pick(ls), `w${++this.writeSeq}`);
    }
    if (!this.done) this.schedule(this.rng.range(5, 60), { k: 'write' });
  }

  /** Z13: a leader that believes it may serve reads has applied every acknowledged write. */
  private onRead(): void {
    const ls = this.leaders((c) => c.canServeReads());
    if (ls.length > 0) {
      const n = this.rng.pick(ls);
      if (n.appliedCount <= this.ackedMaxPos) {
        throw new SimViolation(`stale read on n${n.id}: applied ${n.appliedCount} txns but write #${this.ackedMaxPos + 1} was already acknowledged (Z13)`);
      }
    }
    if (!this.done) this.schedule(this.rng.range(5, 40), { k: 'read' });
  }

  /**
   * A client sync at a serving server, as the server layer issues it: the leader asks its own core,
   * a learner sends SYNC to its leader. Once answered, the server's reads must include every write
   * acknowledged before the sync was sent (checked in checkSyncs).
   */
  private onSync(): void {
    const serving = this.leaders((c) => c.status().phase === 'broadcast');
    if (serving.length > 0) {
      const n = this.rng.pick(serving);
      const core = n.core!;
      const ok = core.canPropose() ? core.requestSync() : core.sendToLeader({ type: 'sync', zxid: 0n });
      if (ok) {
        n.syncs.push({ ackedPos: this.ackedMaxPos });
        this.drain(n);
      }
    }
    if (!this.done) this.schedule(this.rng.range(5, 60), { k: 'sync' });
  }

  /** Answered syncs whose zxid this server has applied: its reads must now see what was acked before. */
  private checkSyncs(n: SimNode): void {
    while (n.syncs.length > 0 && n.syncs[0]!.zxid !== undefined && n.appliedZxid >= n.syncs[0]!.zxid) {
      const s = n.syncs.shift()!;
      if (n.appliedCount <= s.ackedPos) {
        throw new SimViolation(`stale sync on n${n.id}: answered with ${zxidHex(s.zxid!)}, applied ${n.appliedCount} txns, but write #${s.ackedPos + 1} was acknowledged before the sync was sent (sync + read)`);
      }
    }
  }

  private checkBarrier(): void {
    const b = this.barrier;
    if (b) {
      const pos = this.globalIndexOfValue(b.value);
      if (pos !== undefined) {
        // Every acknowledged write sits before the barrier (writes stop at HEAL), so applying the
        // barrier everywhere means every acknowledged write is on every server.
        if (this.ids.every((id) => this.nodes.get(id)!.appliedCount > pos)) {
          if (this.ackedMaxPos > pos) throw new SimViolation(`acknowledged write at position ${this.ackedMaxPos} ordered after the barrier at ${pos}`);
          if (this.quietUntil === undefined) this.startQuiet(b.value, pos);
        }
        return;
      }
      const n = this.nodes.get(b.node)!;
      if (n.alive && n.incarnation === b.inc && n.core!.canPropose()) return;
      this.barrier = undefined;
    }
    const ls = this.leaders((c) => c.canPropose());
    if (ls.length === 0) return;
    const n = this.rng.pick(ls);
    const value = `barrier${++this.writeSeq}`;
    if (this.propose(n, value)) this.barrier = { value, node: n.id, inc: n.incarnation };
  }

  /**
   * Stability: once the barrier is everywhere and nothing is faulty, the ensemble must keep its
   * leader. A leader that steps down with a healthy network (a lease it cannot renew) is a bug
   * even if it would be re-elected.
   */
  private startQuiet(value: string, pos: number): void {
    const leader = this.leaders((c) => c.status().role === 'leading')[0];
    this.log(`barrier ${value} at position ${pos} applied everywhere; quiet period`);
    this.quietLeader = leader ? { id: leader.id, epoch: leader.core!.status().epoch } : undefined;
    const t = this.timing;
    this.quietUntil = this.now + (3 * t.syncLimitTicks + 2 * t.initLimitTicks + 20) * TICK;
  }

  private checkQuiet(n: SimNode, ev: RoleEvent): void {
    if (this.quietUntil === undefined) return;
    const problem = flappingProblem(this.quietLeader, ev);
    if (problem) throw new SimViolation(`leader flapping: n${n.id} ${problem}`);
  }

  private readonly valuePos = new Map<string, number>();
  private globalIndexOfValue(value: string): number | undefined {
    const cached = this.valuePos.get(value);
    if (cached !== undefined) return cached;
    for (let i = this.global.length - 1; i >= 0; i--) {
      if (valueOf(this.global[i]!) === value) {
        this.valuePos.set(value, i);
        return i;
      }
    }
    return undefined;
  }

  // ------------------------------------------------------------------ faults

  private onFault(): void {
    if (this.healed) return;
    const alive0 = this.ids.filter((id) => this.nodes.get(id)!.alive);
    const kinds = alive0.length > 0 ? this.faultKinds : this.faultKinds.filter((k) => k === 'partition' || k === 'oneway' || k === 'reset');
    // (pause, crash and compact need a live server)
    if (kinds.length === 0) return this.schedule(this.rng.range(5, 40) * this.F, { k: 'fault' });
    const kind = this.rng.pick(kinds);
    this.stats.faults.push(kind);
    const alive = this.ids.filter((id) => this.nodes.get(id)!.alive);
    const leader = this.leaders((c) => c.status().role === 'leading')[0]?.id;
    switch (kind) {
      case 'crash': {
        const victim = leader !== undefined && this.rng.bool(0.4) ? leader : this.rng.pick(alive);
        this.crash(victim);
        this.schedule(this.rng.range(3, 40) * this.F, { k: 'restart', node: victim });
        break;
      }
      case 'crashAll':
        for (const id of alive) {
          this.crash(id);
          this.schedule(this.rng.range(3, 40) * this.F, { k: 'restart', node: id });
        }
        break;
      case 'failpoint': {
        const voters = this.voterIds.filter((id) => this.nodes.get(id)!.alive && id !== leader);
        const target = voters.length > 0 && this.rng.bool(0.7) ? this.rng.pick(voters) : this.rng.pick(alive);
        this.armed.set(target, target === leader || this.rng.bool(0.3) ? 'fsync' : this.rng.bool(0.5) ? 'ack' : 'newLeaderAck');
        break;
      }
      case 'partition': {
        const shuffled = this.rng.shuffle([...this.ids]);
        const side = new Set(shuffled.slice(0, this.rng.range(1, Math.floor(this.ids.length / 2))));
        // Sometimes a bridge: one server of the other side still sees both halves.
        const bridge = this.rng.bool(0.3) ? shuffled[shuffled.length - 1] : undefined;
        this.partition(side, bridge);
        break;
      }
      case 'isolateLeader':
        this.partition(new Set([leader ?? this.rng.pick(this.ids)]));
        break;
      case 'silent': {
        const shuffled = this.rng.shuffle([...this.ids]);
        const minority = new Set(shuffled.slice(0, this.rng.range(1, Math.floor(this.ids.length / 2))));
        this.silentPartition(leader !== undefined && this.rng.bool(0.6) ? new Set([leader]) : minority);
        break;
      }
      case 'oneway': {
        const from = leader !== undefined && this.rng.bool(0.5) ? leader : this.rng.pick(this.ids);
        const tos = this.ids.filter((x) => x !== from && this.rng.bool(0.6));
        this.healNetwork();
        const pid = ++this.partitionId;
        for (const to of tos) this.blocked.add(this.rng.bool(0.5) ? `${from}>${to}` : `${to}>${from}`);
        this.log(`ONE-WAY ${[...this.blocked].join(' ')}`);
        this.schedule(this.rng.range(5, 40) * this.F, { k: 'healPartition', id: pid });
        break;
      }
      case 'reset': {
        const a = this.rng.pick(this.ids);
        const b = this.rng.pick(this.ids.filter((x) => x !== a));
        this.log(`RESET ${a}-${b}`);
        this.breakConn(a, b);
        break;
      }
      case 'pause': {
        const victim = leader !== undefined && this.rng.bool(0.5) ? leader : this.rng.pick(alive);
        const n = this.nodes.get(victim)!;
        if (!this.isPaused(n)) this.pause(n, this.rng.range(2, 25));
        break;
      }
      case 'compact': {
        const n = this.nodes.get(this.rng.pick(alive))!;
        this.compact(n);
        break;
      }
    }
    this.schedule(this.rng.range(5, 40) * this.F, { k: 'fault' });
  }

  private partition(side: Set<number>, bridge?: number): void {
    this.healNetwork();
    const pid = ++this.partitionId;
    this.log(`PARTITION {${[...side].join(',')}} | rest${bridge !== undefined ? ` (bridge n${bridge})` : ''}`);
    for (const a of side) for (const b of this.ids) if (!side.has(b) && b !== bridge) {
      this.cut.add(this.pairKey(a, b));
      this.breakConn(a, b);
    }
    this.schedule(this.rng.range(5, 50) * this.F, { k: 'healPartition', id: pid });
  }

  private healNetwork(): void {
    if (this.cut.size > 0 || this.blocked.size > 0) this.log('network healed');
    this.cut.clear();
    this.blocked.clear();
    this.silent.clear();
    // The RST for a connection closed across the cut finally arrives.
    for (const d of this.heldDowns.splice(0)) this.schedule(0, { k: 'down', ...d }, -1);
  }

  /** A minority (often the leader alone) loses the others without anyone being told. */
  private silentPartition(side: Set<number>): void {
    this.healNetwork();
    const pid = ++this.partitionId;
    this.log(`SILENT CUT {${[...side].join(',')}} | rest`);
    for (const a of side) {
      for (const b of this.ids) {
        if (side.has(b)) continue;
        this.silent.add(this.pairKey(a, b));
        this.blocked.add(`${a}>${b}`);
        this.blocked.add(`${b}>${a}`);
      }
    }
    this.schedule(this.rng.range(5, 50) * this.F, { k: 'healPartition', id: pid });
  }

  /** The shell snapshots its applied state and purges the log up to it. */
  /**
   * The shell snapshots its applied state (a named snapshot in its store, as server/snapshots.ts
   * saves one), lets the core drop the entries it covers, and purges what autopurge would.
   */
  private compact(n: SimNode): void {
    const z = n.appliedZxid;
    const s = n.store;
    if (z === 0n || z <= (s.latestSnapshot()?.zxid ?? 0n) || z > s.lastZxid()) return;
    s.saveSnapshot(writeSnapshotBytes(s, z, stateBody(n.appliedCount, z), this.now));
    s.purge(PURGE_RETAIN);
    n.core!.compact(z);
    this.log(`n${n.id} snapshot at ${zxidHex(z)} (${n.appliedCount} txns)`);
  }

  private onHeal(): void {
    this.healed = true;
    this.healNetwork();
    this.armed.clear();
    this.log('HEAL: network healed, every server restarted');
    for (const id of this.ids) if (!this.nodes.get(id)!.alive) this.start(id);
  }

  private describe(): string {
    return this.ids
      .map((id) => {
        const n = this.nodes.get(id)!;
        if (!n.core) return `n${id}:down`;
        const s = n.core.status();
        return `n${id}:${s.role}/${s.phase} e${s.epoch} last=${zxidHex(s.lastZxid)} applied=${n.appliedCount}`;
      })
      .join(' ');
  }
}

export function runSeed(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
