import type { HardState, LogEntry, Store } from '../storage';
import type { CommitListener, Replicator } from './replicator';
import { COUNTER_MAX, epochOf, makeZxid } from '../util/zxid';

/**
 * An ensemble of one. It follows ZAB's rules with a quorum of size one: on start it establishes
 * a new epoch above every epoch it has accepted (persisting acceptedEpoch and currentEpoch before
 * proposing), a proposal is committed as soon as it is durable on this server, and commits are
 * reported in zxid order. Keeping this shape means standalone and ensemble share one write path.
 */
export class SoloReplicator implements Replicator {
  readonly canPropose = true;
  private currentEpoch: number;
  private counter = 0n;
  private lastProposed: bigint;
  private lastCommitted: bigint;
  private batch: LogEntry[] = [];
  private pendingHardState: HardState | undefined;

  constructor(
    private readonly store: Store,
    private readonly onCommit: CommitListener,
  ) {
    const hs = store.hardState();
    const lastZxid = store.lastZxid();
    // A new epoch must exceed both the accepted epoch and the epoch of anything in the log.
    const epoch = Math.max(hs.acceptedEpoch, hs.currentEpoch, epochOf(lastZxid)) + 1;
    this.currentEpoch = epoch;
    this.store.persist({ hardState: { acceptedEpoch: epoch, currentEpoch: epoch } });
    this.lastProposed = lastZxid;
    this.lastCommitted = lastZxid;
  }

  epoch(): number {
    return this.currentEpoch;
  }

  nextZxid(): bigint {
    if (this.counter >= COUNTER_MAX) this.rollEpoch();
    this.counter += 1n;
    const zxid = makeZxid(this.currentEpoch, this.counter);
    this.lastProposed = zxid;
    return zxid;
  }

  propose(entry: LogEntry): void {
    this.batch.push(entry);
  }

  flush(): void {
    if (this.batch.length === 0 && !this.pendingHardState) return;
    const entries = this.batch;
    this.batch = [];
    const hardState = this.pendingHardState;
    this.pendingHardState = undefined;
    // Durable before anything is acknowledged: persist throws StorageFatalError on failure and the
    // server stops without replying to any request in this batch.
    this.store.persist({ hardState, entries });
    if (entries.length > 0) {
      this.lastCommitted = entries[entries.length - 1].zxid;
      this.onCommit(entries);
    }
  }

  lastProposedZxid(): bigint {
    return this.lastProposed;
  }

  lastCommittedZxid(): bigint {
    return this.lastCommitted;
  }

  /** Counter exhaustion forces a new epoch, as a ZAB leader would by re-running election. */
  private rollEpoch(): void {
    this.currentEpoch += 1;
    this.counter = 0n;
    this.pendingHardState = { acceptedEpoch: this.currentEpoch, currentEpoch: this.currentEpoch };
  }
}
