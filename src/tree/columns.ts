/**
 * Growing the tree's slot-indexed columns (stat fields, links, path index) without copying them.
 *
 * Doubling a typed array means allocating a bigger one and copying every element: at 524k slots
 * the tree's ~20 columns are about 50 MB, and on the way to 1M znodes the copy held the event loop
 * for 330-920 ms here (a fill probe: "grow to 1048576: 407 ms", more on a busy machine). Past a
 * small size a column is therefore a view on a buffer with room for 2^24 slots: growing it is a
 * new view, and the elements stay where they are. The room costs address space only: the buffer
 * is zero-filled memory the kernel maps on first touch, so the resident size still follows the
 * slots in use. Why a SharedArrayBuffer (nothing here is shared with another thread): V8 counts an
 * ArrayBuffer's bytes as external memory, and 1.8 GB of new ArrayBuffers set off a series of
 * "external memory pressure" collections (17 GCs, 1.2 s with a 56 MB live heap, measured here; the
 * 400 ms stall at ~64k znodes in bench:scale), while the same SharedArrayBuffers took 0.4 ms and no
 * GC. Not resizable buffers: element access on those is about 40% slower in Node 20's V8 (a column
 * microbenchmark), and the tree reads its columns on every request; over a SharedArrayBuffer it is
 * as fast as over an ArrayBuffer. Small trees (tests, simulators) grow by copying, which costs at
 * most a few ms, and reserve nothing.
 */

/** From this many slots on, a column gets room to grow in place. */
const ROOM_FROM_SLOTS = 1 << 16;
/** Slots of room then (16M znodes); a tree beyond that grows by copying again, into 8 times more. */
const ROOM_SLOTS = 1 << 24;

type Column = Int32Array | BigInt64Array | Uint8Array;
interface ColumnCtor<T extends Column> {
  new (length: number): T;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** `old` with room for `cap` elements (cap >= old.length), elements kept, new ones zero. */
export function grownColumn<T extends Column>(Ctor: ColumnCtor<T>, old: T, cap: number): T {
  const bytes = cap * Ctor.BYTES_PER_ELEMENT;
  // Only this module makes views that do not span their buffer, and only ones starting at 0.
  if (old.buffer.byteLength >= bytes) return new Ctor(old.buffer, 0, cap);
  const slots = cap < ROOM_FROM_SLOTS ? cap : Math.max(ROOM_SLOTS, cap * 8);
  const bufBytes = slots * Ctor.BYTES_PER_ELEMENT;
  const next = new Ctor(slots > cap ? new SharedArrayBuffer(bufBytes) : new ArrayBuffer(bufBytes), 0, cap);
  next.set(old as never);
  return next;
}
