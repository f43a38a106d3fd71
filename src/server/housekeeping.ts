import type { Logger } from 'pino';
import { OpCode } from '../../protocol/jute/constants';
import { findExpiredContainersAndTtls, serializeSnapshot, type ZkDatabase } from '../tree';
import type { SessionTracker } from '../session';
import type { Store } from '../storage/types';
import { writeSnapshotBytes } from '../storage/bodies';
import type { ServerOptions } from './options';
import type { ServerStats } from './stats';
import { zxidHex } from '../quorum/zxid';
import type { ServerMetrics } from '../metrics/hub';

/** What housekeeping needs from the server: it only reads state and submits txns through it. */
export interface HousekeepingHost {
  readonly options: ServerOptions;
  readonly sessions: SessionTracker;
  readonly db: ZkDatabase;
  readonly store: Store;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly metrics: ServerMetrics;
  /** True while this server may propose (leader or standalone). */
  canPropose(): boolean;
  expireSession(sessionId: bigint): void;
  /** A snapshot is durable at `zxid` (the replicator may drop its in-memory log up to it). */
  snapshotSaved(zxid: bigint): void;
  submitInternalWrite(opCode: number, body: unknown): void;
}

/**
 * The timers of a server: session expiry, the container/TTL reaper (ZooKeeper's ContainerManager),
 * snapshots every ~snapCount txns and the autopurge of old snapshots and log. The decisions
 * themselves are pure (SessionTracker.expired(now), findExpiredContainersAndTtls(db, now)); this
 * class only owns the clocks and hands the results to the server as txns.
 */
export class Housekeeping {
  private readonly timers: NodeJS.Timeout[] = [];
  private txnsSinceSnapshot = 0;
  private snapThreshold: number;

  constructor(private readonly host: HousekeepingHost) {
    this.snapThreshold = randomizedSnapCount(host.options.snapCount);
  }

  start(): void {
    const o = this.host.options;
    // Sessions expire in tick-aligned buckets, so checking once per tick loses nothing.
    this.every(Math.max(10, Math.min(o.tickTimeMs, 1000)), () => this.expireSessions());
    if (o.containerCheckIntervalMs > 0) this.every(o.containerCheckIntervalMs, () => this.reapContainers());
    if (o.purgeIntervalHours > 0) this.every(o.purgeIntervalHours * 3_600_000, () => this.purge());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }

  /** Counts applied txns; the snapshot itself is taken after a flush, never mid-batch. */
  noteTxn(): void {
    this.txnsSinceSnapshot++;
  }

  afterFlush(): void {
    if (this.txnsSinceSnapshot >= this.snapThreshold) this.takeSnapshot();
  }

  takeSnapshot(): void {
    const { db, store, logger, stats } = this.host;
    const started = Date.now();
    const data = serializeSnapshot(db);
    store.saveSnapshot(writeSnapshotBytes(store, db.lastProcessedZxid, data, Date.now()));
    this.host.snapshotSaved(db.lastProcessedZxid);
    stats.snapshotsTaken++;
    this.host.metrics.snapshottime.add(Date.now() - started);
    this.txnsSinceSnapshot = 0;
    this.snapThreshold = randomizedSnapCount(this.host.options.snapCount);
    logger.info({ zxid: zxidHex(db.lastProcessedZxid), bytes: data.length, ms: Date.now() - started }, 'snapshot taken');
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.host.logger.error({ err }, 'housekeeping task failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private expireSessions(): void {
    if (!this.host.canPropose()) return;
    for (const sid of this.host.sessions.expired(Date.now())) {
      this.host.stats.sessionsExpired++;
      this.host.expireSession(sid);
    }
  }

  private reapContainers(): void {
    if (!this.host.canPropose()) return;
    for (const path of findExpiredContainersAndTtls(this.host.db, BigInt(Date.now()))) {
      this.host.submitInternalWrite(OpCode.deleteContainer, { path });
    }
  }

  private purge(): void {
    const removed = this.host.store.purge(Math.max(3, this.host.options.snapRetainCount));
    this.host.logger.info(removed, 'autopurge finished');
  }
}

/**
 * Like ZooKeeper, snapshot after snapCount/2 + a random part of snapCount/2 txns, so the servers of
 * an ensemble do not all snapshot at the same moment.
 */
function randomizedSnapCount(snapCount: number): number {
  const half = Math.max(1, Math.floor(snapCount / 2));
  return half + Math.floor(Math.random() * half);
}
