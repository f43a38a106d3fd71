import type { Logger } from 'pino';
import type { MessageOf, PeerMessage } from '../../protocol/peer/messages';
import type { LogEntry, Store } from '../storage/types';
import type { QuorumCore, Ready, Role, RoleEvent } from './core';
import { afterDurable, finishReady, sendPolicy, writeReady, type ReadyTarget, type SendPolicy, type ShellBugs } from './execute';
import type { PeerLinks } from './transport';
import { epochOf, zxidHex } from '../util/zxid';
import type { Clock, TimerHandle } from '../util/clock';

/** What the driver needs from the server it replicates for. */
export interface ZabHost {
  /** Committed txns in zxid order: apply them and answer any waiting client. */
  applyCommitted(entries: readonly LogEntry[]): void;
  /** A SNAP sync replaced our state: load it (it is already durable). */
  installSnapshot(zxid: bigint, data: Buffer): void;
  onRoleEvent(ev: RoleEvent): void;
  /** REQUEST / REVALIDATE from a learner (leader side). */
  onForwarded(from: number, msg: PeerMessage): void;
  /** The answer to the oldest of this server's `requestSync` calls: apply this far, then answer it. */
  onSyncAnswer(zxid: bigint): void;
  /** After a batch of Readys: send client replies now rather than a turn later. */
  afterReady(): void;
  /**
   * Fail-stop: a store write failed (or an invariant broke) while executing a Ready. Nothing more
   * may be acknowledged; the driver has already stopped. Never thrown from a callback instead.
   */
  onFatal(err: Error): void;
  /** Input the core dropped on purpose (optional: statistics). */
  onIgnored?(ignored: ReadonlyArray<{ from: number; type: string; why: string }>): void;
}

/**
 * How committed txns are applied when a Ready carries many of them (a DIFF at sync, a restarted
 * member catching up: tens of thousands of txns, 14 µs each): in chunks of `chunk` txns, yielding
 * the event loop once a slice has run `budgetMs` of clock time or applied `maxTxns` txns, so no
 * single turn stalls client I/O, pings and timers (issue 12).
 */
export interface ApplySlicing {
  budgetMs: number;
  /** Deterministic cap per slice (the simulator's clock stands still within a turn). */
  maxTxns: number;
  chunk: number;
  /** Test-only: told each time a slice yields the event loop with `left` txns still to apply. */
  onYield?: (left: number) => void;
}

/**
 * The clock is checked between chunks, so a chunk is the overshoot: 64 txns are ~1 ms at ~16 µs a
 * txn, and 8 ms at 1M znodes while scavenges run inside it (256 made turns of 30-50 ms there).
 */
export const APPLY_SLICING: ApplySlicing = { budgetMs: 10, maxTxns: Number.POSITIVE_INFINITY, chunk: 64 };

/**
 * The imperative shell around the pure QuorumCore: it feeds the core ticks, peer up/down and
 * messages, then executes each Ready in the order the core demands — persist (one SQLite
 * transaction), send, disconnect, apply, advance. Inputs that arrive in one event-loop turn are
 * handled by one Ready (group commit for the leader's proposals and the learners' ACKs alike).
 * A Ready with many committed txns applies them in slices (ApplySlicing); meanwhile input still
 * reaches the core, but its next Ready waits until this one is finished and advanced. With the
 * txn-log fsync on the thread pool (`fsyncOffLoop`, the default), a Ready's committed txns that
 * were durable before it are applied while its fsync runs, and it is finished when both are done;
 * its ACKs, and the committed txns it writes itself, wait for the fsync (see `begin`).
 */
export class ZabReplicator {
  private scheduled = false;
  private tickTimer: TimerHandle | undefined;
  private lastCommitted = 0n;
  private stopped = false;
  /** Where executeReady sends each step of a Ready: the store, the transport, the server. */
  private readonly target: ReadyTarget;
  private readonly policy: SendPolicy;
  /** Planted leaderAppliesRecoveredLate: older-epoch txns held back until the next commit. */
  private heldBack: LogEntry[] = [];
  /**
   * The Ready being executed across turns (waiting for its fsync, or applying its committed txns
   * in slices): no other Ready starts meanwhile. Input still reaches the core, and what it produces
   * in the meantime goes out as the next Ready, with one write and one fsync (group commit).
   */
  private busy: Ready | undefined;

