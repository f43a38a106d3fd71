import type { LogEntry } from '../storage';

/**
 * The seam between the request pipeline and replication. The server hands it txns in zxid order
 * (already stamped by prep) and learns, through `onCommit`, which of them are committed, in zxid
 * order. Standalone runs the solo implementation (an ensemble of one: durable locally = quorum);
 * the ZAB core plugs in behind the same interface.
 */
export interface Replicator {
  /** Whether this server may prep and propose (leader, or the only server). */
  readonly canPropose: boolean;
  /** Allocates the zxid for the next proposal. Only valid while canPropose. */
  nextZxid(): bigint;
  /** Queues an entry for the current batch; nothing is durable or committed until `flush`. */
  propose(entry: LogEntry): void;
  /** Makes the queued batch durable (one storage transaction) and reports what is committed. */
  flush(): void;
  /** Highest zxid proposed so far (sync barriers wait for it). */
  lastProposedZxid(): bigint;
  lastCommittedZxid(): bigint;
  /** Current epoch, for srvr/mntr. */
  epoch(): number;
  /** A snapshot at `zxid` is durable: log entries up to it may leave memory. */
  compactLog?(zxid: bigint): void;
}

export type CommitListener = (entries: readonly LogEntry[]) => void;
