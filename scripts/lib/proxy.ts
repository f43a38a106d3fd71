/**
 * A recording TCP proxy on 127.0.0.1 in front of a server port. Tests use it to cut connections
 * (forcing client reconnects) or stall traffic; capture-fixtures uses it to record real frames.
 * Node builtins only.
 */
import * as net from 'net';

export type Direction = 'client' | 'server';

export interface RecordedChunk {
  /** Which side sent the bytes: 'client' = client→server. */
  direction: Direction;
  /** Index of the proxied connection (0 = first accepted). */
  conn: number;
  data: Buffer;
}

export interface Proxy {
  port: number;
  /** Every chunk seen so far, in arrival order. */
  frames: RecordedChunk[];
  /** Destroys every open connection (both sides); new connections are still accepted. */
  cutAll(): void;
  /**
   * Stops forwarding (bytes are buffered by TCP/socket pause) until resume(). With a direction,
   * only bytes sent by that side stall: pause('server') lets requests reach the server while its
   * replies wait, so a cut then loses replies to requests the server did execute.
   */
  pause(direction?: Direction): void;
  resume(): void;
  close(): Promise<void>;
}

export function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  const frames: RecordedChunk[] = [];
  const pairs = new Set<[net.Socket, net.Socket]>();
  const paused = { client: false, server: false };
  let nextConn = 0;

  const server = net.createServer((client) => {
    const conn = nextConn++;
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    if (paused.client) client.pause();
    if (paused.server) upstream.pause();
    const pipe = (from: net.Socket, to: net.Socket, direction: Direction) => {
      from.on('data', (data) => {
        frames.push({ direction, conn, data: Buffer.from(data) });
        to.write(data);
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        to.destroy();
        pairs.delete(pair);
      });
    };
    pipe(client, upstream, 'client');
    pipe(upstream, client, 'server');
  });

  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        frames,
        cutAll: () => {
          for (const [a, b] of pairs) {
            a.destroy();
            b.destroy();
          }
          pairs.clear();
        },
        pause: (direction?: Direction) => {
          paused.client ||= direction !== 'server';
          paused.server ||= direction !== 'client';
          for (const [a, b] of pairs) {
            if (paused.client) a.pause();
            if (paused.server) b.pause();
          }
        },
        resume: () => {
          paused.client = paused.server = false;
          for (const [a, b] of pairs) {
            a.resume();
            b.resume();
          }
        },
        close: () =>
          new Promise<void>((res) => {
            for (const [a, b] of pairs) {
              a.destroy();
              b.destroy();
            }
            pairs.clear();
            server.close(() => res());
          }),
      });
    });
  });
}

/** Splits one direction's byte stream into length-prefixed frames (4lw traffic is not framed). */
export function splitFrames(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o + 4 <= stream.length) {
    const len = stream.readInt32BE(o);
    if (len < 0 || o + 4 + len > stream.length) break;
    out.push(stream.subarray(o, o + 4 + len));
    o += 4 + len;
  }
  return out;
}
