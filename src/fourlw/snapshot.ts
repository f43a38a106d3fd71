import type { Dbl } from './java';

/**
 * Everything the four-letter words print, as plain data. The server glue fills it from its live
 * state; the formatters never look anywhere else. Times are wall-clock ms.
 */

export interface LatencyStats {
  /** ms; 0 when nothing measured (AvgMinMaxCounter prints 0 for an empty min). */
  min: number;
  /** raw mean in ms; the formatters round it like ZooKeeper (4 places, HALF_UP). */
  avg: number;
  max: number;
}

export interface ConnSnapshot {
  remoteAddress: string;
  remotePort: number;
  /** NIO interest ops: 1 = reading, 0 = throttled/paused; 5 = read+write. */
  interestOps: number;
  /** Requests received but not yet answered. */
  queued: number;
  packetsReceived: number;
  packetsSent: number;
  /** 0n before the handshake: cons then prints only the brief fields. */
  sessionId: bigint;
  /** Last operation, as ZooKeeper's short names (see fourLetterOpName); "NA" before any. */
  lastOp: string;
  establishedMs: number;
  timeoutMs: number;
  /** Last cxid; omitted from cons when negative (pings and other special xids). */
  lastCxid: number;
  /** -1n before any reply carrying a zxid. */
  lastZxid: bigint;
  lastResponseMs: number;
  lastLatency: number;
  minLatency: number;
  /** ServerCnxn's avg is an integer division of totals. */
  avgLatency: number;
  maxLatency: number;
}

export type ServerMode = 'standalone' | 'leader' | 'follower' | 'observer' | 'read-only';

export interface ConfSnapshot {
  clientPort: number;
  /** -1 when not set. */
  secureClientPort: number;
  /** As ZooKeeper prints it: the snapshot directory (ZooKeeper's is dataDir/version-2). */
  dataDir: string;
  dataDirSize: number;
  dataLogDir: string;
  dataLogSize: number;
  tickTime: number;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  /** -1 = OS default. */
  clientPortListenBacklog: number;
  /** 0 in standalone. */
  serverId: number;
  quorum?: {
    initLimit: number;
    syncLimit: number;
    electionAlg: number;
    electionPort: number;
    quorumPort: number;
    /** LearnerType ordinal: 0 participant, 1 observer. */
    peerType: number;
    /** QuorumVerifier.toString: "server.N=...\n" lines then "version=<hex>". */
    membership: string;
  };
}

export interface LeaderMetrics {
  learners: number;
  syncedFollowers: number;
  syncedNonVotingFollowers: number;
  syncedObservers: number;
  pendingSyncs: number;
  leaderUptimeMs: number;
  lastProposalSize: number;
  maxProposalSize: number;
  minProposalSize: number;
}

export interface ServerSnapshot {
  /** false: not in quorum / not yet serving (most words then print the "not serving" line). */
  serving: boolean;
  /** Full version line content, e.g. "3.8.4-zabkeeper-0.1.0, built on 2026-11-23 17:00 UTC". */
  version: string;
  mode: ServerMode;
  /** zk_peer_state in quorum mode, e.g. "following - broadcast". */
  peerState?: string;
  zxid: bigint;
  latency: LatencyStats;
  packetsReceived: number;
  packetsSent: number;
  outstanding: number;
  nodeCount: number;
  connections: ConnSnapshot[];
  /** Leader only: last/min/max proposal sizes (-1 when none). */
  proposalSizes?: { last: number; min: number; max: number };
  uptimeMs: number;
  watchCount: number;
  ephemeralsCount: number;
  approximateDataSize: number;
  globalSessions: number;
  localSessions: number;
  openFileDescriptorCount?: number;
  maxFileDescriptorCount?: number;
  clientResponseSize: { last: number; min: number; max: number };
  authFailedCount: number;
  quorumSize?: number;
  leader?: LeaderMetrics;
  /** Follower: synced observers. */
  followerSyncedObservers?: number;
  /** Extra mntr lines appended as-is (integers print as integers, others as doubles). */
  extraMetrics?: [string, number | bigint | string | Dbl][];
  conf: ConfSnapshot;
  /** Session expiry buckets for `dump` (wall-clock expiry time). */
  sessionBuckets: { expiresAtMs: number; sessions: bigint[] }[];
  sessionCount: number;
  /** Sessions owning ephemerals and their paths (may be produced lazily, as it is iterated). */
  ephemerals: Iterable<[bigint, string[]]>;
  ephemeralSessionCount: number;
  /** wchs: ZooKeeper counts the data-watch table only. */
  watchSummary: { connections: number; paths: number; total: number };
  watchesBySession: Iterable<[bigint, string[]]>;
  watchesByPath: Iterable<[string, bigint[]]>;
  env: [string, string][];
  traceMask: number;
  readOnly: boolean;
}
