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
  /** Stops forwarding: bytes, ends and resets are held (nobody is told) until resume() replays them. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<Proxy> {
  const frames: RecordedChunk[] = [];
  const pairs = new Set<[net.Socket, net.Socket]>();
  let paused = false;
  let nextConn = 0;

  // While paused, everything a socket reports — bytes, its end, a reset, its close — is held and
  // replayed in order on resume: the other side is told nothing, as with iptables DROP.
  const held: Array<() => void> = [];
  const relay = (fn: () => void) => (paused ? held.push(fn) : fn());

  const server = net.createServer((client) => {
    const conn = nextConn++;
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const pipe = (from: net.Socket, to: net.Socket, direction: Direction) => {
      from.on('data', (data) =>
        relay(() => {
          frames.push({ direction, conn, data: Buffer.from(data) });
          to.write(data);
        }),
      );
      from.on('end', () => relay(() => to.end()));
      from.on('error', () => relay(() => to.destroy()));
      from.on('close', () =>
        relay(() => {
          to.destroy();
          pairs.delete(pair);
        }),
      );
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
        pause: () => {
          paused = true;
        },
        resume: () => {
          paused = false;
          for (const fn of held.splice(0)) fn();
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
