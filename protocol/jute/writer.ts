/**
 * Growable big-endian output buffer for jute records. One backing Buffer that doubles when full, so
 * encoding a reply never concatenates per-field Buffers. Several frames may be written back to back
 * (beginFrame/endFrame pairs); the connection flushes them with one toBuffer() + reset().
 */
const FRAME_PREFIX_BYTES = 4;

export class JuteWriter {
  private buf: Buffer;
  private len = 0;
  private frameStart = -1;
  private readonly initialSize: number;

  constructor(initialSize = 256) {
    this.initialSize = Math.max(16, initialSize);
    this.buf = Buffer.allocUnsafe(this.initialSize);
  }

  get length(): number {
    return this.len;
  }

  writeInt(n: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(n, this.len);
    this.len += 4;
  }

  writeLong(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt.asIntN(64, v), this.len);
    this.len += 8;
  }

  writeBool(b: boolean): void {
    this.ensure(1);
    this.buf[this.len++] = b ? 1 : 0;
  }

  writeBuffer(b: Buffer | null): void {
    if (b === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(b.length);
    this.writeRaw(b);
  }

  writeString(s: string | null): void {
    if (s === null) {
      this.writeInt(-1);
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.writeInt(n);
    this.ensure(n);
    this.buf.write(s, this.len, n, 'utf8');
    this.len += n;
  }

  writeVector<T>(items: readonly T[] | null, item: (w: JuteWriter, v: T) => void): void {
    if (items === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(items.length);
    for (const v of items) item(this, v);
  }

  writeRaw(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  /** Reserves the 4-byte length prefix of a frame. Frames do not nest. */
  beginFrame(): void {
    if (this.frameStart !== -1) throw new Error('JuteWriter.beginFrame: a frame is already open');
    this.frameStart = this.len;
    this.ensure(FRAME_PREFIX_BYTES);
    this.len += FRAME_PREFIX_BYTES;
  }

  /** Patches the reserved prefix with the number of bytes written since beginFrame. */
  endFrame(): void {
    if (this.frameStart === -1) throw new Error('JuteWriter.endFrame: no open frame');
    this.buf.writeInt32BE(this.len - this.frameStart - FRAME_PREFIX_BYTES, this.frameStart);
    this.frameStart = -1;
  }

  /** A copy of everything written so far (safe to hand to a socket, then reset()). */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }

  /** Forgets the contents. A buffer grown far past its initial size by one huge reply is released. */
  reset(): void {
    this.len = 0;
    this.frameStart = -1;
    if (this.buf.length > Math.max(this.initialSize * 64, 1 << 20)) {
      this.buf = Buffer.allocUnsafe(this.initialSize);
    }
  }

  private ensure(extra: number): void {
    const needed = this.len + extra;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
}
