import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { PeerMessage } from '../../protocol/peer/messages';
import type { LogEntry, Store } from '../storage/types';
import { decodeSnapshotRef } from '../storage/bodies';
import type { QuorumCore, Ready, RoleEvent } from './core';
import type { Replicator } from './replicator';
import type { PeerTransport } from './transport';
import { counterOf, epochOf, makeZxid, zxidHex } from './zxid';

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
}

const SERVER_LAYER = new Set(['request', 'revalidate']);
const LEADER_BROADCAST = new Set(['proposal', 'commit', 'ping', 'inform']);

/**
 * The imperative shell around the pure QuorumCore: it feeds the core ticks, peer up/down and
 * messages, then executes each Ready in the order the core demands — persist (one SQLite
 * transaction), send, disconnect, apply, advance. Inputs that arrive in one event-loop turn are
 * handled by one Ready (group commit for the leader's proposals and the learners' ACKs alike).
 */
export class ZabReplicator implements Replicator {
  private scheduled = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastCommitted = 0n;
  private stopped = false;

  constructor(
    private readonly core: QuorumCore,
    private readonly store: Store,
    private readonly transport: PeerTransport,
    private readonly host: ZabHost,
    private readonly logger: Logger,
    private readonly tickMs: number,
    appliedZxid: bigint,
  ) {
    this.lastCommitted = appliedZxid;
  }

  start(): void {
    this.transport.on('up', (peer: number) => this.input(() => this.core.peerUp(peer)));
    this.transport.on('down', (peer: number) => this.input(() => this.core.peerDown(peer)));
    this.transport.on('message', (peer: number, msg: PeerMessage) => this.input(() => this.core.step(peer, msg)));
    // Ticks follow a monotonic clock: after a stall (GC, SIGSTOP) the missed ticks are delivered
    // at once, so lease and timeout arithmetic in the core never runs on stale time.
    let last = performance.now();
    this.tickTimer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor((now - last) / this.tickMs);
      if (due <= 0) return;
      last += due * this.tickMs;
      this.input(() => {
        for (let i = 0; i < due; i++) this.core.tick();
      });
    }, Math.max(5, Math.floor(this.tickMs / 4)));
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
  }

  get canPropose(): boolean {
    return this.core.canPropose();
  }

  /** The zxid the core will give the next proposal (prep needs it before the txn is encoded). */
  nextZxid(): bigint {
    const s = this.core.status();
    const counter = epochOf(s.lastZxid) === s.epoch ? counterOf(s.lastZxid) : 0n;
    return makeZxid(s.epoch, counter + 1n);
  }

  propose(entry: LogEntry): void {
    const zxid = this.core.propose(entry.data);
    if (zxid === undefined) {
      // Counter exhausted (or leadership just lost): the core steps down; the role event that
      // follows drops every client, so the waiting request fails with a connection loss.
      this.logger.warn({ zxid: zxidHex(entry.zxid) }, 'proposal refused by the core; leader stepping down');
      this.schedule();
      return;
    }
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
    setImmediate(() => {
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

  /** Executes Readys until the core has nothing more to say. Throws StorageFatalError upward. */
  private processReady(): void {
    let worked = false;
    while (!this.stopped && this.core.hasReady()) {
      worked = true;
      const r = this.core.ready();
      if (this.canSendBeforePersist(r)) {
        // A leader's PROPOSALs may go out while it writes them itself (ZooKeeper and Raft do the
        // same): the core counts the leader's own ACK only after advance(), i.e. once durable.
        for (const m of r.messages) this.transport.send(m.to, m.msg);
        this.transport.flushAll();
        this.persist(r);
      } else {
        this.persist(r);
        for (const m of r.messages) this.transport.send(m.to, m.msg);
      }
      for (const peer of r.disconnect) this.transport.disconnect(peer);
      if (r.committed.length > 0) {
        this.lastCommitted = r.committed[r.committed.length - 1].zxid;
        this.host.applyCommitted(r.committed);
      }
      for (const ev of r.roleEvents) this.host.onRoleEvent(ev);
      for (const f of r.forwarded) {
        if (SERVER_LAYER.has(f.msg.type)) this.host.onForwarded(f.from, f.msg);
      }
      for (const z of r.syncs) this.host.onSyncAnswer(z);
      for (const e of r.errors) this.logger.warn({ error: e }, 'peer protocol violation');
      for (const n of r.notes) this.logger.info(n);
      this.core.advance(r);
    }
    if (!worked) return;
    // Every hop costs a turn otherwise: proposals/ACKs and client replies leave right away.
    this.transport.flushAll();
    this.host.afterReady();
  }

  /**
   * True for a leader's broadcast traffic only: new entries plus PROPOSAL/COMMIT/PING/INFORM.
   * Anything that changes epochs, truncates or installs a snapshot keeps persist-then-send.
   */
  private canSendBeforePersist(r: Ready): boolean {
    if (r.hardState || r.snapshot || r.truncateAfter !== undefined || r.messages.length === 0) return false;
    if (this.core.status().role !== 'leading') return false;
    return r.messages.every((m) => LEADER_BROADCAST.has(m.msg.type));
  }

  /**
   * Step 1 of a Ready: durable before anything is sent (an ACK means "on disk"). Everything goes in
   * one store.persist: a SNAP install (its body already written, unnamed until now), the synced
   * entries and the epochs become durable together or not at all (issue 9 item 2).
   */
  private persist(r: Ready): void {
    if (r.truncateAfter !== undefined && r.truncateAfter < this.store.lastZxid()) {
      this.logger.warn({ after: zxidHex(r.truncateAfter), last: zxidHex(this.store.lastZxid()) }, 'truncating txns the new leader does not have (TRUNC)');
    }
    // A SNAP's body was written as it arrived (server/snapsync.ts); its data names that body.
    const snapshot = r.snapshot && { zxid: r.snapshot.zxid, ...decodeSnapshotRef(r.snapshot.data) };
    if (snapshot || r.hardState || r.truncateAfter !== undefined || r.entries.length > 0) {
      this.store.persist({
        snapshot,
        hardState: r.hardState,
        truncateAfter: r.truncateAfter,
        entries: r.entries.map((e) => ({ zxid: e.zxid, data: e.data })),
      });
    }
    if (r.snapshot) {
      this.host.installSnapshot(r.snapshot.zxid, r.snapshot.data);
      this.lastCommitted = r.snapshot.zxid;
    }
  }
}
