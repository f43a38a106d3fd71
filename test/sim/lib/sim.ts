/**
 * The whole-server simulator: 3 or 5 voting members (sometimes plus an observer) of the production
 * `ZkServer` — prep, the quorum core, `executeReady`, the peer transport and its security layer,
 * sessions, watches, forwarding, snapshots — each with its I/O injected: a memory store on a
 * persistent MemoryDisk, the in-memory network (simnet.ts), simulated time (world.ts) and a seeded
 * generator. Seeded clients speak real jute frames (simclient.ts). One seed decides everything, so
 * a seed replays exactly.
 *
 * A run: faults for a while (crashes, crashes part-way through a store batch, silent and loud
 * partitions, one-way stalls, resets, stalls, slow fsyncs, disk errors, clock jumps, client
 * crashes), then everything heals and restarts; the ensemble must then elect, serve, apply a
 * barrier write everywhere, keep its leader through a quiet period, and agree byte for byte.
 * Checkers run on every store write, every applied txn, every peer message sent and everything a
 * client sees; the first violation stops the seed.
 */
import pino, { type Logger } from 'pino';
import { checkAcl } from '../../../src/acl';
import { Perms } from '../../../protocol/jute/constants';
import type { PeerMessage } from '../../../protocol/peer/messages';
import { quorumTiming, type QuorumTiming } from '../../../src/quorum/core/timing';
import type { PlantedBugs, RoleEvent } from '../../../src/quorum/core';
import type { ShellBugs } from '../../../src/quorum/execute';
import { APPLY_SLICING, type ApplySlicing } from '../../../src/quorum/zab';
import { defaultServerOptions, type ServerOptions } from '../../../src/server/options';
import { ZkServer, type ServerObserver } from '../../../src/server/zkserver';
import type { ServerSpec } from '../../../src/config';
import { createMemoryStore, newMemoryDisk, type MemoryDisk } from '../../../src/storage/memory';
import type { PersistBatch, Store } from '../../../src/storage/types';
import { encodeTxn, nodeHash, treeDigest, type Txn, type ZkDatabase } from '../../../src/tree';
import type { WatchEvent } from '../../../src/tree/events';
import { Prng } from '../../../src/util/prng';
import { counterOf, epochOf, isSuccessor, zxidHex } from '../../../src/util/zxid';
import { SimClient, type Armed, type ClientChecks } from './simclient';
import { SimNetwork } from './simnet';
import { Owner, SimViolation, World } from './world';
import { ackProblem, committedLost, committedOnDisk, epochsProblem, flappingProblem, overriding, type SimResult as SimResultOf } from './checks';

export interface SimOptions {
  seed: number;
  trace?: boolean;
  /** Planted core bugs (the quorum core's test switches). */
  coreBugs?: PlantedBugs;
  /** Planted shell bugs (executeReady / the server). */
  shellBugs?: ShellBugs;
  /** zoo.cfg limits; random per seed when absent. */
  limits?: { syncLimit: number; initLimit: number };
  /** Leader zxid counter limit (test hook): small values force frequent epoch changes. */
  counterMax?: bigint;
  /** Length of the fault phase in ms of simulated time (default 3000). */
  faultMs?: number;
  /** After healing, the ensemble must converge within this many ms (default 8000). */
  livenessMs?: number;
  /** Only these fault kinds (default: a random subset per seed). */
  faults?: readonly FaultKind[];
  /**
   * Apply at most this many committed txns per event-loop turn (production slices by time, which
   * stands still within a simulated turn): exercises a DIFF or catch-up applied across turns.
   */
  applySliceTxns?: number;
  /** Log appends made durable fsyncMs simulated ms after the write (Store.persistWritten); default: the server's (on). */
  fsyncOffLoop?: boolean;
  /** With fsyncOffLoop: simulated ms each thread-pool fsync takes (default 1; slowFsync adds to it). */
  fsyncMs?: number;
}