  constructor(
    private readonly core: QuorumCore,
    store: Store,
    private readonly transport: PeerLinks,
    private readonly host: ZabHost,
    logger: Logger,
    private readonly clock: Clock,
    private readonly tickMs: number,
    appliedZxid: bigint,
    /** Test-only planted shell bugs (the simulator's plants). */
    private readonly bugs: ShellBugs = {},
    private readonly slicing: ApplySlicing = APPLY_SLICING,
    /** Log appends fsynced on the thread pool (Store.persistWritten), docs/log-writer.md; false (inline) is for tests. */
    private readonly fsyncOffLoop = true,
  ) {
    this.lastCommitted = appliedZxid;
    this.policy = sendPolicy(bugs);
    const { transport: tp } = this;
    this.target = {
      store,
      send: (to, msg) => tp.send(to, msg),
      flush: () => tp.flushAll(),
      disconnect: (peer) => tp.disconnect(peer),
      installSnapshot: (zxid, data) => {
        this.heldBack = [];
        host.installSnapshot(zxid, data);
        this.lastCommitted = zxid;
      },
      applyCommitted: (committed) => {
        const entries = this.holdBackPlanted(committed);
        if (entries.length === 0) return;
        this.lastCommitted = entries[entries.length - 1].zxid;
        host.applyCommitted(entries);
      },
      applyLogged: (entries) => host.applyCommitted(entries),
      onRoleEvent: (ev) => host.onRoleEvent(ev),
      onForwarded: (from, msg) => host.onForwarded(from, msg),
      onSyncAnswer: (zxid) => host.onSyncAnswer(zxid),
      log: (level, text, fields) => logger[level](fields ?? {}, text),
      onIgnored: (ignored) => host.onIgnored?.(ignored),
    };
  }

  start(): void {
    this.transport.on('up', (peer: number) => this.input(() => this.core.peerUp(peer)));
    this.transport.on('down', (peer: number) => this.input(() => this.core.peerDown(peer)));
    this.transport.on('message', (peer: number, msg: PeerMessage) => this.input(() => this.core.step(peer, msg)));
    this.transport.on('fatal', (err: Error) => this.fatal(err));
    // Ticks follow the monotonic clock: after a stall (GC, SIGSTOP) the missed ticks are delivered
    // at once, before anything read meanwhile, so lease and timeout arithmetic in the core never
    // runs on stale time. Each wake-up is set for the next tick's instant.
    let last = this.clock.now();
    const wake = (): void => {
      const now = this.clock.now();
      const due = Math.floor((now - last) / this.tickMs);
      if (due > 0) {
        last += due * this.tickMs;
        this.input(() => {
          for (let i = 0; i < due; i++) this.core.tick();
        });
      }
      if (!this.stopped) this.tickTimer = this.clock.setTimeout(wake, Math.max(1, last + this.tickMs - this.clock.now()));
    };
    this.tickTimer = this.clock.setTimeout(wake, this.tickMs);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.tickTimer?.cancel();
  }

  get canPropose(): boolean {
    return this.core.canPropose();
  }

  /** The zxid the core will give the next proposal (prep needs it before the txn is encoded). */
  nextZxid(): bigint {
    const zxid = this.core.nextZxid();
    if (zxid === undefined) throw new Error('nextZxid() while this server cannot propose');
    return zxid;
  }

  propose(entry: LogEntry): void {
    const zxid = this.core.propose(entry.data);
    if (zxid === undefined) throw new Error(`proposal ${zxidHex(entry.zxid)} while this server cannot propose`);
    if (zxid !== entry.zxid) throw new Error(`core assigned ${zxidHex(zxid)} to txn ${zxidHex(entry.zxid)}`);
    this.schedule();
  }

  flush(): void {
    this.processReady();
  }

