import type { PeerMessage } from '../../protocol/peer/messages';
import type { RoleEvent } from '../quorum/core';
import { SummarySet, SummaryStat } from './summary';
import { counterOf, epochOf } from '../util/zxid';

/**
 * What the server observes as it runs, under ZooKeeper's metric names (ServerMetrics.java): the
 * summaries and counters that have no live state to read at scrape time. The server calls the
 * `note*` methods with durations it measured (this class reads no clock: time comes in as
 * arguments, so the bookkeeping is testable). Gauges (znode_count, ...) are read from live state
 * when someone asks; see catalog.ts.
 */
export class ServerMetrics {
  // ---- summaries (ms unless named otherwise), ZooKeeper's names and levels
  readonly readlatency = new SummaryStat('readlatency', 'advanced');
  readonly updatelatency = new SummaryStat('updatelatency', 'advanced');
  readonly fsynctime = new SummaryStat('fsynctime', 'basic');
  readonly snapshottime = new SummaryStat('snapshottime', 'basic');
  readonly dbinittime = new SummaryStat('dbinittime', 'basic');
  readonly election_time = new SummaryStat('election_time', 'basic');
  readonly follower_sync_time = new SummaryStat('follower_sync_time', 'basic');
  readonly observer_sync_time = new SummaryStat('observer_sync_time', 'basic');
  readonly unavailable_time = new SummaryStat('unavailable_time', 'basic');
  readonly leader_unavailable_time = new SummaryStat('leader_unavailable_time', 'basic');
  /** Entries per durable write (one SQLite transaction = one fsync): the group-commit batch size. */
  readonly sync_processor_batch_size = new SummaryStat('sync_processor_batch_size', 'basic');
  /** Leader: a txn proposed until a quorum has acknowledged it (it commits). */
  readonly quorum_ack_latency = new SummaryStat('quorum_ack_latency', 'advanced');
  /** Leader: PROPOSAL sent to a learner until that learner's ACK arrives, per learner id (ZooKeeper 3.9). */
  readonly ack_latency = new SummarySet('ack_latency', 'advanced');
  /** zabkeeper: leader PING to a learner until its echo arrives, per learner id (the peer link RTT). */
  readonly peer_rtt = new SummarySet('peer_rtt', 'advanced');

  // ---- counters (ZooKeeper's names)
  readonly counters = {
    looking_count: 0,
    proposal_count: 0,
    commit_count: 0,
    learner_proposal_received_count: 0,
    learner_commit_received_count: 0,
    connection_request_count: 0,
    unrecoverable_error_count: 0,
    bytes_received_count: 0,
    response_bytes: 0,
  };
  /** Hard-quota rejections per top-level namespace (quota_exceeded_error_per_namespace). */
  readonly quotaExceeded = new Map<string, number>();
  /** last/min/max_client_response_size: bytes of replies (-1 until the first). */
  readonly clientResponse = { last: -1, min: -1, max: -1 };

  // ---- role bookkeeping
  private lookingSince: number | undefined;
  private syncSince: number | undefined;
  private unavailableSince: number | undefined;
  private serving = false;
  private lastProposalCounted = 0n;
  private lastQuotaLogMs = Number.NEGATIVE_INFINITY;
  private lastCommitCounted = 0n;
  private lastCommitReceived = 0n;
  /** Leader side: when a PING tick / PROPOSAL zxid was sent to each peer (bounded per peer). */
  private readonly pingSent = new Map<number, Map<number, number>>();
  private readonly proposalSent = new Map<number, Map<bigint, number>>();

  constructor(startedAtMs: number) {
    this.unavailableSince = startedAtMs;
  }

  /** A reply left: reads are requests without a txn (pings included), as in ServerStats.updateLatency. */
  noteReply(isWrite: boolean, latencyMs: number, bytes: number): void {
    (isWrite ? this.updatelatency : this.readlatency).add(latencyMs);
    if (bytes <= 0) return;
    const r = this.clientResponse;
    r.last = bytes;
    r.min = r.min < 0 ? bytes : Math.min(r.min, bytes);
    r.max = Math.max(r.max, bytes);
    this.counters.response_bytes += bytes;
  }

  /** One durable write of `entries` log entries that took `ms` (the commit includes the fsync). */
  notePersist(entries: number, ms: number): void {
    this.fsynctime.add(ms);
    if (entries > 0) this.sync_processor_batch_size.add(entries);
  }

  /** Counts a hard-quota rejection; true when it is worth a log line (at most one a second, as ZooKeeper's RateLogger). */
  noteQuotaExceeded(namespace: string, nowMs: number): boolean {
    this.quotaExceeded.set(namespace, (this.quotaExceeded.get(namespace) ?? 0) + 1);
    if (nowMs - this.lastQuotaLogMs < 1000) return false;
    this.lastQuotaLogMs = nowMs;
    return true;
  }

