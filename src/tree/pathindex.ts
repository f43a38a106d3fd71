import { ValueArena } from './arena';

const EMPTY = 0;
const TOMBSTONE = -1;
/** Table entries are slot + 1 (0 = empty, -1 = deleted). */
const MIN_TABLE = 1024;

const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SLASH = 0x2f;

/** FNV-1a over bytes [start, end): the path hash (32-bit). */
function fnv(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_BASIS;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], FNV_PRIME);
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
  private table: Int32Array = new Int32Array(MIN_TABLE);
  private used = 0;
  private deleted = 0;
  private readonly bytes = new ValueArena();
  private scratch = Buffer.allocUnsafe(4096);
  /** Slots added by `addLoaded` and not indexed yet (the first `pendingCount`). */
  private pending: Int32Array = new Int32Array(0);
  private pendingCount = 0;

  get size(): number {
    return this.used;
  }

  /** Makes room for slots below `cap`. */
  grow(cap: number): void {
    const g = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
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
    let h = FNV_BASIS;
    for (let i = 0; i < n; i++) {
      const c = path.charCodeAt(i);
      if (c >= 0x80) return this.find(this.scratch, 0, this.encode(path));
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    return this.probe(h | 0, n, path, 0);
  }

  /** Linear probing for a path with hash `h` and byte length `n`, given as a string or as bytes from `start`. */
  private probe(h: number, n: number, key: string | Uint8Array, start: number): number | undefined {
    const mask = this.table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = this.table[i];
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
    let h = FNV_BASIS;
    for (let i = 0; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c >= 0x80) return this.addBytes(s, this.scratch, 0, this.encode(path));
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    if ((this.used + this.deleted + 1) * 2 > this.table.length) this.rehash();
    const [slab, off] = this.bytes.putAscii(path);
    this.place(s, slab, off, path.length, h | 0);
  }

  addBytes(s: number, buf: Uint8Array, start: number, n: number): void {
    if ((this.used + this.deleted + 1) * 2 > this.table.length) this.rehash();
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
   * Puts the paths from `addLoaded` into the table at once: sorted by home bucket (a radix sort)
   * and laid down in table order, so the table is written front to back instead of at random.
   * Returns a slot whose path was already indexed or loaded before it (nothing is indexed then),
   * else undefined.
   */
  indexLoaded(): number | undefined {
    const n = this.pendingCount;
    const existing = this.used;
    const pending = this.pending.subarray(0, n);
    this.pending = new Int32Array(0);
    this.pendingCount = 0;
    this.reserve(existing + n);
    const mask = this.table.length - 1;
    const [keys, slots] = sortByBucket(pending, this.hash, mask);
    // Equal paths have equal hashes, so a duplicate sits in its twin's bucket group.
    for (let i = 0, group = 0; i < n; i++) {
      if ((keys[i] & mask) !== (keys[group] & mask)) group = i;
      for (let j = group; j < i; j++) if (keys[j] === keys[i] && this.sameBytes(slots[j], slots[i])) return slots[i];
      if (existing > 0 && this.probe(keys[i], this.len[slots[i]], this.bytes.slabBuffer(this.slab[slots[i]]), this.off[slots[i]]) !== undefined) return slots[i];
    }
    for (let i = 0, next = 0; i < n; i++) {
      const at = Math.max(keys[i] & mask, next);
      // Past the end (wrapping around) or into a table already in use: an ordinary probe.
      if (existing > 0 || at > mask) this.insert(slots[i], keys[i]);
      else {
        this.table[at] = slots[i] + 1;
        next = at + 1;
      }
    }
    this.used += n;
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
    const mask = this.table.length - 1;
    for (let i = this.hash[s] & mask; ; i = (i + 1) & mask) {
      const e = this.table[i];
      if (e === EMPTY) throw new Error(`path index: slot ${s} is not indexed`);
      if (e === s + 1) {
        this.table[i] = TOMBSTONE;
        break;
      }
    }
    this.bytes.release(this.slab[s], this.len[s]);
    this.used--;
    this.deleted++;
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

  /** Sizes the table for `n` paths now (snapshot loading knows the count: no rehash while it grows). */
  reserve(n: number): void {
    // The smallest table that holds n at the load factor that triggers growth (at most 1/2).
    if ((n + this.deleted + 1) * 2 > this.table.length) this.rehash((n + 1) * 2);
  }

  /** Rebuilds the table (by default at four times the live size), dropping tombstones, from the stored hashes. */
  private rehash(minSize = (this.used + 1) * 4): void {
    let size = MIN_TABLE;
    while (size < minSize) size *= 2;
    const old = this.table;
    this.table = new Int32Array(size);
    this.deleted = 0;
    for (let i = 0; i < old.length; i++) {
      const e = old[i];
      if (e > 0) this.insert(e - 1, this.hash[e - 1]);
    }
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
