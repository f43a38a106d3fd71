/**
 * A raw jute socket for wire-level compatibility tests and fixture capture: hand-built frames in, parsed frames out.
 * Deliberately independent of zabkeeper's own codec so the tests can't share its bugs.
 */
import * as net from 'net';

export class Writer {
  private parts: Buffer[] = [];
  int(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  long(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  bool(v: boolean): this {
    this.parts.push(Buffer.from([v ? 1 : 0]));
    return this;
  }
  buffer(v: Buffer | null): this {
    if (v === null) return this.int(-1);
    this.int(v.length);
    this.parts.push(v);
    return this;
  }
  ustring(v: string | null): this {
    return this.buffer(v === null ? null : Buffer.from(v, 'utf8'));
  }
  raw(v: Buffer): this {
    this.parts.push(v);
    return this;
  }
  body(): Buffer {
    return Buffer.concat(this.parts);
  }
  /** The accumulated bytes with a 4-byte length prefix. */
  frame(): Buffer {
    const body = this.body();
    const len = Buffer.alloc(4);
    len.writeInt32BE(body.length);
    return Buffer.concat([len, body]);
  }
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
  body: Buffer;
}

export function parseReply(frame: Buffer): ReplyHeader {
  return { xid: frame.readInt32BE(0), zxid: frame.readBigInt64BE(4), err: frame.readInt32BE(12), body: frame.subarray(16) };
}

export interface ConnectOpts {
  lastZxidSeen?: bigint;
  timeoutMs?: number;
  sessionId?: bigint;
  passwd?: Buffer;
  /** undefined = leave the readOnly byte out (old clients). */
  readOnly?: boolean;
}

export function connectRequest(o: ConnectOpts = {}): Buffer {
  const w = new Writer()
    .int(0)
    .long(o.lastZxidSeen ?? 0n)
    .int(o.timeoutMs ?? 10000)
    .long(o.sessionId ?? 0n)
    .buffer(o.passwd ?? Buffer.alloc(16));
  if (o.readOnly !== undefined) w.bool(o.readOnly);
  return w.frame();
}

export function request(xid: number, op: number, body?: (w: Writer) => void): Buffer {
  const w = new Writer().int(xid).int(op);
  body?.(w);
  return w.frame();
}

const OPEN_ACL = (w: Writer) => w.int(1).int(31).ustring('world').ustring('anyone');

export const ops = {
  create: (xid: number, path: string, data: Buffer, flags = 0) =>
    request(xid, 1, (w) => {
      w.ustring(path).buffer(data);
      OPEN_ACL(w);
      w.int(flags);
    }),
  exists: (xid: number, path: string, watch: boolean) => request(xid, 3, (w) => w.ustring(path).bool(watch)),
  getData: (xid: number, path: string, watch: boolean) => request(xid, 4, (w) => w.ustring(path).bool(watch)),
  setData: (xid: number, path: string, data: Buffer, version: number) =>
    request(xid, 5, (w) => w.ustring(path).buffer(data).int(version)),
  check: (xid: number, path: string, version: number) => request(xid, 13, (w) => w.ustring(path).int(version)),
  ping: () => request(-2, 11),
  closeSession: (xid: number) => request(xid, -11),
};

/** A socket that collects length-prefixed frames and reports close. */
export class RawConn {
  readonly frames: Buffer[] = [];
  closed = false;
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 4) {
        const len = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + len) break;
        this.frames.push(this.buf.subarray(4, 4 + len));
        this.buf = this.buf.subarray(4 + len);
      }
      this.wake();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1', () => resolve(new RawConn(sock)));
      sock.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  send(b: Buffer): void {
    this.sock.write(b);
  }

  /** Resolves with the next unread frame, or null if the connection closes (or timeout) first. */
  async next(timeoutMs = 3000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.frames.shift()!;
  }

  /** True once the peer has closed (within timeoutMs). */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.closed;
  }

  /** Connects a fresh session (readOnly byte sent) and returns the ConnectResponse body. */
  async handshake(o: ConnectOpts = { readOnly: false }): Promise<Buffer> {
    this.send(connectRequest(o));
    const r = await this.next();
    if (!r) throw new Error('handshake: connection closed');
    return r;
  }

  destroy(): void {
    this.sock.destroy();
  }
}
