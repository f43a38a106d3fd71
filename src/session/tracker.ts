/**
 * Session expiry bookkeeping in the shape of ZooKeeper's ExpiryQueue: every session sits in a bucket
 * keyed by an expiry time that is a multiple of tickTime, so one check per tick expires a whole
 * bucket at once. Pure: the caller passes `now` (ms, any monotonic clock) everywhere.
 */

interface Tracked {
  timeoutMs: number;
  /** Bucket the session is in; undefined once it is closing (its close is already under way). */
  expiresAt: number | undefined;
  closing: boolean;
}

export interface ExpiryBucket {
  expiresAt: number;
  sessions: bigint[];
}

export class SessionTracker {
  private readonly tickTimeMs: number;
  private readonly sessions = new Map<bigint, Tracked>();
  private readonly buckets = new Map<number, Set<bigint>>();

  constructor(opts: { tickTimeMs: number }) {
    if (!(opts.tickTimeMs > 0)) throw new RangeError(`tickTimeMs must be positive, got ${opts.tickTimeMs}`);
    this.tickTimeMs = opts.tickTimeMs;
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * ExpiryQueue.roundToNextInterval: (t / tick + 1) * tick. An exact multiple still moves to the
   * next one, so a session never expires earlier than its timeout.
   */
  bucketFor(now: number, timeoutMs: number): number {
    const t = now + timeoutMs;
    return (Math.floor(t / this.tickTimeMs) + 1) * this.tickTimeMs;
  }

  /** Starts tracking (or re-tracks with a new timeout, as on reconnect). Clears `closing`. */
  add(sid: bigint, timeoutMs: number, now: number): void {
    const existing = this.sessions.get(sid);
    if (existing) this.unbucket(sid, existing);
    const s: Tracked = { timeoutMs, expiresAt: undefined, closing: false };
    this.sessions.set(sid, s);
    this.bucket(sid, s, this.bucketFor(now, timeoutMs));
  }

  /** SessionTrackerImpl.touchSession: false when unknown or closing (the caller must not revive it). */
  touch(sid: bigint, now: number): boolean {
    const s = this.sessions.get(sid);
    if (!s || s.closing) return false;
    const at = this.bucketFor(now, s.timeoutMs);
    if (at !== s.expiresAt) {
      this.unbucket(sid, s);
      this.bucket(sid, s, at);
    }
    return true;
  }

  /**
   * The session's close has been proposed: it can no longer be touched, and it leaves the expiry
   * buckets so that expiry does not propose a second closeSession. It stays known (`has`) until
   * `remove` is called when the close is applied.
   */
  setClosing(sid: bigint): void {
    const s = this.sessions.get(sid);
    if (!s) return;
    s.closing = true;
    this.unbucket(sid, s);
  }

  isClosing(sid: bigint): boolean {
    return this.sessions.get(sid)?.closing ?? false;
  }

  remove(sid: bigint): void {
    const s = this.sessions.get(sid);
    if (!s) return;
    this.unbucket(sid, s);
    this.sessions.delete(sid);
  }

  has(sid: bigint): boolean {
    return this.sessions.has(sid);
  }

  timeoutOf(sid: bigint): number | undefined {
    return this.sessions.get(sid)?.timeoutMs;
  }

  /** Expiry time of the session's bucket (undefined if unknown or closing). */
  expiresAt(sid: bigint): number | undefined {
    return this.sessions.get(sid)?.expiresAt;
  }

  /**
   * Removes and returns every session whose bucket time is <= now, oldest bucket first. Like
   * ExpiryQueue.poll, a bucket at time T expires once now >= T.
   */
  expired(now: number): bigint[] {
    const due = [...this.buckets.keys()].filter((t) => t <= now).sort((a, b) => a - b);
    const out: bigint[] = [];
    for (const t of due) {
      for (const sid of this.buckets.get(t) ?? []) {
        out.push(sid);
        this.sessions.delete(sid);
      }
      this.buckets.delete(t);
    }
    return out;
  }

  /** The earliest bucket time, for scheduling the next check. */
  nextExpiryAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.buckets.keys()) if (min === undefined || t < min) min = t;
    return min;
  }

  /** Buckets in time order, for the `dump` four-letter word. */
  dumpBuckets(): ExpiryBucket[] {
    return [...this.buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([expiresAt, set]) => ({ expiresAt, sessions: [...set] }));
  }

  /** Every tracked session id (including closing ones). */
  ids(): bigint[] {
    return [...this.sessions.keys()];
  }

  private bucket(sid: bigint, s: Tracked, at: number): void {
    let set = this.buckets.get(at);
    if (!set) this.buckets.set(at, (set = new Set()));
    set.add(sid);
    s.expiresAt = at;
  }

  private unbucket(sid: bigint, s: Tracked): void {
    if (s.expiresAt === undefined) return;
    const set = this.buckets.get(s.expiresAt);
    if (set) {
      set.delete(sid);
      if (set.size === 0) this.buckets.delete(s.expiresAt);
    }
    s.expiresAt = undefined;
  }
}