  /**
   * Role changes from the quorum core: LOOKING entries and election time (LOOKING until a role
   * is chosen), sync time (sync phase until broadcast), unavailability (not broadcasting).
   */
  noteRole(ev: RoleEvent, nowMs: number): void {
    if (ev.role === 'looking') {
      if (this.lookingSince === undefined) {
        this.counters.looking_count++;
        this.lookingSince = nowMs;
      }
    } else if (this.lookingSince !== undefined) {
      this.election_time.add(nowMs - this.lookingSince);
      this.lookingSince = undefined;
    }
    if (ev.phase === 'sync' && this.syncSince === undefined) this.syncSince = nowMs;
    if (ev.phase === 'broadcast') {
      if (this.syncSince !== undefined && ev.role !== 'leading') {
        (ev.role === 'observing' ? this.observer_sync_time : this.follower_sync_time).add(nowMs - this.syncSince);
      }
      this.syncSince = undefined;
      if (!this.serving && this.unavailableSince !== undefined) {
        const ms = nowMs - this.unavailableSince;
        this.unavailable_time.add(ms);
        if (ev.role === 'leading') this.leader_unavailable_time.add(ms);
      }
      this.serving = true;
      this.unavailableSince = undefined;
    } else if (this.serving || this.unavailableSince === undefined) {
      this.serving = false;
      this.unavailableSince = nowMs;
    }
    if (ev.phase !== 'sync' && ev.phase !== 'broadcast') this.syncSince = undefined;
  }

  /** The peer transport queued `msg` for `to`. */
  notePeerSent(to: number, msg: PeerMessage, nowMs: number): void {
    if (msg.type === 'ping') remember(this.pingSent, to, msg.round, nowMs);
    else if (msg.type === 'proposal') {
      remember(this.proposalSent, to, msg.zxid, nowMs);
      // Counted once per zxid, not once per learner it is sent to.
      if (msg.zxid > this.lastProposalCounted) {
        this.lastProposalCounted = msg.zxid;
        this.counters.proposal_count++;
      }
    } else if (msg.type === 'commit' && msg.zxid > this.lastCommitCounted) {
      // One per zxid committed, as ZooKeeper counts: a COMMIT covers every zxid since the last one
      // (followers ack a batch once), and an epoch's zxids are consecutive from counter 1.
      this.counters.commit_count += zxidsSince(this.lastCommitCounted, msg.zxid);
      this.lastCommitCounted = msg.zxid;
    }
  }

  /** A message arrived from `from`. */
  notePeerReceived(from: number, msg: PeerMessage, nowMs: number): void {
    switch (msg.type) {
      case 'ping': {
        const sent = take(this.pingSent, from, msg.round);
        if (sent !== undefined) this.peer_rtt.add(String(from), nowMs - sent);
        return;
      }
      case 'ack': {
        // Cumulative: a follower acks a batch once, for its last zxid; the batch's earlier sends are done with.
        const sent = takeUpTo(this.proposalSent, from, msg.zxid);
        if (sent !== undefined) this.ack_latency.add(String(from), nowMs - sent);
        return;
      }
      case 'proposal':
        this.counters.learner_proposal_received_count++;
        return;
      case 'commit':
        // One per zxid, as in ZooKeeper, though a COMMIT can cover several (see notePeerSent).
        if (msg.zxid > this.lastCommitReceived) {
          this.counters.learner_commit_received_count += zxidsSince(this.lastCommitReceived, msg.zxid);
          this.lastCommitReceived = msg.zxid;
        }
        return;
      default:
        return;
    }
  }

  /** Every summary, for mntr/monitor (ZooKeeper prints each as avg_/min_/max_/cnt_/sum_). */
  summaries(): SummaryStat[] {
    return [
      this.readlatency, this.updatelatency, this.fsynctime, this.snapshottime, this.dbinittime, this.election_time,
      this.follower_sync_time, this.observer_sync_time, this.unavailable_time, this.leader_unavailable_time,
      this.sync_processor_batch_size, this.quorum_ack_latency, ...this.ack_latency.byKey.values(), ...this.peer_rtt.byKey.values(),
    ];
  }
}

/** Keeps the last few send times per peer: an echo older than that is not worth matching. */
const REMEMBERED_PER_PEER = 64;

function remember<K>(table: Map<number, Map<K, number>>, peer: number, key: K, at: number): void {
  let m = table.get(peer);
  if (!m) table.set(peer, (m = new Map()));
  if (m.has(key)) return; // a retransmission: time the first send
  m.set(key, at);
  if (m.size > REMEMBERED_PER_PEER) m.delete(m.keys().next().value as K);
}

/** How many zxids (last, next] holds: an epoch's zxids are consecutive from counter 1. */
function zxidsSince(last: bigint, next: bigint): number {
  return Number(epochOf(last) === epochOf(next) ? next - last : counterOf(next));
}

/** take for ascending bigint keys: also forgets every earlier key (they were remembered in order). */
function takeUpTo(table: Map<number, Map<bigint, number>>, peer: number, key: bigint): number | undefined {
  const m = table.get(peer);
  if (!m) return undefined;
  for (const k of m.keys()) {
    if (k >= key) break;
    m.delete(k);
  }
  return take(table, peer, key);
}

function take<K>(table: Map<number, Map<K, number>>, peer: number, key: K): number | undefined {
  const m = table.get(peer);
  const at = m?.get(key);
  if (at !== undefined) m!.delete(key);
  return at;
}
