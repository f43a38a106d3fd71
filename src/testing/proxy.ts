/**
 * A recording TCP proxy on 127.0.0.1 in front of a server port. Tests use it to cut connections
 * (forcing client reconnects) or stall traffic; capture-fixtures uses it to record real frames;
 * startTestCluster puts one on each peer link to partition members without root. Node builtins
 * only.
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
   * Stops forwarding until resume(): bytes, ends, resets and closes are held and replayed in order
   * on resume, so the other side is told nothing (as with iptables DROP). With a direction, only
   * what that side sends stalls: pause('server') lets requests reach the server while its replies
   * wait, so a cut then loses replies to requests the server did execute.
   */
  pause(direction?: Direction): void;
  resume(): void;
  /**
   * A partition: open connections go silent (nothing forwarded, nobody told, as when packets are
   * dropped) and new ones are refused, until unblock() lets the stalled bytes flow again (as TCP
   * retransmits after a partition heals) and accepts again.
   */
  block(): void;
  unblock(): void;
  readonly blocked: boolean;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Keep every chunk in `frames` (default true; long-lived proxies turn it off). */
  record?: boolean;
}

export function startProxy(targetPort: number, targetHost = '127.0.0.1', opts: ProxyOptions = {}): Promise<Proxy> {
  const record = opts.record ?? true;
  let blocked = false;
  const frames: RecordedChunk[] = [];
  const pairs = new Set<[net.Socket, net.Socket]>();
  const paused = { client: false, server: false };
  // What each side reported while its direction was paused, replayed in order on resume.
  const held: Record<Direction, Array<() => void>> = { client: [], server: [] };
  const relay = (d: Direction, fn: () => void) => (paused[d] ? held[d].push(fn) : fn());
  let nextConn = 0;

  const server = net.createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const conn = nextConn++;
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const pipe = (from: net.Socket, to: net.Socket, direction: Direction) => {
      from.on('data', (data) =>
        relay(direction, () => {
          if (record) frames.push({ direction, conn, data: Buffer.from(data) });
          to.write(data);
        }),
      );
      from.on('end', () => relay(direction, () => to.end()));
      from.on('error', () => relay(direction, () => to.destroy()));
      from.on('close', () =>
        relay(direction, () => {
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
      const proxy: Proxy = {
        port,
        frames,
        get blocked() {
          return blocked;
        },
        block: () => {
          blocked = true;
          proxy.pause();
        },
        unblock: () => {
          blocked = false;
          proxy.resume();
        },
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
        },
        resume: () => {
          paused.client = paused.server = false;
          for (const d of ['client', 'server'] as const) for (const fn of held[d].splice(0)) fn();
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
      };
      resolve(proxy);
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
