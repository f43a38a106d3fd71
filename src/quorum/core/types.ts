import type { PeerMessage } from '../../../protocol/peer/messages';
import type { Entry } from './log';

/** Anything with a `next()` in [0, 1): the core never touches Math.random. */
export interface RandomSource {
  next(): number;
}

export interface QuorumConfig {
  id: number;
  /** Voting members (participants), including this server if it votes. */
  voters: readonly number[];
  /** Non-voting members: they follow the leader but never vote or count toward a quorum. */
  observers: readonly number[];
  /** Ticks between FLE notification re-broadcasts while LOOKING (jittered up to 2x with rng). */
  electionTimeoutTicks: number;
  /** Broadcast phase: a follower leaves a silent leader, a leader without a quorum steps down. */
  syncLimitTicks: number;
  /** Discovery + synchronization must finish within this many ticks, on both sides. */
  initLimitTicks: number;
  rng: RandomSource;
  /** Ticks between leader PINGs (default 1). */
  pingIntervalTicks?: number;

  /** Largest zxid counter a leader may use before it must start a new epoch (test hook). */
  counterMax?: bigint;
}

export interface HardState {
  acceptedEpoch: number;
  currentEpoch: number;
}

/** What the core starts from: only what survived on disk. */
export interface DurableState extends HardState {
  /** Log entries after `snapshotZxid`, in zxid order. */
  log: readonly Entry[];
  /** zxid of the latest snapshot (0n when none). Everything up to it is committed. */
  snapshotZxid?: bigint;
  /** Highest zxid already applied by the shell's state machine (default: snapshotZxid). Must be committed. */
  appliedZxid?: bigint;
}

/** Callbacks into the shell. `snapshot` returns the applied state; only needed for SNAP syncs. */
export interface CoreHooks {
  snapshot?: () => { zxid: bigint; data: Buffer };
}

/**
 * Test-only switches that plant known historic bugs, so the simulator can prove it catches them.
 * Never set these outside tests.
 */
export interface PlantedBugs {
  /** Follower ACKs a PROPOSAL before the entry is persisted (ZOOKEEPER-3911 family). */
  ackBeforePersist?: boolean;
  /** On NEWLEADER the follower persists currentEpoch and ACKs before the synced history (ZOOKEEPER-4643). */
  epochBeforeHistory?: boolean;
  /** A leader keeps leading (and serving reads) after losing its quorum (etcd #741, testElectionFraud). */
  staleLeader?: boolean;
}

export interface CoreOptions {
  hooks?: CoreHooks;
  bugs?: PlantedBugs;
}

export type Role = 'looking' | 'following' | 'leading' | 'observing';
export type Phase = 'election' | 'discovery' | 'sync' | 'broadcast';

export interface RoleEvent {
  role: Role;
  phase: Phase;
  /** Leader being followed or led; undefined while looking. */
  leader: number | undefined;
  /** The epoch being established (leader: the new epoch once chosen; learner: from LEADERINFO). */
  epoch: number;
  tick: number;
}

export interface OutgoingMessage {
  to: number;
  msg: PeerMessage;
}

/**
 * Everything the shell must do after a batch of inputs, in this order:
 *  1. persist atomically: `snapshot` (replaces the whole log and the state machine), then
 *     `truncateAfter`, then `entries`, then `hardState`;
 *  2. send `messages` (in order, per destination FIFO);
 *  3. close the connections in `disconnect`;
 *  4. apply `committed` in order;
 *  5. call `advance(ready)`.
 * Messages may only leave after step 1: an ACK means "durable" (Z9).
 */
export interface Ready {
  hardState?: HardState;
  snapshot?: { zxid: bigint; data: Buffer };
  truncateAfter?: bigint;
  entries: Entry[];
  messages: OutgoingMessage[];
  disconnect: number[];
  committed: Entry[];
  roleEvents: RoleEvent[];
  /** REQUEST / REVALIDATE messages for the server layer. */
  forwarded: Array<{ from: number; msg: PeerMessage }>;
  /**
   * Answers to this server's own `requestSync` calls, in request order: the zxid its clients'
   * reads must wait for (apply at least this far, then answer the sync).
   */
  syncs: bigint[];
  /** Protocol violations seen (the connection was dropped); for logs and metrics. */
  errors: string[];
  /** Other things worth a log line (a silent peer timed out). */
  notes: string[];
}

export function emptyReady(): Ready {
  return { entries: [], messages: [], disconnect: [], committed: [], roleEvents: [], forwarded: [], syncs: [], errors: [], notes: [] };
}
