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
import { STAT_BIG_FIELDS as BIG_STAT, STAT_INT_FIELDS as INT_STAT, type StatColumns } from '../tree/datatree';
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

/** Where recordApplied reads each event's Stat and data: the tree right after the event's txn. */
export interface StatSource {
  statInto(path: string, cols: StatColumns, i: number): boolean;
  dataOf(path: string): Buffer | null | undefined;
}
/** `data` column value for "not kept" (null is a null value, which is kept). */
const NO_DATA = undefined;

/**
 * The kept events as a ring of columns, oldest first: event `seq` (a running count) lives in slot
 * `seq & mask`. A busy server records two events per create and keeps 100k of them for seconds,
 * long enough for every one to be promoted to V8's old space and die there; as objects (an event,
 * its Stat and five bigints) that made the history the largest source of old-space garbage at 1M
 * znodes (issue 12: a 400 MB heap whose collection stalled a member). In columns an event holds
 * only references to its path, ACL and data, which exist anyway.
 */
class EventRing {
  private readonly mask: number;
  readonly zxid: BigInt64Array;
  readonly type: Uint8Array;
  readonly hasStat: Uint8Array;
  readonly big: Record<(typeof BIG_STAT)[number], BigInt64Array>;
  readonly int: Record<(typeof INT_STAT)[number], Int32Array>;
  readonly path: (string | undefined)[];
  readonly acl: (readonly ACL[] | undefined)[];
  readonly data: (Buffer | null | undefined)[];
  /** The stat columns as StatSource.statInto writes them (views on `big` and `int`). */
  private readonly cols: StatColumns;

  constructor(readonly capacity: number) {
    this.mask = capacity - 1;
    this.zxid = new BigInt64Array(capacity);
    this.type = new Uint8Array(capacity);
    this.hasStat = new Uint8Array(capacity);
    this.big = Object.fromEntries(BIG_STAT.map((k) => [k, new BigInt64Array(capacity)])) as EventRing['big'];
    this.int = Object.fromEntries(INT_STAT.map((k) => [k, new Int32Array(capacity)])) as EventRing['int'];
    this.path = new Array<string | undefined>(capacity).fill(undefined);
    this.acl = new Array<readonly ACL[] | undefined>(capacity).fill(undefined);
    this.data = new Array<Buffer | null | undefined>(capacity).fill(NO_DATA);
    this.cols = { words: BIG_STAT.map((k) => new Int32Array(this.big[k].buffer)), ints: INT_STAT.map((k) => this.int[k]) };
  }

  slot(seq: number): number {
    return seq & this.mask;
  }

  /** Slot `seq` for `ev`: its zxid, type, path and ACL, and `data` as kept (see keptData). */
  private head(seq: number, ev: Pick<HistoryEvent, 'zxid' | 'type' | 'path' | 'acl'>, data: Buffer | null | undefined): number {
    const i = seq & this.mask;
    this.zxid[i] = ev.zxid;
    this.type[i] = ev.type;
    this.path[i] = ev.path;
    this.acl[i] = ev.acl;
    this.data[i] = data;
    return i;
  }

  /** An event with its Stat and data given (`record`). */
  put(seq: number, ev: HistoryEvent, dataMax: number): Buffer | null | undefined {
    const data = keptData(ev.data, dataMax);
    const i = this.head(seq, ev, data);
    const st = ev.stat;
    this.hasStat[i] = st ? 1 : 0;
    if (st) {
      for (const k of BIG_STAT) this.big[k][i] = st[k];
      for (const k of INT_STAT) this.int[k][i] = st[k];
    }
    return data;
  }

  /**
   * As put, with the Stat and data read from `tree` (see recordApplied). Returns the data kept:
   * data over `dataMax` bytes is left for the client to read.
   */
  putApplied(seq: number, tree: StatSource, ev: WatchEvent, dataMax: number): Buffer | null | undefined {
    const i = this.head(seq, ev, NO_DATA);
    const hasStat = ev.type !== EventType.nodeDeleted && tree.statInto(ev.path, this.cols, i);
    this.hasStat[i] = hasStat ? 1 : 0;
    if (hasStat && ev.type !== EventType.nodeChildrenChanged) this.data[i] = keptData(tree.dataOf(ev.path) ?? null, dataMax);
    return this.data[i];
  }

  /** Drops the references of slot `seq` (its path, ACL and data may then be collected). */
  clear(seq: number): void {
    const i = seq & this.mask;
    this.path[i] = undefined;
    this.acl[i] = undefined;
    this.data[i] = NO_DATA;
  }

  stat(seq: number): Stat | undefined {
    const i = seq & this.mask;
    if (this.hasStat[i] === 0) return undefined;
    const st = {} as Stat;
    for (const k of BIG_STAT) st[k] = this.big[k][i]!;
    for (const k of INT_STAT) st[k] = this.int[k][i]!;
    return st;
  }

