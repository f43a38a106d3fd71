/**
 * Splits a TCP byte stream into length-prefixed frames (4-byte big-endian signed length, not counting
 * itself). Incremental and allocation-aware:
 *   - a frame that lies wholly inside one pushed chunk is delivered as a subarray of that chunk;
 *   - a frame split across chunks is kept as a list of pieces and copied once when complete;
 *   - the length is validated as soon as its 4 bytes are known, before any body is buffered.
 */
const PREFIX = 4;

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export interface FrameDecoderOptions {
  /** Largest accepted payload length (jute.maxbuffer). */
  maxFrameBytes: number;
}

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Bytes of a length prefix that arrived split across chunks. */
  private readonly prefix = Buffer.alloc(PREFIX);
  private prefixFill = 0;
  /** Payload length of the frame being assembled, or -1 while its prefix is incomplete. */
  private bodyLength = -1;
  private pieces: Buffer[] = [];
  private piecesBytes = 0;

  constructor(opts: FrameDecoderOptions) {
    this.maxFrameBytes = opts.maxFrameBytes;
  }

  /** Bytes held back waiting for the rest of a frame (prefix bytes included). */
  get buffered(): number {
    return this.prefixFill + this.piecesBytes + (this.bodyLength >= 0 ? PREFIX : 0);
  }

  /**
   * Feeds one chunk; calls onFrame for every completed payload, in order. The decoder's state is
   * settled before each callback, so a callback may throw or stop the connection safely.
   */
  push(chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.bodyLength < 0 && this.prefixFill === 0) {
        pos = this.fastPath(chunk, pos, onFrame);
        if (pos >= chunk.length) return;
      }
      pos = this.slowPath(chunk, pos, onFrame);
    }
  }

  /** Frames that sit wholly in the chunk: subarrays, no copying. Returns where it stopped. */
  private fastPath(chunk: Buffer, pos: number, onFrame: (payload: Buffer) => void): number {
    while (chunk.length - pos >= PREFIX) {
      const len = this.checkLength(chunk.readInt32BE(pos));
      const start = pos + PREFIX;
      if (chunk.length - start < len) break;
      pos = start + len;
      onFrame(chunk.subarray(start, pos));
    }
    return pos;
  }

  /** Continues a frame whose prefix or body spans chunks. Returns the new position in the chunk. */
  private slowPath(chunk: Buffer, pos: number, onFrame: (payload: Buffer) => void): number {
    if (this.bodyLength < 0) {
      const take = Math.min(PREFIX - this.prefixFill, chunk.length - pos);
      chunk.copy(this.prefix, this.prefixFill, pos, pos + take);
      this.prefixFill += take;
      pos += take;
      if (this.prefixFill < PREFIX) return pos;
      this.bodyLength = this.checkLength(this.prefix.readInt32BE(0));
      this.prefixFill = 0;
    }
    const missing = this.bodyLength - this.piecesBytes;
    const take = Math.min(missing, chunk.length - pos);
    if (take < missing) {
      if (take > 0) this.pieces.push(chunk.subarray(pos, pos + take));
      this.piecesBytes += take;
      return pos + take;
    }
    const payload = this.assemble(chunk.subarray(pos, pos + take));
    this.bodyLength = -1;
    onFrame(payload);
    return pos + take;
  }

  /** Joins the held pieces with the final piece; one copy, or none if there is nothing held. */
  private assemble(last: Buffer): Buffer {
    if (this.pieces.length === 0) return last;
    this.pieces.push(last);
    const payload = Buffer.concat(this.pieces, this.piecesBytes + last.length);
    this.pieces = [];
    this.piecesBytes = 0;
    return payload;
  }

  private checkLength(len: number): number {
    if (len < 0) throw new FrameError(`negative frame length ${len}`);
    if (len > this.maxFrameBytes) {
      throw new FrameError(`frame length ${len} exceeds limit ${this.maxFrameBytes}`);
    }
    return len;
  }
}

/** Prefixes a payload with its 4-byte big-endian length. */
export function encodeFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(PREFIX + payload.length);
  out.writeInt32BE(payload.length, 0);
  payload.copy(out, PREFIX);
  return out;
}
