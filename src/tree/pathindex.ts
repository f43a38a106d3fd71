import { ValueArena } from './arena';
import { grownColumn } from './columns';

const EMPTY = 0;
const TOMBSTONE = -1;
/** Table entries are slot + 1 (0 = empty, -1 = deleted). */
const MIN_TABLE = 1024;
/**
 * Old-table slots moved into the new table per add or remove while a resize drains (incremental
 * rehash): a whole rehash at 524k paths held the event loop for 55-370 ms here.
 */
const MIGRATE_SLOTS_PER_WRITE = 256;

const SLASH = 0x2f;

/** FNV-1a over bytes [start, end): the path hash (32-bit). */
function fnv(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h | 0;
}

/** Bits of the bucket sorted per radix pass (2,048 counters: they stay in cache). */
const RADIX_BITS = 11;

/**
 * `slots` with their hashes (read from the `hash` column), ordered by home bucket (hash & mask):
 * an LSD radix sort, one pass per 11 bits of the mask, each pass reading its input in order.
 */
function sortByBucket(slots: Int32Array, hash: Int32Array, mask: number): [Int32Array, Int32Array] {
  const n = slots.length;
  let keys = new Int32Array(n);
  let vals = Int32Array.from(slots);
  for (let i = 0; i < n; i++) keys[i] = hash[vals[i]];
  let keys2 = new Int32Array(n);
  let vals2 = new Int32Array(n);
  const count = new Int32Array(1 << RADIX_BITS);
  const digitMask = (1 << RADIX_BITS) - 1;
  for (let shift = 0; mask >>> shift !== 0; shift += RADIX_BITS) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((keys[i] & mask) >>> shift) & digitMask]++;
    for (let d = 0, at = 0; d < count.length; d++) {
      const c = count[d];
      count[d] = at;
      at += c;
    }
    for (let i = 0; i < n; i++) {
      const to = count[((keys[i] & mask) >>> shift) & digitMask]++;
      keys2[to] = keys[i];
      vals2[to] = vals[i];
    }
    [keys, keys2] = [keys2, keys];
    [vals, vals2] = [vals2, vals];
  }
  return [keys, vals];
}

/**
 * Path -> slot, with the paths stored as UTF-8 bytes in slabs and an open-addressing hash table in
 * an Int32Array: no JS object per znode at all. A million znodes cost no garbage-collector work
 * (a Map of a million path strings made loading a snapshot spend most of its time in GC) and about
 * 30 bytes less each. Slot-indexed columns (slab, offset, length, hash) grow with the tree.
 */
export class PathIndex {
  private slab: Int32Array = new Int32Array(0);
  private off: Int32Array = new Int32Array(0);
  private len: Int32Array = new Int32Array(0);
  private hash: Int32Array = new Int32Array(0);
  private table: Int32Array;
  /** After a resize, the previous table, drained into `table` a bounded step per write; lookups see both. */
  private old: Int32Array | undefined;
  private oldAt = 0;
  private used = 0;
  private deleted = 0;
  private readonly bytes = new ValueArena();
  private scratch = Buffer.allocUnsafe(4096);
  /** Slots added by `addLoaded` and not indexed yet (the first `pendingCount`). */
  private pending: Int32Array = new Int32Array(0);
  private pendingCount = 0;

  /** Tests pass small sizes to drive resizes and their draining through every path. */
  constructor(
    private readonly minTable = MIN_TABLE,
    private readonly migrateSlots = MIGRATE_SLOTS_PER_WRITE,
  ) {
    this.table = new Int32Array(minTable);
  }

  get size(): number {
    return this.used;
  }

  /** Makes room for slots below `cap`. */
  grow(cap: number): void {
    const g = (a: Int32Array): Int32Array => grownColumn(Int32Array, a, cap);
    this.slab = g(this.slab);
    this.off = g(this.off);
    this.len = g(this.len);
    this.hash = g(this.hash);
  }

