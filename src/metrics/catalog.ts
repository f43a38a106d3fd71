import type { MonitorValue } from '../fourlw';
import type { ServerMetrics } from './hub';
import type { SummarySet, SummaryStat } from './summary';

/**
 * Every metric /metrics exports, with ZooKeeper's names and types where ZooKeeper has the metric
 * (so the ZooKeeper Grafana dashboards and alert rules work unchanged) and a `zabkeeper_` prefix
 * where it is ours. The help text is the documentation: src/metrics/README.md lists the same names
 * (a test keeps the two in step).
 */

/** Per top-level namespace quota figures (ZooKeeper's QuotaMetricsUtils GaugeSets). */
export interface NamespaceQuota {
  namespace: string;
  countLimit: number;
  bytesLimit: number;
  countUsage: number;
  bytesUsage: number;
}

/** What a scrape reads: the mntr entries (live gauges), the observed metrics and a few counters. */
export interface MetricsView {
  monitor: ReadonlyMap<string, MonitorValue>;
  hub: ServerMetrics;
  stats: { txnsCommitted: number; rejectedConnections: number; sessionsExpired: number; snapshotsTaken: number };
  quotas: readonly NamespaceQuota[];
}

interface Base {
  name: string;
  help: string;
}

/** A value read from live state; undefined = not exported right now (e.g. leader-only gauges on a follower). */
export interface StateMetric extends Base {
  kind: 'gauge' | 'counter';
  value: (v: MetricsView) => number | undefined;
}

/** One value per `key` label (ZooKeeper's CounterSet/GaugeSet). */
export interface StateSetMetric extends Base {
  kind: 'gaugeSet' | 'counterSet';
  values: (v: MetricsView) => [string, number][];
}

/** A ZooKeeper summary fed by observations (quantiles per its level, plus _sum and _count). */
export interface SummaryMetric extends Base {
  kind: 'summary';
  stat: (hub: ServerMetrics) => SummaryStat;
}

export interface SummarySetMetric extends Base {
  kind: 'summarySet';
  set: (hub: ServerMetrics) => SummarySet;
}

export type CatalogMetric = StateMetric | StateSetMetric | SummaryMetric | SummarySetMetric;

function num(v: MonitorValue | undefined): number | undefined {
  if (v === undefined || typeof v === 'string') return undefined;
  if (typeof v === 'bigint') return Number(v);
  return typeof v === 'number' ? v : v.v;
}

/** A gauge that is one of mntr's lines (same name, same value). */
const monitorGauge = (name: string, help: string): StateMetric => ({ name, help, kind: 'gauge', value: (v) => num(v.monitor.get(name)) });

const counter = (name: string, help: string, value: (v: MetricsView) => number): StateMetric => ({ name, help, kind: 'counter', value });

const summary = (name: string, help: string, stat: (hub: ServerMetrics) => SummaryStat): SummaryMetric => ({ name, help, kind: 'summary', stat });

const quotaSet = (name: string, help: string, pick: (q: NamespaceQuota) => number): StateSetMetric => ({
  name,
  help,
  kind: 'gaugeSet',
  values: (v) => v.quotas.map((q) => [q.namespace, pick(q)]),
});

