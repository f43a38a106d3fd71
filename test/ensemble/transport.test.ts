/**
 * Proves the peer transport reports a replaced connection: when a peer connects again while its old
 * connection is still open here (it restarted and its FIN was lost), `down` comes before the new
 * `up`, so the core never keeps counting what the old connection said (issue 9 item 7), and it
 * reports a peer it cannot reach at WARN without repeating that on every retry.
 */
import net from 'node:net';
import pino from 'pino';
import { PeerTransport, warnDialFailure } from '../../src/quorum/transport';
import { peerBodyCodec } from '../../src/server/ensemble';
import { freePort } from '../harness/ports';

function hello(id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(0x5a424b50, 0);
  b.writeInt32BE(id, 4);
  return b;
}

test('a second connection from the same peer emits down, then up', async () => {
  const port = await freePort();
  const t = new PeerTransport({
    self: 1,
    listen: { host: '127.0.0.1', port },
    peers: [
      { id: 1, host: '127.0.0.1', port },
      { id: 2, host: '127.0.0.1', port: 1 },
    ],
    codec: peerBodyCodec,
    logger: pino({ level: 'silent' }),
    maxFrameBytes: 1 << 20,
  });
  const events: string[] = [];
  const seen = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5000;
      const check = () => {
        if (events.length >= n) resolve();
        else if (Date.now() > deadline) reject(new Error(`waited 5 s for ${n} transport events, got ${JSON.stringify(events)}`));
        else setTimeout(check, 10);
      };
      check();
    });
  t.on('up', (id: number) => events.push(`up ${id}`));
  t.on('down', (id: number) => events.push(`down ${id}`));
  await t.start();
  const dial = () =>
    new Promise<net.Socket>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.write(hello(2));
        resolve(s);
      });
      s.on('error', () => undefined);
    });
  const first = await dial();
  await seen(1);
  // The "restarted" peer dials again; the first socket stays open on its side (no FIN was seen).
  const second = await dial();
  await seen(3);
  expect(events).toEqual(['up 2', 'down 2', 'up 2']);
  first.destroy();
  second.destroy();
  await t.close();
});

test('a peer that cannot be reached is reported at WARN the first time, when the reason changes and once a minute, not on every retry', () => {
  const at = (err: string, ms: number) => ({ err, at: ms });
  expect(warnDialFailure(undefined, 'getaddrinfo ENOTFOUND zk-0', 0)).toBe(true);
  expect(warnDialFailure(at('getaddrinfo ENOTFOUND zk-0', 0), 'getaddrinfo ENOTFOUND zk-0', 59_999)).toBe(false);
  expect(warnDialFailure(at('getaddrinfo ENOTFOUND zk-0', 0), 'connect ECONNREFUSED 10.0.0.1:2888', 100)).toBe(true);
  expect(warnDialFailure(at('getaddrinfo ENOTFOUND zk-0', 0), 'getaddrinfo ENOTFOUND zk-0', 60_000)).toBe(true);
});

test('a peer that closes the link before sending anything (an Apache ZooKeeper member, a different server list) is reported, not counted as connected', async () => {
  // What ZooKeeper 3.8's leader does with our hello on its quorum port: "Unreasonable length", close.
  const accepted: net.Socket[] = [];
  const zk = net.createServer((s) => {
    accepted.push(s);
    s.once('data', () => s.destroy());
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => zk.listen(0, '127.0.0.1', r));
  const zkPort = (zk.address() as net.AddressInfo).port;
  const logs: { level: number; msg: string; peer?: number; err?: string }[] = [];
  const port = await freePort();
  const t = new PeerTransport({
    self: 2,
    listen: { host: '127.0.0.1', port },
    peers: [
      { id: 1, host: '127.0.0.1', port: zkPort },
      { id: 2, host: '127.0.0.1', port },
    ],
    codec: peerBodyCodec,
    logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
    maxFrameBytes: 1 << 20,
  });
  try {
    await t.start();
    const deadline = Date.now() + 10_000;
    while (!logs.some((l) => l.level === 40 && l.peer === 1 && /closed by the peer before it sent anything/.test(l.err ?? ''))) {
      if (Date.now() > deadline) throw new Error(`no WARN about peer 1 closing within 10 s; ${accepted.length} connections; logs: ${JSON.stringify(logs)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(logs.filter((l) => l.msg === 'connected to peer')).toEqual([]);
  } finally {
    await t.close();
    for (const s of accepted) s.destroy();
    await new Promise((r) => zk.close(r));
  }
});