  /** A ring twice as big holding events [first, end) of this one at the same sequence numbers. */
  grown(first: number, end: number): EventRing {
    const next = new EventRing(this.capacity * 2);
    for (let seq = first; seq < end; seq++) {
      const from = seq & this.mask;
      const to = seq & next.mask;
      next.zxid[to] = this.zxid[from]!;
      next.type[to] = this.type[from]!;
      next.hasStat[to] = this.hasStat[from]!;
      for (const k of BIG_STAT) next.big[k][to] = this.big[k][from]!;
      for (const k of INT_STAT) next.int[k][to] = this.int[k][from]!;
      next.path[to] = this.path[from];
      next.acl[to] = this.acl[from];
      next.data[to] = this.data[from];
    }
    return next;
  }
}

const INITIAL_RING = 1024;

export class WatchHistory {
  private ring = new EventRing(INITIAL_RING);
  /** Sequence numbers of the oldest kept event and one past the newest. */
  private first = 0;
  private end = 0;
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
    return this.end - this.first;
  }

  /** Whether every event after `after` is still here. */
  covers(after: WatchPosition): boolean {
    return after.zxid > this.startZxid || (after.zxid === this.startZxid && after.seen === SEEN_ALL);
  }

  /**
   * Appends the events of one txn (in the order they were told) with the Stat and data each carries,
   * then enforces the limits. The server records through recordApplied; this is for events built
   * by hand (tests).
   */
  record(events: readonly HistoryEvent[]): void {
    for (const ev of events) {
      const seq = this.nextSeq(); // first: it may replace this.ring
      const data = this.ring.put(seq, ev, this.limits.dataMaxBytes);
      this.bytes += eventBytes({ path: ev.path, data });
    }
    this.evict();
  }

  /**
   * Appends the events of one txn just applied to `tree`, each with the Stat and data the tree
   * holds right after it: created/changed carry their node's, childrenChanged its parent's, deleted
   * none. Written straight into the ring's columns (no event or Stat object per event), then the
   * limits are enforced.
   */
  recordApplied(tree: StatSource, events: readonly WatchEvent[]): void {
    for (const ev of events) {
      const seq = this.nextSeq(); // first: it may replace this.ring
      const data = this.ring.putApplied(seq, tree, ev, this.limits.dataMaxBytes);
      this.bytes += eventBytes({ path: ev.path, data });
    }
    this.evict();
  }

  /** The sequence number of the next event, the ring grown first if it is full. */
  private nextSeq(): number {
    if (this.size === this.ring.capacity) this.ring = this.ring.grown(this.first, this.end);
    return this.end++;
  }

  /** Forget everything: the state was replaced (a snapshot from the leader) at `zxid`. */
  reset(zxid: bigint): void {
    this.ring = new EventRing(INITIAL_RING);
    this.first = 0;
    this.end = 0;
    this.bytes = 0;
    this.startZxid = zxid;
  }

  /** Drops whole txns from the front until within limits; `start` moves past them. */
  private evict(): void {
    const r = this.ring;
    while (this.size > this.limits.maxEvents || (this.bytes > this.limits.maxBytes && this.size > 0)) {
      const zxid = r.zxid[r.slot(this.first)]!;
      while (this.first < this.end && r.zxid[r.slot(this.first)] === zxid) {
        const i = r.slot(this.first);
        this.bytes -= eventBytes({ path: r.path[i]!, data: r.data[i] });
        r.clear(this.first++);
      }
      this.startZxid = zxid;
    }
  }

  /** First sequence number whose zxid is >= zxid (binary search; events are in zxid order). */
  private indexOf(zxid: bigint): number {
    const r = this.ring;
    let lo = this.first;
    let hi = this.end;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      if (r.zxid[r.slot(mid)]! < zxid) lo = mid + 1;
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
    const r = this.ring;
    const out: ResumedEvent[] = [];
    let bytes = 0;
    let skip = q.after.seen === SEEN_ALL ? Number.POSITIVE_INFINITY : q.after.seen;
    for (let seq = this.indexOf(q.after.zxid); seq < this.end; seq++) {
      const i = r.slot(seq);
      const type = r.type[i]!;
      const path = r.path[i]!;
      if (!watchMatches(q.mode, q.path, type, path) || !q.mayRead(r.acl[i]!)) continue;
      const zxid = r.zxid[i]!;
      if (zxid === q.after.zxid && skip > 0) {
        skip--;
        continue;
      }
      const item: ResumedEvent = { zxid, type, path };
      const stat = r.stat(seq);
      if (stat) item.stat = stat;
      if (q.includeData && r.data[i] !== NO_DATA) item.data = r.data[i];
      const size = resumedEventBytes(item);
      if (out.length > 0 && bytes + size > q.maxBytes) return { events: out, more: true };
      out.push(item);
      bytes += size;
    }
    return { events: out, more: false };
  }
}

/** Data over `max` bytes is not kept (the client reads it if it needs it); null is a value and is kept. */
function keptData(data: Buffer | null | undefined, max: number): Buffer | null | undefined {
  return data !== null && data !== undefined && data.length > max ? NO_DATA : data;
}

function eventBytes(ev: Pick<HistoryEvent, 'path' | 'data'>): number {
  return EVENT_OVERHEAD_BYTES + ev.path.length + (ev.data?.length ?? 0);
}
