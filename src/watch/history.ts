/**
 * The watch event history behind resumable watches: every event applied on this server, in zxid
 * order, with the node's Stat (and small data) as of the end of its txn, kept within limits.
 *
 * Every member applies the same committed txns in the same order, so every member records the same
 * sequence; a client can therefore resume on any member from a position it reached on another:
 * `(zxid, seen)` = all events of txns before `zxid`, and the first `seen` of txn `zxid` that it was
 * told about (-1 = all of them). The history is complete for zxids above `start`; older events
 * (evicted, or applied before this server's snapshot was loaded) make a position "purged", and the
 * client falls back to a full re-read.
 *
 * Pure: no clocks, no I/O. The server feeds it (record, reset) and asks it (replay).
 */
import { EventType } from '../../protocol/jute/constants';
import type { ACL, Stat } from '../../protocol/jute/data';
import { SEEN_ALL, resumedEventBytes, type ResumedEvent } from '../../protocol/jute/extensions';
import { copyStat } from '../tree/datatree';
import type { ZkDatabase } from '../tree/database';
import type { WatchEvent } from '../tree/events';

export type PersistentWatchMode = 'persistent' | 'persistentRecursive';

export interface WatchPosition {
  zxid: bigint;
  /** Events of txn `zxid` already seen, or SEEN_ALL. */
  seen: number;
}

export interface HistoryEvent {
  zxid: bigint;
  /** EventType */
  type: number;
  path: string;
  /** Whom the event may be told to (READ on this ACL, as for live delivery). */
  acl: readonly ACL[];
  stat?: Stat;
  /** Present when the data was small enough to keep. */
  data?: Buffer | null;
}

export interface HistoryLimits {
  /** Events kept. */
  maxEvents: number;
  /** Approximate bytes kept (paths, stats, data). */
  maxBytes: number;
  /** Data above this size is not kept (the client reads it if it needs it). */
  dataMaxBytes: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = { maxEvents: 100_000, maxBytes: 32 * 1024 * 1024, dataMaxBytes: 64 * 1024 };

/** Per-event overhead counted against maxBytes besides path and data (object, bigint, Stat). */
const EVENT_OVERHEAD_BYTES = 160;

/**
 * Which events a persistent watch on `watchPath` is told about (ZooKeeper's rules, see
 * src/watch/manager.ts): a persistent watch sees every event on its path; a recursive one sees
 * created, changed and deleted on its path and below, never NodeChildrenChanged.
 */
export function watchMatches(mode: PersistentWatchMode, watchPath: string, type: number, path: string): boolean {
  if (mode === 'persistent') return path === watchPath;
  if (type === EventType.nodeChildrenChanged) return false;
  return path === watchPath || watchPath === '/' || path.startsWith(watchPath + '/');
}

export interface ReplayQuery {
  path: string;
  mode: PersistentWatchMode;
  after: WatchPosition;
  /** Page budget in bytes (at least one event is always returned). */
  maxBytes: number;
  includeData: boolean;
  mayRead: (acl: readonly ACL[]) => boolean;
}

export type ReplayResult = { events: ResumedEvent[]; more: boolean } | 'purged';

export class WatchHistory {
  private events: HistoryEvent[] = [];
  /** Index of the oldest kept event in `events` (dropped ones are compacted away lazily). */
  private head = 0;
  private bytes = 0;
  private startZxid: bigint;

  constructor(
    start: bigint,
    private readonly limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
  ) {
    this.startZxid = start;
  }

  /** The history is complete for every zxid above this one. */
  get start(): bigint {
    return this.startZxid;
  }

  get size(): number {
    return this.events.length - this.head;
  }

  /** Whether every event after `after` is still here. */
  covers(after: WatchPosition): boolean {
    return after.zxid > this.startZxid || (after.zxid === this.startZxid && after.seen === SEEN_ALL);
  }

  /** Appends the events of one txn (in the order they were told), then enforces the limits. */
  record(events: readonly HistoryEvent[]): void {
    for (const ev of events) {
      const kept = ev.data !== undefined && ev.data !== null && ev.data.length > this.limits.dataMaxBytes ? { ...ev, data: undefined } : ev;
      if (kept.data === undefined) delete kept.data;
      this.events.push(kept);
      this.bytes += eventBytes(kept);
    }
    this.evict();
  }

  /** Forget everything: the state was replaced (a snapshot from the leader) at `zxid`. */
  reset(zxid: bigint): void {
    this.events = [];
    this.head = 0;
    this.bytes = 0;
    this.startZxid = zxid;
  }

  /** Drops whole txns from the front until within limits; `start` moves past them. */
  private evict(): void {
    while (this.size > this.limits.maxEvents || (this.bytes > this.limits.maxBytes && this.size > 0)) {
      const zxid = this.events[this.head]!.zxid;
      while (this.head < this.events.length && this.events[this.head]!.zxid === zxid) {
        this.bytes -= eventBytes(this.events[this.head]!);
        this.head++;
      }
      this.startZxid = zxid;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
  }

  /** First index whose zxid is >= zxid (binary search; events are in zxid order). */
  private indexOf(zxid: bigint): number {
    let lo = this.head;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.zxid < zxid) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The events a watch would have been told after `after`, oldest first, up to one page. `more`:
   * the page is full and the caller must ask again from its last event.
   */
  replay(q: ReplayQuery): ReplayResult {
    if (!this.covers(q.after)) return 'purged';
    const out: ResumedEvent[] = [];
    let bytes = 0;
    let skip = q.after.seen === SEEN_ALL ? Number.POSITIVE_INFINITY : q.after.seen;
    for (let i = this.indexOf(q.after.zxid); i < this.events.length; i++) {
      const ev = this.events[i]!;
      if (!watchMatches(q.mode, q.path, ev.type, ev.path) || !q.mayRead(ev.acl)) continue;
      if (ev.zxid === q.after.zxid && skip > 0) {
        skip--;
        continue;
      }
      const item: ResumedEvent = { zxid: ev.zxid, type: ev.type, path: ev.path };
      if (ev.stat) item.stat = ev.stat;
      if (q.includeData && ev.data !== undefined) item.data = ev.data;
      const size = resumedEventBytes(item);
      if (out.length > 0 && bytes + size > q.maxBytes) return { events: out, more: true };
      out.push(item);
      bytes += size;
    }
    return { events: out, more: false };
  }
}

function eventBytes(ev: HistoryEvent): number {
  return EVENT_OVERHEAD_BYTES + ev.path.length + (ev.data?.length ?? 0);
}

/**
 * History entries for the events of one applied txn, with Stat and data read from the tree right
 * after it: created/changed carry their node's, childrenChanged its parent's, deleted none.
 */
export function historyEventsOf(db: ZkDatabase, events: readonly WatchEvent[]): HistoryEvent[] {
  return events.map((ev) => {
    const out: HistoryEvent = { zxid: ev.zxid, type: ev.type, path: ev.path, acl: ev.acl };
    const node = ev.type === EventType.nodeDeleted ? undefined : db.tree.get(ev.path);
    if (node) {
      out.stat = copyStat(node);
      if (ev.type !== EventType.nodeChildrenChanged) out.data = node.data;
    }
    return out;
  });
}
