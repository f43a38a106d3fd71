import type { LogHistory } from '../../../protocol/peer/messages';
import { epochOf } from '../../util/zxid';

/** One logged txn; the core treats `data` as opaque bytes. */
export interface Entry {
  zxid: bigint;
  data: Buffer;
}

/**
 * The core's in-memory view of its log: everything after `base` (the zxid covered by the latest
 * snapshot), in zxid order. Pure bookkeeping: the shell persists what the core tells it to.
 */
export class LogView {
  private entries: Entry[];

  constructor(
    private baseZxid: bigint,
    entries: readonly Entry[],
  ) {
    this.entries = entries.filter((e) => e.zxid > baseZxid);
    for (let i = 1; i < this.entries.length; i++) {
      if (this.entries[i]!.zxid <= this.entries[i - 1]!.zxid) throw new Error('log not in zxid order');
    }
  }

  base(): bigint {
    return this.baseZxid;
  }

  lastZxid(): bigint {
    const n = this.entries.length;
    return n === 0 ? this.baseZxid : this.entries[n - 1]!.zxid;
  }

  size(): number {
    return this.entries.length;
  }

  /** Index of the first entry with zxid > z. */
  private upperBound(z: bigint): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.zxid <= z) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(z: bigint): Entry | undefined {
    const i = this.upperBound(z) - 1;
    const e = this.entries[i];
    return e && e.zxid === z ? e : undefined;
  }

  /** Known to be in our history: a logged entry, or the snapshot point itself. */
  has(z: bigint): boolean {
    return z === this.baseZxid || this.get(z) !== undefined;
  }

  /** Entries in (after, upTo]. */
  slice(after: bigint, upTo: bigint = this.lastZxid()): Entry[] {
    return this.entries.slice(this.upperBound(after), this.upperBound(upTo));
  }

  append(e: Entry): void {
    if (e.zxid <= this.lastZxid()) throw new Error(`append out of order: ${e.zxid} after ${this.lastZxid()}`);
    this.entries.push(e);
  }

  truncateAfter(z: bigint): void {
    if (z < this.baseZxid) throw new Error('cannot truncate below the snapshot');
    this.entries.length = this.upperBound(z);
  }

  /** Replace everything with a snapshot at `z` (SNAP sync). */
  reset(z: bigint): void {
    this.baseZxid = z;
    this.entries = [];
  }

  /** Drop entries now covered by a snapshot the shell took at `z`. */
  compact(z: bigint): void {
    if (z <= this.baseZxid) return;
    if (z > this.lastZxid()) throw new Error('compact beyond the log');
    this.entries = this.entries.slice(this.upperBound(z));
    this.baseZxid = z;
  }

  /** Last zxid of epoch `e` that we know of, or undefined when we cannot tell (none, or compacted). */
  lastInEpoch(e: number): bigint | undefined {
    let last: bigint | undefined;
    if (epochOf(this.baseZxid) === e && this.baseZxid !== 0n) last = this.baseZxid;
    // Entries are sorted, so scan from the end for speed on the common case (recent epochs).
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const ep = epochOf(this.entries[i]!.zxid);
      if (ep === e) return this.entries[i]!.zxid;
      if (ep < e) break;
    }
    return last;
  }

  history(): LogHistory {
    const epochs: LogHistory['epochs'] = [];
    for (const e of this.entries) {
      const ep = epochOf(e.zxid);
      const last = epochs[epochs.length - 1];
      if (last && last.epoch === ep) last.lastZxid = e.zxid;
      else epochs.push({ epoch: ep, lastZxid: e.zxid });
    }
    return { base: this.baseZxid, epochs };
  }
}

export type SyncPlan =
  | { mode: 'diff'; from: bigint }
  | { mode: 'trunc'; to: bigint }
  | { mode: 'snap' };

/**
 * Choose how to bring a learner whose log is summarised by `h` (last zxid `last`) up to the
 * leader's log. Within one epoch every server's entries are a prefix of that epoch's leader's
 * proposals, so two logs agree up to the first epoch where their segments differ: the common point
 * is found by walking the learner's segments. If the common point is in the leader's log we DIFF
 * (or TRUNC to it first); if it was compacted away, or cannot be verified, we SNAP.
 */
export function planSync(leader: LogView, h: LogHistory, last: bigint): SyncPlan {
  if (h.base > leader.lastZxid()) return { mode: 'snap' };
  let common = h.base;
  for (const seg of h.epochs) {
    if (seg.lastZxid <= h.base) continue;
    const ours = leader.lastInEpoch(seg.epoch);
    if (ours === undefined) {
      // Either we never had this epoch (the learner's segment diverges) or it was compacted.
      if (seg.epoch < epochOf(leader.base())) return { mode: 'snap' };
      break;
    }
    if (seg.lastZxid <= ours) {
      common = seg.lastZxid;
      if (seg.lastZxid < ours) break;
    } else {
      common = ours;
      break;
    }
  }
  if (common < leader.base() || (common !== leader.base() && !leader.has(common) && common !== 0n)) {
    return { mode: 'snap' };
  }
  return common === last ? { mode: 'diff', from: common } : { mode: 'trunc', to: common };
}

