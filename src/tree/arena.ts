/**
 * Znode values packed into shared slabs: a value costs its bytes plus 12 bytes of handle (slab,
 * offset, length) instead of a Buffer object per znode (about 100 bytes of V8 overhead each).
 * Slabs are bump-allocated and never written twice, so a view handed out (to a reply, a snapshot
 * pre-image) stays valid however the arena moves on. Freed bytes are counted per slab; a slab
 * with nothing live is dropped, and `sparse()` names the slabs worth evacuating (compaction moves
 * their live values into the current slab; see DataTree.compactValues).
 */
export const SLAB_BYTES = 256 * 1024;
/** Values above this get a slab of their own (a 1 MB value does not pin a shared slab). */
const OWN_SLAB_BYTES = 32 * 1024;
/** Handle slab ids with a meaning of their own. */
export const NULL_VALUE = -1;
export const EMPTY_VALUE = -2;
const EMPTY = Buffer.alloc(0);

/**
 * Copies src[start, start + n) into dst at `at` without making a view of src per call (a snapshot
 * load or scan copies a million values): four bytes at a time through DataViews when the caller
 * has one over src, byte by byte up to 64 bytes, else one native copy through a view (worth it for
 * a big value).
 */
export function copyBytes(dst: Uint8Array, dstView: DataView, at: number, src: Uint8Array, start: number, n: number, srcView?: DataView): void {
  if (srcView && n <= 4096) {
    let i = 0;
    for (; i + 4 <= n; i += 4) dstView.setInt32(at + i, srcView.getInt32(start + i));
    for (; i < n; i++) dst[at + i] = src[start + i]!;
  } else if (n <= 64) for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  else dst.set(src.subarray(start, start + n), at);
}

export class ValueArena {
  private slabs: (Buffer | undefined)[] = [];
  /** A DataView per slab, for putRange's four-byte copies. */
  private views: (DataView | undefined)[] = [];
  private live: number[] = [];
  private freeIds: number[] = [];
  private cur = -1;
  private used = 0;
  /** Bytes held by slabs (live or not): what the values cost in memory. */
  private held = 0;

  /** Copies `src` in; returns its slab id (or NULL_VALUE / EMPTY_VALUE) and offset. */
  put(src: Uint8Array | null): [number, number] {
    return src === null ? [NULL_VALUE, 0] : this.putRange(src, 0, src.length);
  }

  /**
   * Copies src[start, start + n) in. With `srcView` (a DataView over all of `src`: snapshot loading
   * passes its chunk's) a value is copied four bytes at a time without making a view of `src`,
   * which otherwise costs an object per value (a million at a load).
   */
  putRange(src: Uint8Array, start: number, n: number, srcView?: DataView): [number, number] {
    if (n === 0) return [EMPTY_VALUE, 0];
    const [id, off] = this.reserve(n);
    copyBytes(this.slabs[id]!, this.views[id]!, off, src, start, n, srcView);
    return [id, off];
  }

  /** Room for n bytes (n > 0): a slab of its own for big values, else the current slab. */
  private reserve(n: number): [number, number] {
    if (n > OWN_SLAB_BYTES) {
      const id = this.newSlab(n);
      this.live[id] = n;
      return [id, 0];
    }
    if (this.cur < 0 || this.used + n > SLAB_BYTES) {
      const old = this.cur;
      this.cur = this.newSlab(SLAB_BYTES);
      this.used = 0;
      if (old >= 0 && this.live[old] === 0) this.dropSlab(old);
    }
    const off = this.used;
    this.used += n;
    this.live[this.cur] += n;
    return [this.cur, off];
  }

  /** Copies an ASCII string in (one byte per char; the caller checked it is ASCII). */
  putAscii(src: string): [number, number] {
    const n = src.length;
    if (n === 0) return [EMPTY_VALUE, 0];
    const [slab, off] = this.reserve(n);
    this.slabs[slab]!.write(src, off, n, 'latin1');
    return [slab, off];
  }

  /** The slab buffer itself (for reading stored bytes in place, without making a view). */
  slabBuffer(slab: number): Buffer {
    return this.slabs[slab]!;
  }

  /** A view of a stored value (no copy). */
  view(slab: number, off: number, len: number): Buffer | null {
    if (slab === NULL_VALUE) return null;
    if (slab === EMPTY_VALUE) return EMPTY;
    return this.slabs[slab]!.subarray(off, off + len);
  }

  /**
   * Points `out` at a value's bytes without making a view (a snapshot scan reads a million of them);
   * false for a null value.
   */
  ref(slab: number, off: number, len: number, out: { buf: Buffer; start: number; len: number; view?: DataView }): boolean {
    if (slab === NULL_VALUE) return false;
    const empty = slab === EMPTY_VALUE;
    out.buf = empty ? EMPTY : this.slabs[slab]!;
    out.view = empty ? undefined : this.views[slab];
    out.start = empty ? 0 : off;
    out.len = empty ? 0 : len;
    return true;
  }

  release(slab: number, len: number): void {
    if (slab < 0) return;
    this.live[slab] -= len;
    if (this.live[slab] === 0 && slab !== this.cur) this.dropSlab(slab);
  }

  /** Slabs (other than the one being filled) whose live bytes are under a quarter of their size. */
  sparse(): Set<number> {
    const out = new Set<number>();
    for (let id = 0; id < this.slabs.length; id++) {
      const s = this.slabs[id];
      if (s && id !== this.cur && this.live[id] * 4 < s.length) out.add(id);
    }
    return out;
  }

  get heldBytes(): number {
    return this.held;
  }

  private newSlab(bytes: number): number {
    const id = this.freeIds.pop() ?? this.slabs.length;
    // Slow (unpooled) allocation: a slab is exactly its own memory, freed as one.
    const slab = (this.slabs[id] = Buffer.allocUnsafeSlow(bytes));
    this.views[id] = new DataView(slab.buffer, slab.byteOffset, slab.length);
    this.live[id] = 0;
    this.held += bytes;
    return id;
  }

  private dropSlab(id: number): void {
    this.held -= this.slabs[id]!.length;
    this.slabs[id] = undefined;
    this.views[id] = undefined;
    this.freeIds.push(id);
  }
}
