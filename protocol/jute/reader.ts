import { JUTE_MAX_BUFFER_DEFAULT } from './constants';
import { JuteDecodeError } from './errors';

export interface JuteReaderOptions {
  /** Largest buffer/string length or vector count accepted (jute.maxbuffer). */
  maxBufferBytes?: number;
}

/**
 * Bounds-checked cursor over one jute record (binary archive encoding). It never reads past `end`,
 * and it validates every length or count before allocating anything, so a hostile frame costs at most
 * its own size. All failures throw JuteDecodeError.
 */
export class JuteReader {
  offset: number;
  private readonly end: number;
  private readonly maxBufferBytes: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
    end = buf.length,
    opts: JuteReaderOptions = {},
  ) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new RangeError(`bad JuteReader window [${offset}, ${end}) over ${buf.length} bytes`);
    }
    this.offset = offset;
    this.end = end;
    this.maxBufferBytes = opts.maxBufferBytes ?? JUTE_MAX_BUFFER_DEFAULT;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  atEnd(): boolean {
    return this.offset >= this.end;
  }

  readInt(): number {
    this.need(4, 'int');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  readLong(): bigint {
    this.need(8, 'long');
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Java's reader treats any non-zero byte as true; so do we. */
  readBool(): boolean {
    this.need(1, 'boolean');
    return this.buf[this.offset++] !== 0;
  }

  /** For trailing optional fields (ConnectRequest/Response readOnly): undefined when the record ended. */
  tryReadBool(): boolean | undefined {
    return this.atEnd() ? undefined : this.readBool();
  }

  /** A copy, so the caller may keep it after the frame's memory is reused. -1 length => null. */
  readBuffer(): Buffer | null {
    const at = this.offset;
    const len = this.readLength('buffer', at);
    if (len === null) return null;
    const out = Buffer.from(this.buf.subarray(this.offset, this.offset + len));
    this.offset += len;
    return out;
  }

  /** UTF-8 string; -1 length => null. */
  readString(): string | null {
    const at = this.offset;
    const len = this.readLength('string', at);
    if (len === null) return null;
    const s = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return s;
  }

  /** A string where null means empty: some clients (kazoo) send "" as -1. */
  readUstring(): string {
    return this.readString() ?? '';
  }

  /** count -1 => null. The count is checked against the remaining bytes before any allocation. */
  readVector<T>(item: (r: JuteReader) => T): T[] | null {
    const at = this.offset;
    const count = this.readInt();
    if (count === -1) return null;
    // Every jute element takes at least one byte, so a count above the remaining bytes is a lie.
    this.checkLength('vector count', count, at);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item(this));
    return out;
  }

  private need(n: number, what: string): void {
    if (this.end - this.offset < n) {
      throw new JuteDecodeError(
        `${what} needs ${n} bytes but only ${this.end - this.offset} remain at offset ${this.offset}`,
      );
    }
  }

  /** Reads a buffer/string length prefix; null for -1, otherwise a length that fits in the record. */
  private readLength(what: string, at: number): number | null {
    const len = this.readInt();
    if (len === -1) return null;
    this.checkLength(`${what} length`, len, at);
    return len;
  }

  private checkLength(what: string, len: number, at: number): void {
    if (len < 0) throw new JuteDecodeError(`negative ${what} ${len} at offset ${at}`);
    if (len > this.maxBufferBytes) {
      throw new JuteDecodeError(`${what} ${len} exceeds maxbuffer ${this.maxBufferBytes} at offset ${at}`);
    }
    if (len > this.remaining) {
      throw new JuteDecodeError(`${what} ${len} overruns record at offset ${at} (${this.remaining} bytes left)`);
    }
  }
}