  lastProposedZxid(): bigint {
    return this.core.status().lastZxid;
  }

  lastCommittedZxid(): bigint {
    return this.lastCommitted;
  }

  epoch(): number {
    return this.core.status().epoch;
  }

  compactLog(zxid: bigint): void {
    if (zxid <= this.core.status().committedZxid) this.core.compact(zxid);
  }

  status(): ReturnType<QuorumCore['status']> {
    return this.core.status();
  }

  hasLogged(zxid: bigint): boolean {
    return this.core.hasLogged(zxid);
  }

  /** Core ticks since the leader last confirmed it hears us (QuorumCore.contactAge). */
  contactAge(): number {
    return this.core.contactAge();
  }

  learnerStatus(): ReturnType<QuorumCore['learnerStatus']> {
    return this.core.learnerStatus();
  }

  leaderId(): number | undefined {
    return this.core.status().leader;
  }

  /** Server-layer messages (forwarded writes, session touches, sync) to the current leader. */
  sendToLeader(msg: PeerMessage): boolean {
    const leader = this.leaderId();
    if (leader === undefined || leader === this.core.id) return false;
    return this.transport.send(leader, msg);
  }

  /** Leader: the answer to a learner's REVALIDATE; false when `sid` is not a synced learner. */
  sendToLearner(sid: number, msg: MessageOf<'revalidate'>): boolean {
    if (!this.core.sendToLearner(sid, msg)) return false;
    this.schedule();
    return true;
  }

  /**
   * A client `sync`: the leader's core answers once a quorum has confirmed it still leads; a
   * learner asks its leader the same way. The answer arrives through `onSyncAnswer`, in call order.
   * False when this server has no established leader to ask.
   */
  requestSync(): boolean {
    const ok = this.core.canPropose() ? this.core.requestSync() : this.core.sendToLeader({ type: 'sync', zxid: 0n });
    if (ok) this.schedule();
    return ok;
  }