  /** Encodes a path into the scratch buffer; returns its byte length. */
  private encode(path: string): number {
    const n = Buffer.byteLength(path);
    if (n > this.scratch.length) this.scratch = Buffer.allocUnsafe(n * 2);
    this.scratch.write(path, 0);
    return n;
  }

  /**
   * The slot of `path`. ASCII paths (nearly all) are hashed and compared straight from the string's
   * char codes, which equal their UTF-8 bytes: no encoding, no allocation per lookup.
   */
  get(path: string): number | undefined {
    const n = path.length;
    let h = 0x811c9dc5;
    for (let i = 0; i < n; i++) {
      const c = path.charCodeAt(i);
      if (c >= 0x80) return this.find(this.scratch, 0, this.encode(path));
      h = Math.imul(h ^ c, 0x01000193);
    }
    return this.probe(h | 0, n, path, 0);
  }

  /** The slot of a path with hash `h` and byte length `n` (a string, or bytes from `start`): new table first, then one being drained. */
  private probe(h: number, n: number, key: string | Uint8Array, start: number): number | undefined {
    const s = this.probeIn(this.table, h, n, key, start);
    return s !== undefined || !this.old ? s : this.probeIn(this.old, h, n, key, start);
  }

  /** Linear probing in one table. */
  private probeIn(table: Int32Array, h: number, n: number, key: string | Uint8Array, start: number): number | undefined {
    const mask = table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = table[i];
      if (e === EMPTY) return undefined;
      if (e === TOMBSTONE) continue;
      const s = e - 1;
      if (this.hash[s] !== h || this.len[s] !== n) continue;
      if (typeof key === 'string' ? this.equalsString(s, key) : this.equals(s, key, start, n)) return s;
    }
  }

  private equalsString(s: number, path: string): boolean {
    const src = this.bytes.slabBuffer(this.slab[s]);
    const off = this.off[s];
    for (let i = 0; i < path.length; i++) if (src[off + i] !== path.charCodeAt(i)) return false;
    return true;
  }

  /** The slot whose path is the bytes buf[start, start + n), if any. */
  find(buf: Uint8Array, start: number, n: number): number | undefined {
    return this.probe(fnv(buf, start, start + n), n, buf, start);
  }

  private equals(s: number, buf: Uint8Array, start: number, n: number): boolean {
    const src = this.bytes.slabBuffer(this.slab[s]);
    const off = this.off[s];
    for (let i = 0; i < n; i++) if (src[off + i] !== buf[start + i]) return false;
    return true;
  }

  /** Adds `path` for slot `s` (the caller checked it is absent). */
  add(s: number, path: string): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c >= 0x80) return this.addBytes(s, this.scratch, 0, this.encode(path));
      h = Math.imul(h ^ c, 0x01000193);
    }
    this.beforeAdd();
    const [slab, off] = this.bytes.putAscii(path);
    this.place(s, slab, off, path.length, h | 0);
  }

  addBytes(s: number, buf: Uint8Array, start: number, n: number): void {
    this.beforeAdd();
    const [slab, off] = this.bytes.putRange(buf, start, n);
    this.place(s, slab, off, n, fnv(buf, start, start + n));
  }

  /**
   * Snapshot loading: stores the path buf[0, n) for slot `s` and its hash, but leaves it out of the
   * table until `indexLoaded` (lookups do not see it meanwhile). Inserting a million paths one by
   * one probes the table at random, a cache miss each: about half the load's CPU time.
   */
  addLoaded(s: number, buf: Uint8Array, n: number): void {
    const [slab, off] = this.bytes.putRange(buf, 0, n);
    this.slab[s] = slab;
    this.off[s] = off;
    this.len[s] = n;
    this.hash[s] = fnv(buf, 0, n);
    if (this.pendingCount === this.pending.length) {
      const more = new Int32Array(Math.max(1024, this.pending.length * 2));
      more.set(this.pending);
      this.pending = more;
    }
    this.pending[this.pendingCount++] = s;
  }

  /**
   * Puts the paths from `addLoaded` into the table. Into an empty index (a load from disk, all rows
   * at once) in bulk: a table sized for them, the slots radix-sorted by home bucket and laid down
   * front to back instead of at random, a duplicate found in its twin's bucket group. Otherwise (a
   * SNAP indexed chunk by chunk) one by one, as adds, resizes draining as usual. Returns a slot whose
   * path is already indexed (the load fails: what was indexed stays), else undefined.
   */
  indexLoaded(): number | undefined {
    const n = this.pendingCount;
    const pending = this.pending.subarray(0, n);
    this.pending = new Int32Array(0);
    this.pendingCount = 0;
    return this.used === 0 ? this.indexAll(pending) : this.indexEach(pending);
  }

  private indexEach(slots: Int32Array): number | undefined {
    for (const s of slots) {
      if (this.probe(this.hash[s], this.len[s], this.bytes.slabBuffer(this.slab[s]), this.off[s]) !== undefined) return s;
      this.beforeAdd();
      this.insert(s, this.hash[s]);
      this.used++;
    }
    return undefined;
  }

  private indexAll(pending: Int32Array): number | undefined {
    const n = pending.length;
    let size = this.minTable;
    // A quarter full, as a resize leaves it: a tree loaded just under a power of two otherwise
    // resized again within its first few thousand writes (at 1M znodes, while a restart replayed
    // its log tail: a 32 MB table and 2M slots to drain).
    while (size < (n + 1) * 4) size *= 2;
    this.table = new Int32Array(size);
    this.old = undefined;
    this.deleted = 0;
    const mask = size - 1;
    const [keys, slots] = sortByBucket(pending, this.hash, mask);
    // Equal paths have equal hashes, so a duplicate sits in its twin's bucket group.
    for (let i = 0, group = 0; i < n; i++) {
      if ((keys[i] & mask) !== (keys[group] & mask)) group = i;
      for (let j = group; j < i; j++) if (keys[j] === keys[i] && this.sameBytes(slots[j], slots[i])) return slots[i];
    }
    for (let i = 0, next = 0; i < n; i++) {
      const at = Math.max(keys[i] & mask, next);
      // A run past the end wraps around: an ordinary probe from the table's start.
      if (at > mask) this.insert(slots[i], keys[i]);
      else {
        this.table[at] = slots[i] + 1;
        next = at + 1;
      }
    }
    this.used = n;
    return undefined;
  }

  private sameBytes(a: number, b: number): boolean {
    return this.len[a] === this.len[b] && this.equals(a, this.bytes.slabBuffer(this.slab[b]), this.off[b], this.len[b]);
  }

  /** The slot of the parent of slot `s`'s path ('/' is the parent of '/x'); undefined for the root or a missing parent. */
  parentSlotOf(s: number): number | undefined {
    const n = this.len[s];
    if (n <= 1) return undefined;
    const src = this.bytes.slabBuffer(this.slab[s]);
    const off = this.off[s];
    let slash = n - 1;
    while (slash > 0 && src[off + slash] !== SLASH) slash--;
    const pl = slash === 0 ? 1 : slash;
    return this.probe(fnv(src, off, off + pl), pl, src, off);
  }

  private place(s: number, slab: number, off: number, n: number, h: number): void {
    this.slab[s] = slab;
    this.off[s] = off;
    this.len[s] = n;
    this.hash[s] = h;
    this.insert(s, h);
    this.used++;
  }

  private insert(s: number, h: number): void {
    const mask = this.table.length - 1;
    let i = h & mask;
    while (this.table[i] > 0) i = (i + 1) & mask;
    if (this.table[i] === TOMBSTONE) this.deleted--;
    this.table[i] = s + 1;
  }

  remove(s: number): void {
    if (this.old) this.migrate(this.migrateSlots);
    if (this.unlist(this.table, s)) this.deleted++;
    else if (!this.old || !this.unlist(this.old, s)) throw new Error(`path index: slot ${s} is not indexed`);
    this.bytes.release(this.slab[s], this.len[s]);
    this.used--;
  }

  /** Replaces slot `s`'s entry in `table` by a tombstone; false if it is not there. */
  private unlist(table: Int32Array, s: number): boolean {
    const mask = table.length - 1;
    for (let i = this.hash[s] & mask; ; i = (i + 1) & mask) {
      const e = table[i];
      if (e === EMPTY) return false;
      if (e === s + 1) {
        table[i] = TOMBSTONE;
        return true;
      }
    }
  }

  /** The path of slot `s` as a string (allocated on each call). */
  path(s: number): string {
    return this.pathFrom(s, 0);
  }

  /** The path of slot `s` from byte `from` on (a child's name after its parent's prefix). */
  pathFrom(s: number, from: number): string {
    const off = this.off[s];
    return this.bytes.slabBuffer(this.slab[s]).toString('utf8', off + from, off + this.len[s]);
  }

  /** Where slot `s`'s path bytes are: its slab buffer and offset (read in place, do not keep). */
  pathRef(s: number, ref: { buf: Buffer; start: number; len: number }): void {
    ref.buf = this.bytes.slabBuffer(this.slab[s]);
    ref.start = this.off[s];
    ref.len = this.len[s];
  }

  byteLength(s: number): number {
    return this.len[s];
  }

  /** Keeps the table at most half full (live entries and tombstones), draining a resize a step at a time. */
  private beforeAdd(): void {
    if (this.old) this.migrate(this.migrateSlots);
    if ((this.used + this.deleted + 1) * 2 > this.table.length) this.resize();
  }

  /**
   * Starts a table of at least four times the live size (so it is a quarter full and tombstones
   * are gone); the old one is drained by later writes. A drain always ends long before the new
   * table fills; if one were still running, it is finished first (never two old tables).
   */
  private resize(): void {
    if (this.old) this.migrate(this.old.length);
    let size = this.minTable;
    while (size < (this.used + 1) * 4) size *= 2;
    this.old = this.table;
    this.oldAt = 0;
    this.table = new Int32Array(size);
    this.deleted = 0;
  }

  /** Moves the live entries of the next `slots` old-table slots into the new table, from the stored hashes. */
  private migrate(slots: number): void {
    const old = this.old!;
    const end = Math.min(old.length, this.oldAt + slots);
    for (let i = this.oldAt; i < end; i++) {
      const e = old[i];
      if (e <= 0) continue;
      this.insert(e - 1, this.hash[e - 1]);
      // Lookups fall through to the old table: a moved entry must not be found there again.
      old[i] = TOMBSTONE;
    }
    this.oldAt = end;
    if (end === old.length) this.old = undefined;
  }

  /** Moves path bytes out of sparse slabs (see ValueArena.sparse); `isLive(s)` tells which slots hold a path. */
  compact(from: number, maxSlots: number, limit: number, isLive: (s: number) => boolean, sparse: Set<number>): number {
    const stop = Math.min(limit, from + maxSlots);
    for (let s = from; s < stop; s++) {
      if (!isLive(s) || !sparse.has(this.slab[s])) continue;
      const [slab, off] = this.bytes.putRange(this.bytes.view(this.slab[s], this.off[s], this.len[s])!, 0, this.len[s]);
      this.bytes.release(this.slab[s], this.len[s]);
      this.slab[s] = slab;
      this.off[s] = off;
    }
    return stop >= limit ? 0 : stop;
  }

  sparseSlabs(): Set<number> {
    return this.bytes.sparse();
  }

  get heldBytes(): number {
    return this.bytes.heldBytes;
  }
}
