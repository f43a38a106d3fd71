import type { Logger } from 'pino';
import { OpCode } from '../../protocol/jute/constants';
import { isExpiredContainerOrTtl, type ZkDatabase } from '../tree';
import type { SessionTracker } from '../session';
import type { Store } from '../storage/types';
import type { ServerOptions } from './options';
import type { ServerStats } from './stats';
import type { ServerMetrics } from '../metrics/hub';
import type { Rng } from '../util/rng';
import { SnapshotTaker } from './snapshots';
import { timed } from '../metrics/looplag';
import { nextTurn, type Clock, type TimerHandle } from '../util/clock';

/** What housekeeping needs from the server: it only reads state and submits txns through it. */
export interface HousekeepingHost {
  readonly options: ServerOptions;
  readonly sessions: SessionTracker;
  readonly db: ZkDatabase;
  readonly store: Store;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly metrics: ServerMetrics;
  readonly clock: Clock;
  readonly rng: Rng;
  /** True while this server may propose (leader or standalone). */
  canPropose(): boolean;
  /** True while this server decides session expiry (the leader; test-only plants may widen it). */
  decidesExpiry?(): boolean;
  expireSession(sessionId: bigint): void;
  /** A snapshot is durable at `zxid` (the replicator may drop its in-memory log up to it). */
  snapshotSaved(zxid: bigint): void;
  submitInternalWrite(opCode: number, body: unknown): void;
}

/** Bounds on one event-loop turn of each background job (each job continues in the next turn). */
const EXPIRIES_PER_TURN = 500;
const CANDIDATES_PER_TURN = 5_000;
const PURGE_ROWS_PER_TURN = 2_000;
const COMPACT_SLOTS_PER_TURN = 50_000;
const COMPACT_INTERVAL_MS = 10_000;

/**
 * The timers of a server: session expiry, the container/TTL reaper (ZooKeeper's ContainerManager),
 * snapshots every ~snapCount txns, the autopurge of old snapshots and log, and the compaction of
 * the tree's value slabs. The decisions themselves are pure (SessionTracker.expired(now),
 * isExpiredContainerOrTtl); this class owns the clocks and hands the results to the server as
 * txns. Every job is cut into bounded slices across event-loop turns, so 10k sessions expiring at
 * once, a million containers or a large purge never stall clients (issue 12).
 */
export class Housekeeping {
  private readonly timers: TimerHandle[] = [];
  private txnsSinceSnapshot = 0;
  private snapThreshold: number;
  /**
   * The last zxid a previous run of this server logged. The log tail after the snapshot is applied
   * again at start; those txns count toward the next snapshot only once the last of them is
   * applied. Counted as they were applied, a restart at 1M znodes that replayed 80k txns began a
   * 144 MB snapshot in the middle of its catch-up, competing for the CPU the catch-up needs; not
   * counted at all, a server restarted every few thousand txns would never snapshot and its tail
   * would grow without bound. Counted at the end, the tail stays within snapCount, and a snapshot
   * it makes due starts right after the catch-up (ZooKeeper too snapshots after loading its log).
   */
  private readonly loggedBefore: bigint;
  /** Txns of the tail applied again so far, not yet counted (see noteTxn). */
  private replayed = 0;
  private readonly snapshots: SnapshotTaker;
  private readonly running = new Set<string>();
  private stopped = false;

  constructor(private readonly host: HousekeepingHost) {
    this.snapThreshold = randomizedSnapCount(host.options.snapCount, host.rng);
    this.snapshots = new SnapshotTaker(host);
    this.loggedBefore = host.store.lastZxid();
  }

  start(): void {
    const o = this.host.options;
    // Sessions expire in tick-aligned buckets, so checking once per tick loses nothing.
    this.every(Math.max(10, Math.min(o.tickTimeMs, 1000)), 'session expiry', () => this.expireSessions());
    if (o.containerCheckIntervalMs > 0) this.every(o.containerCheckIntervalMs, 'container reaper', () => this.reapContainers());
    if (o.purgeIntervalHours > 0) this.every(o.purgeIntervalHours * 3_600_000, 'autopurge', () => this.purge());
    this.every(COMPACT_INTERVAL_MS, 'value compaction', () => this.compactValues());
  }