export const CATALOG: readonly CatalogMetric[] = [
  // ---- ZooKeeper gauges (the same values mntr prints)
  monitorGauge('znode_count', 'Number of znodes in the data tree (the root counted twice, as ZooKeeper does)'),
  monitorGauge('watch_count', 'Number of watches registered by this server\'s clients (data and child watches)'),
  monitorGauge('ephemerals_count', 'Number of ephemeral znodes'),
  monitorGauge('approximate_data_size', 'Sum of path lengths and data lengths of all znodes, in bytes'),
  monitorGauge('num_alive_connections', 'Client connections with a session open on this server'),
  monitorGauge('outstanding_requests', 'Client requests received and not yet answered'),
  monitorGauge('avg_latency', 'Mean request latency in ms since start or the last srst'),
  monitorGauge('min_latency', 'Smallest request latency in ms since start or the last srst'),
  monitorGauge('max_latency', 'Largest request latency in ms since start or the last srst'),
  monitorGauge('packets_received', 'Client requests received since start or the last srst (a gauge, as in ZooKeeper)'),
  monitorGauge('packets_sent', 'Client replies and notifications sent since start or the last srst (a gauge, as in ZooKeeper)'),
  monitorGauge('uptime', 'Milliseconds since this server started'),
  monitorGauge('global_sessions', 'Sessions known to the ensemble'),
  monitorGauge('local_sessions', 'Local sessions (always 0: zabkeeper has no local sessions)'),
  monitorGauge('open_file_descriptor_count', 'File descriptors open in the server process'),
  monitorGauge('max_file_descriptor_count', 'The process file descriptor limit'),
  monitorGauge('connection_drop_probability', 'Probability of dropping a new connection (always 0: no connection throttling)'),
  monitorGauge('last_client_response_size', 'Bytes of the last reply sent to a client (-1 before the first)'),
  monitorGauge('min_client_response_size', 'Bytes of the smallest reply sent to a client (-1 before the first)'),
  monitorGauge('max_client_response_size', 'Bytes of the largest reply sent to a client (-1 before the first)'),
  monitorGauge('auth_failed_count', 'Failed client authentications'),
  monitorGauge('quorum_size', 'Voting members in the ensemble (ensemble members only)'),
  monitorGauge('learners', 'Leader only: learners (followers and observers) connected'),
  monitorGauge('synced_followers', 'Leader only: followers in sync and receiving proposals'),
  monitorGauge('synced_non_voting_followers', 'Leader only: non-voting followers in sync'),
  monitorGauge('synced_observers', 'Leader only: observers in sync'),
  monitorGauge('pending_syncs', 'Leader only: learners being synchronized'),
  monitorGauge('leader_uptime', 'Leader only: ms since this server became the established leader (absent on other members)'),
  monitorGauge('last_proposal_size', 'Leader only: bytes of the last proposal'),
  monitorGauge('min_proposal_size', 'Leader only: bytes of the smallest proposal'),
  monitorGauge('max_proposal_size', 'Leader only: bytes of the largest proposal'),
  quotaSet('quota_count_limit_per_namespace', 'Quota count limit (hard if set, else soft) summed per top-level namespace', (q) => q.countLimit),
  quotaSet('quota_bytes_limit_per_namespace', 'Quota byte limit (hard if set, else soft) summed per top-level namespace', (q) => q.bytesLimit),
  quotaSet('quota_count_usage_per_namespace', 'Znodes counted under quota roots, summed per top-level namespace', (q) => q.countUsage),
  quotaSet('quota_bytes_usage_per_namespace', 'Data bytes counted under quota roots, summed per top-level namespace', (q) => q.bytesUsage),

  // ---- ZooKeeper counters
  counter('looking_count', 'Times this server entered LOOKING (started a leader election)', (v) => v.hub.counters.looking_count),
  counter('proposal_count', 'Leader: proposals sent to learners (one per zxid)', (v) => v.hub.counters.proposal_count),
  counter('commit_count', 'Leader: zxids committed and sent to learners (one per zxid; one COMMIT can cover several)', (v) => v.hub.counters.commit_count),
  counter('learner_proposal_received_count', 'Learner: proposals received from the leader', (v) => v.hub.counters.learner_proposal_received_count),
  counter('learner_commit_received_count', 'Learner: zxids the leader\'s COMMITs covered (one per zxid)', (v) => v.hub.counters.learner_commit_received_count),
  counter('connection_request_count', 'Client TCP connections accepted', (v) => v.hub.counters.connection_request_count),
  counter('connection_rejected', 'Client connections refused (maxClientCnxns per IP)', (v) => v.stats.rejectedConnections),
  counter('stale_sessions_expired', 'Sessions expired by this server (leader or standalone)', (v) => v.stats.sessionsExpired),
  counter('bytes_received_count', 'Bytes of client requests received (frames including their length prefix)', (v) => v.hub.counters.bytes_received_count),
  counter('response_bytes', 'Bytes of replies sent to clients', (v) => v.hub.counters.response_bytes),
  counter('unrecoverable_error_count', 'Fatal errors that stopped the server (storage failures)', (v) => v.hub.counters.unrecoverable_error_count),
  {
    name: 'quota_exceeded_error_per_namespace',
    help: 'Creates and setData rejected with QuotaExceeded (enforceQuota=true), per top-level namespace',
    kind: 'counterSet',
    values: (v) => [...v.hub.quotaExceeded],
  },

  // ---- ZooKeeper summaries (ms, or entries for the batch size)
  summary('readlatency', 'Read request latency in ms, arrival to reply (requests without a txn, pings included)', (h) => h.readlatency),
  summary('updatelatency', 'Write request latency in ms, arrival to reply, for this server\'s clients', (h) => h.updatelatency),
  summary('fsynctime', 'Duration in ms of each durable write to the txn log (one SQLite transaction, its fsync included)', (h) => h.fsynctime),
  summary('snapshottime', 'Duration in ms of taking a snapshot', (h) => h.snapshottime),
  summary('dbinittime', 'Duration in ms of loading the database at start (snapshot plus log replay)', (h) => h.dbinittime),
  summary('election_time', 'Duration in ms from entering LOOKING until a leader was chosen', (h) => h.election_time),
  summary('follower_sync_time', 'Follower: duration in ms of synchronizing with a new leader', (h) => h.follower_sync_time),
  summary('observer_sync_time', 'Observer: duration in ms of synchronizing with a new leader', (h) => h.observer_sync_time),
  summary('unavailable_time', 'Duration in ms this member could not serve clients (from leaving the broadcast phase to reaching it again)', (h) => h.unavailable_time),
  summary('leader_unavailable_time', 'The part of unavailable_time that ended with this member leading', (h) => h.leader_unavailable_time),
  summary('sync_processor_batch_size', 'Txns written per durable write (group commit batch size)', (h) => h.sync_processor_batch_size),
  summary('quorum_ack_latency', 'Leader: ms from proposing a txn until a quorum acknowledged it', (h) => h.quorum_ack_latency),
  {
    name: 'ack_latency',
    help: 'Leader: ms from sending a PROPOSAL to a learner until its ACK, per learner id (label key; ZooKeeper 3.9)',
    kind: 'summarySet',
    set: (h) => h.ack_latency,
  },
];