  /** Socket and timer callbacks end here: anything they throw becomes a fail-stop, never an uncaught exception. */
  private input(fn: () => void): void {
    if (this.stopped) return;
    try {
      fn();
    } catch (err) {
      return this.fatal(err as Error);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.clock.setImmediate(() => {
      this.scheduled = false;
      try {
        this.processReady();
      } catch (err) {
        this.fatal(err as Error);
      }
    });
  }

  private fatal(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.host.onFatal(err);
  }

  /** Planted leaderAppliesRecoveredLate: a leader keeps back a batch made only of older-epoch txns and applies it before the next. */
  private holdBackPlanted(committed: readonly LogEntry[]): readonly LogEntry[] {
    if (!this.bugs.leaderAppliesRecoveredLate) return committed;
    const { role, epoch } = this.core.status();
    const entries = [...this.heldBack, ...committed];
    const older = role === 'leading' && entries.every((e) => epochOf(e.zxid) < epoch);
    this.heldBack = older ? entries : [];
    return older ? [] : entries;
  }

  /**
   * Executes Readys until the core has nothing more to say, or until one waits for its fsync or
   * yields part-way through applying its committed txns (it resumes itself). Throws
   * StorageFatalError upward.
   */
  private processReady(): void {
    if (this.busy) return;
    let worked = false;
    while (!this.stopped && this.core.hasReady()) {
      worked = true;
      if (!this.begin(this.core.ready())) break;
    }
    if (worked) this.afterWork();
  }

  /**
   * Writes `r`, then applies the committed txns it can without waiting for the write's fsync when
   * that runs on the thread pool: those durable here before this Ready. The leader's COMMITs for
   * them may already have left, so a client can see them on a follower within the fsync's time; a
   * server holding them back would answer that client from an older state (a session it was told
   * exists, unknown here). Committed txns this Ready itself writes (a follower that got a PROPOSAL
   * and its COMMIT together) wait for the fsync, as its ACKs and the Ready's end (the core's
   * advance, role changes, sync answers) do: applying one replies to its write, and that reply says
   * "on disk here". True when the Ready is finished.
   */
  private begin(r: Ready): boolean {
    const ex: Execution = { r, role: this.core.status().role, early: false, durable: false, applied: false, unsynced: 0, parked: undefined };
    this.busy = r;
    let writing = true;
    ex.early = writeReady(r, ex.role, this.target, this.policy, this.bugs, this.fsyncOffLoop, (err) => {
      if (err) return this.fatal(err);
      if (writing) ex.durable = true;
      else this.onDurable(ex);
    });
    writing = false;
    // Durable already (an inline commit): the sends that waited for it go before the apply, as ever.
    if (ex.durable) afterDurable(r, ex.role, this.target, ex.early, this.bugs);
    else ex.unsynced = firstWritten(r);
    return this.applyFrom(ex, 0);
  }

  /** The store reported durability in a later turn: send what waited for it, finish if applied. */
  private onDurable(ex: Execution): void {
    if (this.stopped) return;
    try {
      ex.durable = true;
      afterDurable(ex.r, ex.role, this.target, ex.early, this.bugs);
      const done = ex.parked !== undefined ? this.applyFrom(ex, ex.parked) : ex.applied && this.finish(ex);
      this.afterWork();
      if (done) this.processReady();
    } catch (err) {
      this.fatal(err as Error);
    }
  }

  /** Ends a durable, fully applied Ready: its role changes and sync answers, then the core moves on. */
  private finish(ex: Execution): boolean {
    this.busy = undefined;
    finishReady(ex.r, this.target);
    this.core.advance(ex.r);
    return true;
  }

  /** Every hop costs a turn otherwise: proposals/ACKs and client replies leave right away. */
  private afterWork(): void {
    this.transport.flushAll();
    this.host.afterReady();
  }

  /**
   * Applies `ex`'s committed txns from index `from` for one slice, stopping before those its own
   * write has not made durable yet (`parked`: its fsync's answer resumes there). When the last is
   * applied, finishes the Ready if it is durable (else its fsync's answer will) and returns whether
   * it did; otherwise schedules the next slice for the next turn and returns false.
   */
  private applyFrom(ex: Execution, from: number): boolean {
    const entries = ex.r.committed;
    const { budgetMs, maxTxns, chunk } = this.slicing;
    const start = this.clock.now();
    const limit = ex.durable ? entries.length : ex.unsynced;
    ex.parked = undefined;
    let i = from;
    while (i < limit) {
      if (i > from && (i - from >= maxTxns || this.clock.now() - start >= budgetMs)) {
        this.slicing.onYield?.(entries.length - i);
        this.clock.setImmediate(() => this.resume(ex, i));
        return false;
      }
      const end = Math.min(limit, i + chunk, from + maxTxns);
      this.target.applyCommitted(i === 0 && end === entries.length ? entries : entries.slice(i, end));
      i = end;
    }
    if (i < entries.length) {
      ex.parked = i;
      return false;
    }
    ex.applied = true;
    return ex.durable && this.finish(ex);
  }

  private resume(ex: Execution, from: number): void {
    if (this.stopped) return;
    try {
      const done = this.applyFrom(ex, from);
      this.afterWork();
      if (done) this.processReady();
    } catch (err) {
      this.fatal(err as Error);
    }
  }
}

/** A Ready being executed: written; then durable and applied, in either order; then finished. */
interface Execution {
  r: Ready;
  role: Role;
  /** Its messages left before the write (the leader's broadcast traffic). */
  early: boolean;
  durable: boolean;
  applied: boolean;
  /** Until durable, only committed[0..unsynced) may be applied: the rest is in this Ready's own write. */
  unsynced: number;
  /** Applied up to here, the rest waiting for the fsync (which resumes from it). */
  parked: number | undefined;
}

/** The index of the first committed txn that `r` itself writes (none: all of them are durable already). */
function firstWritten(r: Ready): number {
  const first = r.entries[0]?.zxid;
  if (first === undefined) return r.committed.length;
  const i = r.committed.findIndex((e) => e.zxid >= first);
  return i < 0 ? r.committed.length : i;
}