  /** Stops every timer; resolves once a snapshot in flight has been abandoned or, if already written, named. */
  stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.length = 0;
    return this.snapshots.stop();
  }

  /** Counts applied txns (the replayed tail once it is all applied); a snapshot starts after a flush, never mid-batch. */
  noteTxn(zxid: bigint): void {
    if (zxid < this.loggedBefore) {
      this.replayed++;
      return;
    }
    // The tail's last txn, or (after a TRUNC or a SNAP) the first beyond it: the catch-up is over.
    this.txnsSinceSnapshot += this.replayed + 1;
    this.replayed = 0;
  }

  afterFlush(): void {
    if (this.txnsSinceSnapshot >= this.snapThreshold) void this.takeSnapshot();
  }

  /** Starts a snapshot (skipped while one runs); resolves once it is durable and named. */
  async takeSnapshot(): Promise<void> {
    const { clock } = this.host;
    const started = clock.now();
    const run = this.snapshots.take();
    if (!run) return;
    this.txnsSinceSnapshot = 0;
    this.snapThreshold = randomizedSnapCount(this.host.options.snapCount, this.host.rng);
    try {
      const info = await run;
      if (!info) return;
      this.host.stats.snapshotsTaken++;
      // Time of the whole snapshot (it runs in slices beside other work).
      this.host.metrics.snapshottime.add(clock.now() - started);
      this.host.snapshotSaved(info.zxid);
    } catch (err) {
      // A failed snapshot write poisons the store: the next write fail-stops the server.
      this.host.logger.error({ err }, 'snapshot failed');
    }
  }

  /** Runs `job` unless it is still running from last time; failures are logged, never thrown. */
  private every(ms: number, name: string, job: () => Promise<void> | void): void {
    this.timers.push(
      this.host.clock.setInterval(() => {
        if (this.running.has(name)) return;
        this.running.add(name);
        Promise.resolve()
          .then(job)
          .catch((err: unknown) => this.host.logger.error({ err, job: name }, 'housekeeping task failed'))
          .finally(() => this.running.delete(name));
      }, ms),
    );
  }

  /** Runs `step` (bounded work, returns true when done) once per event-loop turn until done. */
  private async slices(label: string, step: () => boolean): Promise<void> {
    while (!this.stopped && !timed(label, step)) await nextTurn(this.host.clock);
  }

  private async expireSessions(): Promise<void> {
    // Only the leader decides: a follower sees only its own clients' pings.
    const decides = (): boolean => this.host.decidesExpiry?.() ?? this.host.canPropose();
    if (!decides()) return;
    const due = this.host.sessions.expired(this.host.clock.now());
    let i = 0;
    await this.slices('session expiry', () => {
      // Lost leadership meanwhile: the new leader expires them.
      if (!decides()) return true;
      for (const end = Math.min(due.length, i + EXPIRIES_PER_TURN); i < end; i++) {
        this.host.stats.sessionsExpired++;
        this.host.expireSession(due[i]);
      }
      return i >= due.length;
    });
  }

  private async reapContainers(): Promise<void> {
    if (!this.host.canPropose()) return;
    const { db } = this.host;
    const candidates = [...db.tree.containers, ...db.tree.ttls];
    const now = BigInt(this.host.clock.wallNow());
    let i = 0;
    await this.slices('container reaper', () => {
      if (!this.host.canPropose() || this.host.db !== db) return true;
      for (const end = Math.min(candidates.length, i + CANDIDATES_PER_TURN); i < end; i++) {
        if (isExpiredContainerOrTtl(db, candidates[i], now)) this.host.submitInternalWrite(OpCode.deleteContainer, { path: candidates[i] });
      }
      return i >= candidates.length;
    });
  }

  private async purge(): Promise<void> {
    let snapshotsRemoved = 0;
    let logEntriesRemoved = 0;
    await this.slices('autopurge', () => {
      const r = this.host.store.purge(Math.max(3, this.host.options.snapRetainCount), PURGE_ROWS_PER_TURN);
      snapshotsRemoved += r.snapshotsRemoved;
      logEntriesRemoved += r.logEntriesRemoved;
      return r.done;
    });
    this.host.logger.info({ snapshotsRemoved, logEntriesRemoved }, 'autopurge finished');
  }

  /** Returns value memory freed by deletes and overwrites (DataTree.compactValues), a slice per turn. */
  private async compactValues(): Promise<void> {
    const { db } = this.host;
    const sparse = db.tree.sparseSlabs();
    if (sparse.values.size === 0 && sparse.paths.size === 0) return;
    let cursor = 0;
    await this.slices('value compaction', () => {
      if (this.host.db !== db) return true;
      cursor = db.tree.compactValues(cursor, COMPACT_SLOTS_PER_TURN, sparse);
      return cursor === 0;
    });
  }
}

/**
 * Like ZooKeeper, snapshot after snapCount/2 + a random part of snapCount/2 txns, so the servers of
 * an ensemble do not all snapshot at the same moment.
 */
function randomizedSnapCount(snapCount: number, rng: Rng): number {
  const half = Math.max(1, Math.floor(snapCount / 2));
  return half + Math.floor(rng.next() * half);
}