/** Ours: what ZooKeeper does not export. Histograms and the event loop are built by the exporter. */
export const ZABKEEPER_METRICS: readonly (Base & { type: 'histogram' | 'summary' | 'counter' | 'gauge' })[] = [
  { name: 'zabkeeper_group_commit_batch_size', type: 'histogram', help: 'Histogram of txns per durable write: how many client writes shared one fsync' },
  { name: 'zabkeeper_fsync_seconds', type: 'histogram', help: 'Histogram of the duration of each durable write (SQLite commit with fsync), in seconds' },
  { name: 'zabkeeper_event_loop_lag_seconds', type: 'summary', help: 'Event-loop delay over the last minute (quantiles 0.5, 0.9, 0.99, 1); a blocked loop delays every client' },
  { name: 'zabkeeper_peer_rtt_seconds', type: 'summary', help: 'Leader: round trip of a PING to a learner and back, per learner id (label peer)' },
  { name: 'zabkeeper_committed_txns_total', type: 'counter', help: 'Txns applied by this server (every member applies every committed txn)' },
  { name: 'zabkeeper_snapshots_total', type: 'counter', help: 'Snapshots written by this server' },
  { name: 'jvm_memory_bytes_used', type: 'gauge', help: 'Node heap (area="heap") and other memory (area="nonheap"), under the JVM name the ZooKeeper dashboards query' },
  { name: 'jvm_memory_bytes_max', type: 'gauge', help: 'V8 heap limit (area="heap"), under the JVM name the ZooKeeper dashboards query' },
];