export const FAULT_KINDS = [
  'crash',
  'crashAll',
  'crashMidBatch',
  'leaderCrashAfterSend',
  'silentCut',
  'silentLeader',
  'partition',
  'oneway',
  'reset',
  'halfOpen',
  'stall',
  'slowFsync',
  'diskError',
  'diskFull',
  'clockJump',
  'clientCrash',
  'clientCut',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SimStats {
  voters: number;
  observers: number;
  tickTimeMs: number;
  syncLimit: number;
  initLimit: number;
  events: number;
  simMs: number;
  elections: number;
  syncs: { diff: number; trunc: number; snap: number };
  crashes: number;
  crashesMidBatch: number;
  failStops: number;
  sessionExpiries: number;
  watchEvents: number;
  acked: number;
  committed: number;
  snapshots: number;
  ignored: number;
  /** Turns a member yielded part-way through applying one Ready's committed txns (applySliceTxns). */
  applyYields: number;
  faults: Partial<Record<FaultKind, number>>;
  clientRequests: number;
}

export type SimResult = SimResultOf<SimStats>;

export { SimViolation };
/** Thrown from a store write to kill the process there (crash part-way through a batch). */
class SimCrash extends Error {}

const WALL_BASE = 1_790_000_000_000;
const CLIENT_PORT = 2181;

interface SimNode {
  id: number;
  host: string;
  observer: boolean;
  disk: MemoryDisk;
  owner: Owner | undefined;
  server: ZkServer | undefined;
  incarnation: number;
  alive: boolean;
  /** Highest zxid applied, in the global order (a SNAP or a restart moves it to a snapshot). */
  appliedZxid: bigint;
  role: RoleEvent | undefined;
  /** Commits left before an armed mid-batch crash. */
  crashAtCommit: number | undefined;
  /** Stall the next commit this long (slow fsync). */
  slowCommitMs: number | undefined;
  /** Store writes fail (an I/O error, or the disk is full) until the fault heals. */
  diskFault: DiskFault | undefined;
  /** Its tree's digest, kept per applied txn; rebuilt from the tree after a restart or a SNAP. */
  digest: RollingDigest | undefined;
  /** First zxid of each persistWritten batch of this incarnation not yet reported durable. */
  unsynced: Set<bigint>;
}

/** What a failing store write throws, shaped as better-sqlite3 reports it. */
const DISK_FAULTS = {
  ioerr: () => Object.assign(new Error('disk I/O error (simulated EIO)'), { code: 'SQLITE_IOERR_WRITE' }),
  full: () => Object.assign(new Error('database or disk is full (simulated ENOSPC)'), { code: 'SQLITE_FULL' }),
};
type DiskFault = keyof typeof DISK_FAULTS;

/** A tree digest kept up to date per txn: the sum modulo 2^64 of every node's `nodeHash`. */
interface RollingDigest {
  sum: bigint;
  hashes: Map<string, bigint>;
}

const MASK64 = (1n << 64n) - 1n;

function fullDigest(db: ZkDatabase): RollingDigest {
  const hashes = new Map<string, bigint>();
  let sum = 0n;
  for (const path of db.tree.paths()) {
    const h = nodeHash(db, path);
    hashes.set(path, h);
    sum = (sum + h) & MASK64;
  }
  return { sum, hashes };
}

/** The nodes a txn may have changed: those its events name (a node and its parent), and setACL's, which fires none. */
function touchedPaths(txn: Txn, events: readonly WatchEvent[]): string[] {
  const paths = events.map((e) => e.path);
  if (txn.body.type === 'setACL') paths.push(txn.body.path);
  return paths;
}

/** Quota statistics nodes change without events of their own: with quotas set, re-hash the whole tree. */
function hasQuotas(db: ZkDatabase): boolean {
  return (db.tree.get('/zookeeper/quota')?.stat.numChildren ?? 0) > 0;
}

interface GlobalEntry {
  zxid: bigint;
  bytes: Buffer;
  sessionId: bigint;
  type: string;
}

export class Simulation {
  private readonly rng: Prng;
  private readonly world = new World();
  private readonly net: SimNetwork;
  private readonly nodes: SimNode[] = [];
  private readonly clients: SimClient[] = [];
  private readonly specs: ServerSpec[];
  private readonly timing: QuorumTiming;
  private readonly tickTimeMs = 100;
  private readonly limits: { syncLimit: number; initLimit: number };
  private readonly faultKinds: FaultKind[];
  private readonly faultEnd: number;
  private readonly deadline: number;
  private readonly snapCount: number;
  private readonly logger: Logger;
  readonly trace: string[] = [];
  readonly stats: SimStats;
  private violation: SimViolation | undefined;
  private asyncWork: Promise<void> | undefined;
  private healed = false;
  private done = false;

  // ---- checker state
  private readonly global: GlobalEntry[] = [];
  private readonly globalIndex = new Map<bigint, number>();
  private readonly digests = new Map<bigint, bigint>();
  private readonly eventsByPath = new Map<string, ChangeEvent[]>();
  /** Events on /secret and below (the workload's only persistent recursive watches are there). */
  private readonly secretEvents: ChangeEvent[] = [];
  private readonly closedSessions = new Map<bigint, number>();
  private readonly leaderOfEpoch = new Map<number, number>();
  private readonly syncLeaderOfEpoch = new Map<number, number>();
  private readonly acked: Array<{ zxid: bigint; what: string }> = [];
  private maxAckedZxid = 0n;
  private readonly clientOfSession = new Map<bigint, SimClient>();
  private readonly closingSessions = new Set<bigint>();
  /** Sessions some leader proposed to close (its tracker stops touching them at once). */
  private readonly proposedCloses = new Set<bigint>();
  private barrier: { path: string; zxid?: bigint } | undefined;
  private quietUntil: number | undefined;
  private quietLeader: { id: number; epoch: number } | undefined;
  private setupDone = false;

  constructor(private readonly opts: SimOptions) {
    this.rng = new Prng(opts.seed);
    const voters = this.rng.bool(0.5) ? 3 : 5;
    const observers = this.rng.bool(0.2) ? 1 : 0;
    this.limits = opts.limits ?? { syncLimit: this.rng.pick([1, 1, 2, 2, 3, 5]), initLimit: this.rng.pick([1, 2, 5, 10]) };
    this.timing = quorumTiming({ tickTimeMs: this.tickTimeMs, ...this.limits });
    this.net = new SimNetwork(this.world, this.rng.fork(), this.rng.pick([1, 3, 6, 12]));
    this.snapCount = this.rng.pick([16, 40, 120]);
    this.faultKinds = opts.faults ? [...opts.faults] : FAULT_KINDS.filter(() => this.rng.bool(0.5));
    if (this.faultKinds.length === 0) this.faultKinds.push(this.rng.pick(FAULT_KINDS));
    this.faultEnd = opts.faultMs ?? 3000;
    this.deadline = this.faultEnd + (opts.livenessMs ?? 8000);
    this.specs = [];
    for (let i = 1; i <= voters + observers; i++) {
      this.specs.push({ id: i, host: `10.0.0.${i}`, quorumPort: 2888, electionPort: 3888, role: i > voters ? 'observer' : 'participant', clientHost: `10.0.0.${i}`, clientPort: CLIENT_PORT });
    }
    for (const s of this.specs) {
      this.nodes.push({
        id: s.id,
        host: s.host,
        observer: s.role === 'observer',
        disk: newMemoryDisk(),
        owner: undefined,
        server: undefined,
        incarnation: 0,
        alive: false,
        appliedZxid: 0n,
        role: undefined,
        crashAtCommit: undefined,
        slowCommitMs: undefined,
        diskFault: undefined,
        digest: undefined,
        unsynced: new Set(),
      });
    }
    this.logger = opts.trace
      ? pino({ level: 'info', base: undefined, timestamp: false }, { write: (line: string) => this.traceLog(line) })
      : pino({ level: 'silent' });
    this.stats = {
      voters,
      observers,
      tickTimeMs: this.tickTimeMs,
      syncLimit: this.limits.syncLimit,
      initLimit: this.limits.initLimit,
      events: 0,
      simMs: 0,
      elections: 0,
      syncs: { diff: 0, trunc: 0, snap: 0 },
      crashes: 0,
      crashesMidBatch: 0,
      failStops: 0,
      sessionExpiries: 0,
      watchEvents: 0,
      acked: 0,
      committed: 0,
      snapshots: 0,
      ignored: 0,
      applyYields: 0,
      faults: {},
      clientRequests: 0,
    };
    this.log(
      `seed ${opts.seed}: ${voters} voters, ${observers} observers, tickTime ${this.tickTimeMs}, syncLimit ${this.limits.syncLimit}, initLimit ${this.limits.initLimit}, ` +
        `delay <= ${this.net.maxDelay} ms, snapCount ${this.snapCount}, faults ${this.faultKinds.join(',')}`,
    );
  }

  // ------------------------------------------------------------------ driver

  async run(): Promise<SimResult> {
    try {
      for (const n of this.nodes) await this.startNode(n);
      const clients = this.rng.range(3, 5);
      for (let c = 1; c <= clients; c++) this.addClient(c);
      this.every(this.rng.range(12, 30), () => this.workload());
      this.schedule(this.rng.range(300, 1200), () => this.onFault());
      this.schedule(this.faultEnd, () => this.onHeal());
      while (!this.done) {
        if (!this.world.step()) throw new SimViolation('event queue ran dry');
        if (this.violation) throw this.violation;
        if (this.asyncWork) {
          const work = this.asyncWork;
          this.asyncWork = undefined;
          await work;
        }
        // Every promise continuation (peer handshakes, async housekeeping) runs at this instant,
        // before the next event, as in Node, where the microtask queue drains completely before
        // the next I/O callback. Two `await null`s were not enough: a deeper continuation chain
        // let a packet arrive between a handshake's last read and the transport's 'data' listener.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.violation) throw this.violation;
        if (this.world.now > this.deadline) throw new SimViolation(`liveness: not converged ${this.deadline - this.faultEnd} ms after healing; ${this.describe()}`);
      }
      this.finish();
      this.log(`ok: ${this.global.length} committed, ${this.acked.length} acknowledged`);
      return { ok: true, seed: this.opts.seed, trace: this.trace, stats: this.stats };
    } catch (e) {
      const v = this.violation ?? e;
      if (!(v instanceof SimViolation)) throw v;
      this.finish();
      this.log(`VIOLATION: ${v.message}`);
      return { ok: false, seed: this.opts.seed, failure: v.message, trace: this.trace, stats: this.stats };
    }
  }

  private finish(): void {
    this.stats.events = this.world.events;
    this.stats.simMs = Math.round(this.world.now);
    this.stats.committed = this.global.length;
    this.stats.acked = this.acked.length;
    this.stats.clientRequests = this.clients.reduce((n, c) => n + c.stats.requests, 0);
  }

  private fail(message: string): never {
    const v = new SimViolation(message);
    this.violation ??= v;
    throw v;
  }

  private schedule(delay: number, fn: () => void): void {
    this.world.schedule(this.world.god, this.world.now + delay, 1, fn);
  }

  private every(period: number, fn: () => void): void {
    const tick = (): void => {
      if (this.done) return;
      fn();
      this.schedule(period, tick);
    };
    this.schedule(period, tick);
  }

  private log(line: string): void {
    if (this.opts.trace) this.trace.push(`[${this.world.now.toFixed(1).padStart(9)}] ${line}`);
  }

  private traceLog(json: string): void {
    try {
      // Stacks name the caller's file and line, which differ between runs of one seed: left out.
      const o = JSON.parse(json, (k, v: unknown) => (k === 'stack' ? undefined : v)) as Record<string, unknown>;
      const { msg, level: _l, ...rest } = o;
      const fields = Object.entries(rest)
        .filter(([k]) => k !== 'node')
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
        .join(' ');
      this.log(`n${String(rest.node ?? '?')}: ${String(msg)}${fields ? ` (${fields})` : ''}`);
    } catch {
      this.log(json.trim());
    }
  }

  // ------------------------------------------------------------------ nodes

  /**
   * Each slice costs the member a millisecond of simulated CPU: input that arrives meanwhile is read
   * before the next slice, as on a real event loop, so a Ready started after it would overtake it.
   */
  private applySlicing(owner: Owner): ApplySlicing | undefined {
    const maxTxns = this.opts.applySliceTxns;
    if (maxTxns === undefined) return undefined;
    const onYield = (): void => {
      this.stats.applyYields++;
      this.world.stall(owner, 1);
    };
    return { ...APPLY_SLICING, maxTxns, chunk: Math.min(APPLY_SLICING.chunk, maxTxns), onYield };
  }

  private options(n: SimNode): ServerOptions {
    return defaultServerOptions({
      host: n.host,
      port: CLIENT_PORT,
      dataDir: `/sim/n${n.id}`,
      serverId: n.id,
      tickTimeMs: this.tickTimeMs,
      snapCount: this.snapCount,
      containerCheckIntervalMs: 0,
      fourLetterWhitelist: '*',
      ensemble: { myid: n.id, servers: this.specs, initLimit: this.limits.initLimit, syncLimit: this.limits.syncLimit },
    });
  }

  private startNode(n: SimNode): Promise<void> {
    if (n.alive) return Promise.resolve();
    n.alive = true;
    n.incarnation++;
    // A crash took the unsynced writes' callbacks with it (the page cache kept the data).
    n.unsynced.clear();
    // Wall clocks differ a little between machines and restarts (session ids are built from them).
    const owner = new Owner(`n${n.id}#${n.incarnation}`, WALL_BASE + (this.rng.next() - 0.5) * 10_000);
    n.owner = owner;
    n.role = undefined;
    n.digest = undefined;
    const store = this.checkingStore(
      n,
      owner,
      createMemoryStore({ disk: n.disk, failpoints: { beforeCommit: (what) => this.onCommit(n, owner, what) } }),
    );
    const deps = {
      store,
      clock: this.world.clockFor(owner),
      rng: this.rng.fork(),
      network: this.net.view(n.host, owner),
      testHooks: {
        coreBugs: this.opts.coreBugs,
        shellBugs: this.opts.shellBugs,
        counterMax: this.opts.counterMax,
        applySlicing: this.applySlicing(owner),
        fsyncOffLoop: this.opts.fsyncOffLoop,
      },
      observer: this.observerFor(n, owner),
    };
    this.log(`n${n.id} start #${n.incarnation} (accepted=${n.disk.hardState.acceptedEpoch} current=${n.disk.hardState.currentEpoch} log=${n.disk.log.length} snapshot=${zxidHex(n.disk.catalog.at(-1)?.zxid ?? 0n)})`);
    return ZkServer.start(this.options(n), this.logger.child({ node: n.id }), deps).then(
      (server) => {
        if (!owner.alive) return void server.close().catch(() => undefined);
        n.server = server;
        // Applied so far: the snapshot it loaded, plus (a core of one aside) nothing else yet.
        n.appliedZxid = server.db.lastProcessedZxid;
        n.digest = undefined;
        server.on('fatal', (err: Error) => {
          if (!owner.alive) return;
          this.stats.failStops++;
          this.log(`n${n.id} FAIL-STOP: ${err.message}`);
          this.kill(n, 'fail-stop');
          this.schedule(this.rng.range(50, 400), () => this.restart(n));
        });
      },
      (err: Error) => {
        // A server may refuse to start while its disk cannot be written; it is started again later.
        if (!n.diskFault || !owner.alive) return this.fail(`n${n.id} failed to start from its disk: ${err.message}`);
        this.log(`n${n.id} cannot start while its disk fails writes: ${err.message}`);
        this.kill(n, 'start failed');
        this.schedule(this.rng.range(50, 400), () => this.restart(n));
      },
    );
  }

  private restart(n: SimNode): void {
    if (n.alive) return;
    const prev = this.asyncWork ?? Promise.resolve();
    this.asyncWork = prev.then(() => this.startNode(n));
  }

  /** The process dies where it stands: only what its store committed survives. */
  private kill(n: SimNode, why: string): void {
    if (!n.alive || !n.owner) return;
    n.alive = false;
    n.owner.alive = false;
    this.net.processDied(n.owner);
    n.server = undefined;
    n.role = undefined;
    n.crashAtCommit = undefined;
    n.slowCommitMs = undefined;
    this.log(`n${n.id} DIES (${why})`);
  }

  private crash(n: SimNode, why = 'kill -9'): void {
    if (!n.alive) return;
    this.stats.crashes++;
    this.kill(n, why);
    // Sometimes back at once, so its new connections race the old ones' FINs.
    const delay = this.rng.bool(0.25) ? this.rng.next() * 3 : this.rng.range(50, 1500);
    this.schedule(delay, () => this.restart(n));
  }

  /** The store's failpoint: runs before every store transaction commits. */
  private onCommit(n: SimNode, owner: Owner, what: string): void {
    if (!owner.alive) throw new SimCrash('dead process');
    if (n.diskFault) throw DISK_FAULTS[n.diskFault]();
    if (n.slowCommitMs !== undefined) {
      this.world.stall(owner, n.slowCommitMs);
      n.slowCommitMs = undefined;
    }
    if (n.crashAtCommit !== undefined && --n.crashAtCommit <= 0) {
      this.stats.crashesMidBatch++;
      this.crash(n, `crash at a store commit (${what})`);
      throw new SimCrash('crashed mid-batch');
    }
  }

  /** Wraps a node's store with the persistence checks (Z2, Z11, integrity of logged txns). */
  private checkingStore(n: SimNode, owner: Owner, store: Store): Store {
    const clock = this.world.clockFor(owner);
    const checked: Pick<Store, 'persist' | 'persistWritten'> = {
      // The fsync takes a simulated millisecond after the write, as a thread-pool fdatasync would,
      // and a slow fsync (the slowFsync fault) delays only that answer while the process goes on
      // serving, timers and all: the replicator must hold the Ready (its ACK, the next Ready)
      // until told. A crash meanwhile drops the callback with the rest of the process.
      persistWritten: (batch, durable) => {
        const slowMs = n.slowCommitMs ?? 0;
        n.slowCommitMs = undefined;
        checked.persist(batch);
        const first = batch.entries?.[0]?.zxid;
        if (first !== undefined) n.unsynced.add(first);
        clock.setTimeout(() => {
          if (first !== undefined) n.unsynced.delete(first);
          durable();
        }, (this.opts.fsyncMs ?? 1) + slowMs);
      },
      persist: (batch: PersistBatch) => {
        const before = batch.truncateAfter !== undefined || batch.snapshot ? committedOnDisk(n.disk, (z) => this.globalIndex.has(z)) : undefined;
        const hs0 = { ...n.disk.hardState };
        store.persist(batch);
        const epochs = epochsProblem(hs0, n.disk.hardState);
        if (epochs) this.fail(`n${n.id}: ${epochs}`);
        for (const e of batch.entries ?? []) this.checkLogged(n, e.zxid, e.data);
        // Z11: a TRUNC or a SNAP install never removes a committed txn from the disk (not even for a moment).
        const lost = before && committedLost(n.disk, before);
        if (lost !== undefined) this.fail(`n${n.id}: committed ${zxidHex(lost)} removed from its disk by a TRUNC or SNAP install (Z11)`);
      },
    };
    return overriding(store, checked);
  }

  /** Z6: a zxid is only ever logged with one txn (one leader per epoch proposes it once). */
  private readonly logged = new Map<bigint, Buffer>();
  private checkLogged(n: SimNode, zxid: bigint, data: Buffer): void {
    const seen = this.logged.get(zxid);
    if (!seen) this.logged.set(zxid, data);
    else if (!seen.equals(data)) this.fail(`n${n.id}: logged ${zxidHex(zxid)} with a different txn than another server did (Z6 integrity)`);
  }

  // ------------------------------------------------------------------ what servers report

  private observerFor(n: SimNode, owner: Owner): ServerObserver {
    const alive = () => owner.alive;
    return {
      applied: (txn, db, events) => alive() && this.onApplied(n, txn, db, events),
      snapshotInstalled: (zxid) => {
        if (!alive()) return;
        if (zxid !== 0n && !this.globalIndex.has(zxid)) this.fail(`n${n.id} installed a SNAP at ${zxidHex(zxid)}, which was never committed`);
        n.appliedZxid = zxid;
        n.digest = undefined;
        this.checkPrimaryIntegrity(n);
      },
      role: (ev) => alive() && this.onRole(n, ev),
      peerSent: (to, msg) => alive() && this.onPeerSent(n, to, msg),
      ignored: (list) => {
        this.stats.ignored += list.length;
      },
      proposed: (txn) => {
        if (alive() && txn.body.type === 'closeSession') this.proposedCloses.add(txn.sessionId);
      },
    };
  }

  private onPeerSent(n: SimNode, to: number, msg: PeerMessage): void {
    if (msg.type === 'diff' || msg.type === 'trunc' || msg.type === 'snap') {
      this.stats.syncs[msg.type]++;
      this.log(`n${n.id} syncs n${to} by ${msg.type.toUpperCase()} at ${zxidHex(msg.zxid)}`);
    }
    if (msg.type !== 'ack') return;
    // Z9: an ACK means "durable": the acked history (and currentEpoch for NEWLEADER) is on disk,
    // and the fsync of every write it covers has returned.
    for (const first of n.unsynced) {
      if (first <= msg.zxid) this.fail(`n${n.id}: ACK ${zxidHex(msg.zxid)} sent before the fsync of the write from ${zxidHex(first)} returned (Z9 persist-before-ACK)`);
    }
    const problem = ackProblem(n.disk, msg, n.role?.epoch);
    if (problem) this.fail(`n${n.id}: ${problem}`);
  }

  private onRole(n: SimNode, ev: RoleEvent): void {
    n.role = ev;
    this.log(`n${n.id} ${ev.role}/${ev.phase} leader=${ev.leader ?? '-'} epoch=${ev.epoch}`);
    this.checkQuiet(n, ev);
    if (ev.role === 'following') this.checkPrimaryIntegrity(n);
    if (ev.role !== 'leading') return;
    if (ev.phase === 'sync') {
      // Zab.tla Leadership, on entry to synchronization: one leader per epoch.
      const prev = this.syncLeaderOfEpoch.get(ev.epoch);
      if (prev !== undefined && prev !== n.id) this.fail(`two leaders entered synchronization in epoch ${ev.epoch}: n${prev} and n${n.id} (Leadership)`);
      this.syncLeaderOfEpoch.set(ev.epoch, n.id);
    }
    if (ev.phase !== 'broadcast') return;
    this.stats.elections++;
    const prev = this.leaderOfEpoch.get(ev.epoch);
    if (prev !== undefined && prev !== n.id) this.fail(`two leaders established in epoch ${ev.epoch}: n${prev} and n${n.id} (Z1)`);
    this.leaderOfEpoch.set(ev.epoch, n.id);
    // Z12 / primary integrity: a new leader holds every txn committed, and every write
    // acknowledged, in an earlier epoch. Not those of a later epoch: a leader whose quorum of
    // NEWLEADER acks was gathered before a stall or partition can reach broadcast after a later
    // epoch has committed txns; it cannot commit anything (that quorum has moved on) and its lease
    // lapses, and Zab's PrimaryIntegrity only speaks of earlier epochs (sim seeds 2595, 304437).
    const server = n.server;
    const earlier = (zxid: bigint) => epochOf(zxid) < ev.epoch;
    let i = this.global.length - 1;
    while (i >= 0 && !earlier(this.global[i]!.zxid)) i--;
    const last = i >= 0 ? this.global[i] : undefined;
    if (server && last && !server.hasLogged(last.zxid)) this.fail(`n${n.id} leads epoch ${ev.epoch} without committed ${zxidHex(last.zxid)} (primary integrity, Z12)`);
    for (const a of this.acked) if (server && earlier(a.zxid) && !server.hasLogged(a.zxid)) this.fail(`n${n.id} leads epoch ${ev.epoch} without acknowledged ${a.what} (${zxidHex(a.zxid)})`);
    for (const f of this.nodes) if (f.role?.leader === n.id) this.checkPrimaryIntegrity(f);
  }

  /**
   * Zab.tla PrimaryIntegrity, checked whenever a follower or its leader changes (not only when the
   * leader is established): while both are in broadcast in the same epoch, the leader has
   * delivered every txn of an older epoch that the follower delivered.
   */
  private checkPrimaryIntegrity(f: SimNode): void {
    const fr = f.role;
    if (!f.alive || fr?.role !== 'following' || fr.phase !== 'broadcast') return;
    const l = this.nodes.find((x) => x.id === fr.leader);
    const lr = l?.role;
    if (!l?.alive || lr?.role !== 'leading' || lr.phase !== 'broadcast' || lr.epoch !== fr.epoch) return;
    if (epochOf(f.appliedZxid) < lr.epoch && f.appliedZxid > l.appliedZxid) {
      this.fail(`n${f.id} delivered ${zxidHex(f.appliedZxid)} of an older epoch that its leader n${l.id} (epoch ${lr.epoch}) has not (${zxidHex(l.appliedZxid)}) (PrimaryIntegrity)`);
    }
  }

  /**
   * Z5/Z7/Z8 and the txn-level checks: every server applies a prefix of one global sequence of
   * txns (same zxid, same bytes, successor zxids); trees agree at common zxids; a session's
   * ephemerals are gone once its close commits, and nothing it writes commits after.
   */
  private onApplied(n: SimNode, txn: Txn, db: ZkDatabase, events: readonly WatchEvent[]): void {
    const zxid = txn.zxid;
    const bytes = encodeTxn(txn);
    const pos = this.globalIndex.get(zxid);
    if (pos !== undefined) {
      const g = this.global[pos]!;
      if (!g.bytes.equals(bytes)) this.fail(`n${n.id} applied ${zxidHex(zxid)} with a different txn than others applied (prefix consistency)`);
      const prev = pos > 0 ? this.global[pos - 1]!.zxid : 0n;
      if (n.appliedZxid !== prev && n.appliedZxid < zxid) this.fail(`n${n.id} applied ${zxidHex(zxid)} after ${zxidHex(n.appliedZxid)}, skipping ${zxidHex(prev)} (prefix consistency)`);
    } else {
      const last = this.global.at(-1)?.zxid ?? 0n;
      if (n.appliedZxid !== last) this.fail(`n${n.id} applied new ${zxidHex(zxid)} after ${zxidHex(n.appliedZxid)} while the committed sequence ends at ${zxidHex(last)} (prefix consistency)`);
      if (!isSuccessor(last, zxid)) this.fail(`committed ${zxidHex(zxid)} right after ${zxidHex(last)} (total order / Z4)`);
      this.onNewlyCommitted(n, txn, bytes, events);
    }
    if (zxid <= n.appliedZxid) this.fail(`n${n.id} applied ${zxidHex(zxid)} again (already at ${zxidHex(n.appliedZxid)})`);
    this.checkAppliedDurable(n, zxid);
    n.appliedZxid = zxid;
    this.checkPrimaryIntegrity(n);
    if (txn.body.type === 'closeSession' && db.tree.getEphemerals(txn.sessionId).length > 0) {
      this.fail(`n${n.id}: session 0x${txn.sessionId.toString(16)} closed at ${zxidHex(zxid)} but its ephemerals ${db.tree.getEphemerals(txn.sessionId).join(',')} remain`);
    }
    // The tree digests of all members agree at every common zxid (kept per txn, see RollingDigest);
    // every 32nd counter the rolling digest is also checked against a fresh walk of the tree.
    const d = this.rollDigest(n, txn, db, events);
    const seen = this.digests.get(zxid);
    if (seen === undefined) this.digests.set(zxid, d);
    else if (seen !== d) this.fail(`n${n.id}: tree digest at ${zxidHex(zxid)} differs from another server's (divergent state)`);
    if (counterOf(zxid) % 32n === 0n && fullDigest(db).sum !== d) this.fail(`n${n.id}: rolling digest at ${zxidHex(zxid)} drifted from its tree (checker bookkeeping)`);
  }

  /**
   * Z9c, Z9 for clients: applying a txn is what replies to its write, so a member applies only what
   * its own disk has, even when a quorum of others has it (a write's reply from here means "on disk
   * here"). Writes become durable in order, so any unsynced write starting at or below it counts.
   */
  private checkAppliedDurable(n: SimNode, zxid: bigint): void {
    for (const first of n.unsynced) {
      if (first <= zxid) this.fail(`n${n.id} applied ${zxidHex(zxid)} (and replied to its write) before the fsync of its write from ${zxidHex(first)} returned (Z9c)`);
    }
  }

  private rollDigest(n: SimNode, txn: Txn, db: ZkDatabase, events: readonly WatchEvent[]): bigint {
    if (!n.digest || hasQuotas(db)) return (n.digest = fullDigest(db)).sum;
    const dg = n.digest;
    for (const path of touchedPaths(txn, events)) {
      const h = nodeHash(db, path);
      dg.sum = (dg.sum - (dg.hashes.get(path) ?? 0n) + h) & MASK64;
      if (h === 0n) dg.hashes.delete(path);
      else dg.hashes.set(path, h);
    }
    return dg.sum;
  }

  /** The first time anyone applies a txn: it joins the committed sequence. */
  private onNewlyCommitted(n: SimNode, txn: Txn, bytes: Buffer, events: readonly WatchEvent[]): void {
    const closedAt = this.closedSessions.get(txn.sessionId);
    const writes = txn.body.type !== 'error' && txn.body.type !== 'closeSession' && txn.body.type !== 'createSession';
    // A session id may be issued again after its session ended (ids come from the wall clock at
    // start, as in ZooKeeper): a createSession starts a new session.
    if (txn.body.type === 'createSession') {
      this.closedSessions.delete(txn.sessionId);
      this.proposedCloses.delete(txn.sessionId);
    }
    if (closedAt !== undefined && writes) this.fail(`a write of session 0x${txn.sessionId.toString(16)} committed at ${zxidHex(txn.zxid)} after the session closed at ${zxidHex(this.global[closedAt]!.zxid)}`);
    this.globalIndex.set(txn.zxid, this.global.length);
    this.global.push({ zxid: txn.zxid, bytes, sessionId: txn.sessionId, type: txn.body.type });
    for (const e of events) {
      const rec = { zxid: e.zxid, type: e.type, acl: e.acl, path: e.path };
      let list = this.eventsByPath.get(e.path);
      if (!list) this.eventsByPath.set(e.path, (list = []));
      list.push(rec);
      if (e.path === '/secret' || e.path.startsWith('/secret/')) this.secretEvents.push(rec);
    }
    if (txn.body.type === 'closeSession') {
      this.closedSessions.set(txn.sessionId, this.global.length - 1);
      const c = this.clientOfSession.get(txn.sessionId);
      if (!this.closingSessions.has(txn.sessionId)) {
        this.stats.sessionExpiries++;
        this.log(`session 0x${txn.sessionId.toString(16)} expired at ${zxidHex(txn.zxid)} (by n${n.id}'s apply)`);
        if (c && c.sessionId === txn.sessionId) this.checkExpiry(c);
      }
    }
    if (this.barrier && txn.body.type === 'create' && this.barrier.zxid === undefined) {
      const path = (txn.body as { path?: string }).path;
      if (path === this.barrier.path) this.barrier.zxid = txn.zxid;
    }
  }

  /**
   * A session must not expire while its client is in contact: the leader cannot expire it before
   * half its timeout after the follower's last confirmed report, and a cut-off follower drops the
   * client by a quarter of it plus two core ticks (contactLimitMs): so an expiry committed within
   * T/4 - 3 ticks of the client's last answered request was decided without the leader's own view.
   */
  private checkExpiry(c: SimClient): void {
    const T = c.negotiatedTimeoutMs;
    const g = this.timing.coreTickMs;
    const since = this.world.now - c.lastOkAt;
    if (c.lastOkAt >= 0 && since < T / 4 - 3 * g) {
      this.fail(`session 0x${c.sessionId.toString(16)} of client ${c.id} expired ${since.toFixed(1)} ms after the client's last answered request (timeout ${T} ms): its client was in contact`);
    }
  }

  // ------------------------------------------------------------------ clients

  private addClient(id: number): void {
    const host = `10.9.0.${id}`;
    const owner = new Owner(`c${id}`, WALL_BASE);
    const servers = this.rng.shuffle(this.specs.map((s) => s.host));
    const timeout = this.tickTimeMs * this.rng.pick([4, 6, 10]);
    const c = new SimClient(id, host, this.net.view(host, owner), this.world.clockFor(owner), this.rng.fork(), servers, this.checks, timeout, id === 1);
    this.clients.push(c);
    c.start();
  }

  private workload(): void {
    if (!this.setupDone) {
      const c = this.clients.find((x) => x.state === 'connected');
      if (c && !this.setupStarted) {
        this.setupStarted = true;
        c.setup(() => {
          this.setupDone = true;
        });
        this.schedule(2000, () => {
          this.setupStarted = false;
        });
      }
      return;
    }
    const c = this.rng.pick(this.clients);
    if (c.state === 'stopped') return;
    c.act();
    if (c.sessionId !== 0n) this.clientOfSession.set(c.sessionId, c);
  }

  private setupStarted = false;

  private readonly checks: ClientChecks = {
    acked: (c, what, zxid) => {
      this.acked.push({ zxid, what: `${what} by client ${c.id}` });
      if (zxid > this.maxAckedZxid) this.maxAckedZxid = zxid;
      if (this.barrier && what === `create ${this.barrier.path}`) this.barrier.zxid = zxid;
    },
    maxAcked: () => this.maxAckedZxid,
    reply: (c, zxid, armed) => this.checkWatchOrder(c, zxid, armed),
    event: (c, type, path, zxid) => {
      this.stats.watchEvents++;
      const ev = this.eventsByPath.get(path)?.find((e) => e.zxid === zxid && e.type === type);
      if (!ev) this.fail(`client ${c.id} got event ${type} on ${path} at ${zxidHex(zxid)}, which no committed txn raised`);
      if (!checkAcl(ev.acl, Perms.read, c.authIds)) this.fail(`client ${c.id} got event ${type} on ${path}, a node it cannot read (watch event revealed an unreadable node)`);
    },
    syncRead: (c, readZxid, ackedBefore) => {
      if (readZxid < ackedBefore) this.fail(`client ${c.id}: a read after sync on ${c.connectedTo} saw ${zxidHex(readZxid)}, but ${zxidHex(ackedBefore)} was acknowledged before the sync was sent (sync + read)`);
    },
    sessionEnded: (c, sid, how) => {
      if (how === 'closing') this.closingSessions.add(sid);
      if (how === 'expired') this.checkToldExpired(c, sid);
      this.log(`client ${c.id}: session 0x${sid.toString(16)} ${how}`);
    },
    note: (c, what) => this.log(`client ${c.id}: ${what}`),
  };

  /**
   * SESSION_EXPIRED is final (the client starts over, its ephemerals as good as gone): a server may
   * say it only of a session whose close is committed or at least proposed by a leader.
   * A client only ever resumes a session it was told was created, i.e. one already committed: a
   * server that has not applied that far yet must find out (ask the leader), not refuse.
   */
  private checkToldExpired(c: SimClient, sid: bigint): void {
    if (this.closedSessions.has(sid) || this.closingSessions.has(sid) || this.proposedCloses.has(sid)) return;
    const created = this.global.find((g) => g.sessionId === sid && g.type === 'createSession')?.zxid;
    const by = this.nodes.find((n) => n.host === c.connectedTo);
    const role = by?.role ? `${by.role.role}/${by.role.phase}` : 'no role';
    this.fail(`client ${c.id} was told by ${by ? `n${by.id} (${role})` : c.connectedTo} that its session 0x${sid.toString(16)} (created at ${created === undefined ? '?' : zxidHex(created)}) expired while it is live (no close of it committed or proposed)`);
  }

  /**
   * A client sees a watch event before any reply that shows the change: no reply at zxid h may
   * arrive while a change that fires one of its armed watches, committed in (armed, h], has not
   * been announced. Changes the client may not read are not announced (and not owed).
   */
  private checkWatchOrder(c: SimClient, h: bigint, armed: readonly Armed[]): void {
    for (const a of armed) {
      const list = a.kind === 'recursive' ? this.secretEvents : this.eventsByPath.get(a.path);
      if (!list) continue;
      for (let i = firstAfter(list, a.seenUpTo); i < list.length && list[i]!.zxid <= h; i++) {
        const e = list[i]!;
        if (!triggers(a.kind, e.type) || !checkAcl(e.acl, Perms.read, c.authIds)) continue;
        this.fail(`client ${c.id}: a reply at ${zxidHex(h)} arrived before the watch event for change ${zxidHex(e.zxid)} on ${e.path} (${a.kind} watch armed at ${zxidHex(a.seenUpTo)}): the watch event must come first`);
      }
    }
  }

  // ------------------------------------------------------------------ faults

  private aliveNodes(): SimNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  private leader(): SimNode | undefined {
    return this.nodes.find((n) => n.alive && n.role?.role === 'leading');
  }

  private onFault(): void {
    if (this.healed) return;
    const kind = this.rng.pick(this.faultKinds);
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
    const alive = this.aliveNodes();
    const leader = this.leader();
    const any = (): SimNode | undefined => (alive.length > 0 ? this.rng.pick(alive) : undefined);
    const victim = (): SimNode | undefined => (leader && this.rng.bool(0.4) ? leader : any());
    const hold = (): number => this.rng.range(200, 2500);
    switch (kind) {
      case 'crash': {
        const n = victim();
        if (n) this.crash(n);
        break;
      }
      case 'crashAll':
        for (const n of alive) this.crash(n);
        break;
      case 'crashMidBatch': {
        // Any prefix of the separate store transactions a batch issues survives.
        const n = victim();
        if (n) n.crashAtCommit = this.rng.range(1, 4);
        this.log(`n${n?.id} will crash at its ${n?.crashAtCommit}th store commit from now`);
        break;
      }
      case 'leaderCrashAfterSend':
        // The leader sends its PROPOSALs before its own fsync: crash it in between.
        if (leader) leader.crashAtCommit = 1;
        break;
      case 'silentCut':
      case 'silentLeader':
      case 'partition': {
        const side = kind === 'silentLeader' && leader ? [leader] : this.minority();
        const rest = this.nodes.filter((x) => !side.includes(x));
        this.log(`${kind === 'partition' ? 'PARTITION (resets)' : 'SILENT CUT'} {${side.map((x) => x.id).join(',')}} | rest`);
        for (const a of side) for (const b of rest) kind === 'partition' ? this.net.cutLoudly(a.host, b.host) : this.net.cutSilently(a.host, b.host);
        this.schedule(hold(), () => this.healNetwork());
        break;
      }
      case 'oneway': {
        const a = leader ?? this.rng.pick(this.nodes);
        for (const b of this.nodes) {
          if (b === a || !this.rng.bool(0.6)) continue;
          if (this.rng.bool(0.5)) this.net.blockOneWay(a.host, b.host);
          else this.net.blockOneWay(b.host, a.host);
        }
        this.log(`ONE-WAY stalls around n${a.id}`);
        this.schedule(hold(), () => this.healNetwork());
        break;
      }
      case 'reset': {
        const a = this.rng.pick(this.nodes);
        const b = this.rng.pick(this.nodes.filter((x) => x !== a));
        this.log(`RESET n${a.id}-n${b.id}: ${this.net.resetBetween(a.host, b.host)} connection(s)`);
        break;
      }
      case 'halfOpen': {
        const a = this.rng.pick(this.nodes);
        const b = this.rng.pick(this.nodes.filter((x) => x !== a));
        this.log(`HALF-OPEN n${a.id}-n${b.id}: ${this.net.forgetAtOneEnd(a.host, b.host)} connection(s) forgotten at n${a.id}'s end`);
        break;
      }
      case 'stall': {
        // SIGSTOP / a long GC: the process runs nothing, then catches up (ticks first).
        const n = victim();
        if (n?.owner) {
          const ms = this.rng.range(50, 1500);
          this.log(`n${n.id} STALLS for ${ms} ms`);
          this.world.stall(n.owner, ms);
        }
        break;
      }
      case 'slowFsync': {
        const n = victim();
        if (n) n.slowCommitMs = this.rng.range(20, 800);
        break;
      }
      case 'diskError': {
        const n = victim();
        if (n) this.failDisks([n], 'ioerr', hold());
        break;
      }
      case 'diskFull': {
        // Members get the same writes on disks of the same size, so they tend to fill up together:
        // one member, a majority or all of them, until an operator frees space.
        const voters = this.nodes.filter((x) => !x.observer);
        const k = this.rng.pick([1, Math.floor(voters.length / 2) + 1, this.nodes.length]);
        this.failDisks(this.rng.shuffle([...this.nodes]).slice(0, k), 'full', hold());
        break;
      }
      case 'clockJump': {
        const n = any();
        if (n?.owner) {
          const jump = this.rng.pick([-1, 1]) * this.rng.range(1, 3600) * 1000;
          n.owner.wallOffset += jump;
          this.log(`n${n.id}: wall clock jumps ${jump / 1000} s`);
        }
        break;
      }
      case 'clientCrash': {
        const c = this.rng.pick(this.clients.filter((x) => x.state !== 'stopped'));
        this.log(`client ${c.id} DIES (kill -9): its session must expire`);
        c.stop();
        this.addClient(this.clients.length + 1);
        break;
      }
      case 'clientCut': {
        const c = this.rng.pick(this.clients);
        if (c.connectedTo) {
          this.log(`client ${c.id} cut off from ${c.connectedTo}`);
          this.net.cutSilently(c.host, c.connectedTo);
          this.schedule(hold(), () => this.healNetwork());
        }
        break;
      }
    }
    this.schedule(this.rng.range(150, 1000), () => this.onFault());
  }

  private failDisks(nodes: SimNode[], fault: DiskFault, ms: number): void {
    for (const n of nodes) n.diskFault = fault;
    this.log(`disks of {${nodes.map((n) => n.id).join(',')}} fail writes (${fault}) for ${ms} ms`);
    this.schedule(ms, () => {
      for (const n of nodes) if (n.diskFault === fault) n.diskFault = undefined;
      this.log(`disks of {${nodes.map((n) => n.id).join(',')}} write again`);
    });
  }

  private minority(): SimNode[] {
    const voters = this.nodes.filter((n) => !n.observer);
    const k = this.rng.range(1, Math.floor(voters.length / 2));
    return this.rng.shuffle([...this.nodes]).slice(0, k);
  }

  private healNetwork(): void {
    this.net.healAll();
    this.log('network healed');
  }

  // ------------------------------------------------------------------ healing and liveness

  private onHeal(): void {
    this.healed = true;
    this.log('HEAL: faults off, network healed, every server restarted');
    this.net.healAll();
    for (const n of this.nodes) {
      n.diskFault = undefined;
      n.crashAtCommit = undefined;
      n.slowCommitMs = undefined;
    }
    this.every(this.tickTimeMs / 2, () => this.checkLiveness());
    const dead = this.nodes.filter((n) => !n.alive);
    const restartNext = (): void => {
      const n = dead.shift();
      if (!n) return;
      this.restart(n);
      if (dead.length > 0) this.schedule(1, restartNext);
    };
    restartNext();
  }

  /** After healing: every server serves one leader, a barrier write is everywhere, then quiet. */
  private checkLiveness(): void {
    if (this.quietUntil !== undefined) {
      if (this.world.now >= this.quietUntil) this.finalChecks();
      return;
    }
    if (!this.nodes.every((n) => n.alive && n.role?.phase === 'broadcast')) return;
    if (!this.barrier) {
      this.barrier = { path: `/w/barrier-${this.world.now.toFixed(0)}` };
      this.log(`barrier ${this.barrier.path} requested`);
      this.requestBarrier();
      return;
    }
    const z = this.barrier.zxid;
    if (z === undefined) {
      if (this.world.now % 500 < this.tickTimeMs / 2) this.requestBarrier();
      return;
    }
    if (!this.nodes.every((n) => n.appliedZxid >= z)) return;
    const leader = this.leader();
    this.quietLeader = leader && leader.role ? { id: leader.id, epoch: leader.role.epoch } : undefined;
    // Three lease periods: a leader that cannot renew its lease, or a follower that gives up on a
    // healthy leader, shows within them.
    this.quietUntil = this.world.now + 3 * this.timing.syncLimitTicks * this.timing.coreTickMs + 200;
    this.log(`barrier ${this.barrier.path} (${zxidHex(z)}) applied everywhere; quiet period`);
  }

  private requestBarrier(): void {
    const c = this.clients.find((x) => x.state === 'connected');
    if (c && this.barrier) c.createForBarrier(this.barrier.path);
  }

  /** Stability: once healthy, nobody looks for another leader. */
  private checkQuiet(n: SimNode, ev: RoleEvent): void {
    if (this.quietUntil === undefined) return;
    const problem = flappingProblem(this.quietLeader, ev);
    if (problem) this.fail(`leader flapping: n${n.id} ${problem}`);
  }

  /** Every acknowledged write is committed; every server has it; all trees are identical. */
  private finalChecks(): void {
    for (const a of this.acked) {
      if (!this.globalIndex.has(a.zxid)) this.fail(`acknowledged ${a.what} (${zxidHex(a.zxid)}) was never committed (lost write)`);
    }
    const top = this.nodes.map((n) => n.appliedZxid);
    if (new Set(top).size === 1) {
      const ds = new Set(this.nodes.map((n) => treeDigest(n.server!.db)));
      if (ds.size !== 1) this.fail(`servers applied the same history up to ${zxidHex(top[0]!)} but their trees differ`);
    }
    this.done = true;
  }

  private describe(): string {
    return this.nodes
      .map((n) => (n.alive ? `n${n.id}:${n.role?.role ?? '?'}/${n.role?.phase ?? '?'} e${n.role?.epoch ?? '?'} applied=${zxidHex(n.appliedZxid)}` : `n${n.id}:down`))
      .join(' ');
  }
}

interface ChangeEvent {
  zxid: bigint;
  type: number;
  acl: WatchEvent['acl'];
  path: string;
}

/** Index of the first event with a zxid above `z` (lists are in commit order). */
function firstAfter(list: readonly ChangeEvent[], z: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.zxid <= z) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Which committed changes fire a watch of this kind (ZooKeeper's WatchManager rules). */
function triggers(kind: Armed['kind'], type: number): boolean {
  switch (kind) {
    case 'data':
      return type === 1 || type === 2 || type === 3;
    case 'exist':
      return type === 1 || type === 2 || type === 3;
    case 'child':
      return type === 4 || type === 2;
    case 'recursive':
      return type === 1 || type === 2 || type === 3;
  }
}

export async function runSeed(opts: SimOptions): Promise<SimResult> {
  return new Simulation(opts).run();
}

export { epochOf };
