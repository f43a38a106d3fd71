import net from 'node:net';
import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { JuteWriter } from '../../protocol/jute/writer';
import { writeConnectRequest } from '../../protocol/jute/records';
import { requests as rq } from '../../src/client/requests';
import type { WireConnection } from '../../src/client/wire';
import { startInProc, type InProcServer } from '../harness/inproc';
import { until } from '../harness/wait';

/**
 * RELIABILITY.md §4: bad input gets a clear error or a closed connection, never a crash, never a
 * partial txn, and a well-behaved client keeps working throughout.
 */
describe('hostile input', () => {
  let srv: InProcServer;
  let good: WireConnection;

  beforeAll(async () => {
    srv = await startInProc({ handshakeTimeoutMs: 300, maxClientCnxns: 20, maxFrameBytes: 64 * 1024 });
    good = await srv.connect();
    await rq.create(good, '/alive', Buffer.from('0'));
  });
  afterAll(async () => {
    good.close();
    await srv.stop();
  });

  async function stillServing(): Promise<void> {
    const before = await rq.getData(good, '/alive');
    const next = String(Number(before.body!.data!.toString()) + 1);
    expect((await rq.setData(good, '/alive', Buffer.from(next))).err).toBe(0);
    expect((await rq.getData(good, '/alive')).body!.data!.toString()).toBe(next);
  }

  /** Opens a raw socket, writes bytes, resolves when the server closes it. */
  function rawExchange(bytes: Buffer[], waitMs = 2000): Promise<{ closed: boolean; received: Buffer }> {
    return new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: srv.port });
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        s.destroy();
        resolve({ closed: false, received: Buffer.concat(chunks) });
      }, waitMs);
      s.on('connect', () => {
        for (const b of bytes) s.write(b);
      });
      s.on('data', (d) => chunks.push(d));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ closed: true, received: Buffer.concat(chunks) });
      });
    });
  }

  function connectFrame(): Buffer {
    const w = new JuteWriter(64);
    w.beginFrame();
    writeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false });
    w.endFrame();
    return w.toBuffer();
  }

  function lengthPrefix(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  }

  test.each([
    ['negative length', lengthPrefix(-5)],
    ['huge length', lengthPrefix(0x7fffffff)],
    ['length above jute.maxbuffer', lengthPrefix(64 * 1024 + 1)],
  ])('%s closes the connection before the handshake', async (_name, bytes) => {
    const r = await rawExchange([bytes]);
    expect(r.closed).toBe(true);
    await stillServing();
  });

  test('oversize frame after the handshake closes only that connection', async () => {
    const r = await rawExchange([connectFrame(), lengthPrefix(10 * 1024 * 1024)]);
    expect(r.closed).toBe(true);
    await stillServing();
  });

  test('garbage and truncated bodies inside a valid frame', async () => {
    const bad = await srv.connect();
    // A create whose path length field overruns the frame: MarshallingError or a closed connection,
    // never a txn.
    const before = srv.server.lastZxid();
    const reply = await bad
      .request(OpCode.create, (w) => {
        w.writeInt(1000);
        w.writeRaw(Buffer.from('/short'));
      })
      .catch(() => undefined);
    if (reply) expect(reply.err).not.toBe(0);
    const after = srv.server.lastZxid();
    expect((await rq.exists(good, '/short')).err).toBe(ErrorCode.noNode);
    expect(after - before <= 1n).toBe(true);
    bad.close();
    await stillServing();
  });

  test('invalid paths and oversize data get clear errors', async () => {
    // ZooKeeper checks the shape (a slash, no NUL) first, then looks up the parent (NoNode when the
    // "parent" of a malformed path is missing), and only then validates the full path.
    for (const p of ['', 'noslash', '/nul\u0000', '/alive/', '/alive/.', '/alive/..']) {
      expect([p, (await rq.create(good, p, null)).err]).toEqual([p, ErrorCode.badArguments]);
    }
    for (const p of ['/missing/', '/a//b', '/alive//b', '/alive/./b']) {
      expect([p, (await rq.create(good, p, null)).err]).toEqual([p, ErrorCode.noNode]);
    }
    const big = Buffer.alloc(srv.options.maxFrameBytes + 1);
    const victim = await srv.connect();
    const oversize = await rq.create(victim, '/big', big).then(
      () => 'replied',
      () => 'closed',
    );
    // Past jute.maxbuffer the frame itself is refused: that connection is closed, nothing created.
    expect(oversize).toBe('closed');
    expect((await rq.exists(good, '/big')).err).toBe(ErrorCode.noNode);
    await stillServing();
  });

  test('slowloris: a handshake that never completes is dropped at the deadline', async () => {
    const half = connectFrame().subarray(0, 10);
    const r = await rawExchange([half], 3000);
    expect(r.closed).toBe(true);
    await stillServing();
  });

  test('per-IP connection limit refuses the excess and keeps serving', async () => {
    const conns: WireConnection[] = [];
    let refused = 0;
    const baseline = srv.server.connectionCount;
    for (let i = 0; i < 30; i++) {
      try {
        conns.push(await srv.connect({ connectTimeoutMs: 2000 }));
      } catch {
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(0);
    expect(conns.length).toBeLessThan(20);
    for (const c of conns) c.close();
    // The slots are free again once the server has seen every close (later tests connect afresh).
    await until(() => srv.server.connectionCount <= baseline, () => `the server to see the closes (${srv.server.connectionCount} connections, ${baseline} before)`, 10_000);
    await stillServing();
  });

  test('a flood of pipelined requests past the outstanding limit is throttled, not dropped', async () => {
    const flood = await srv.connect();
    const replies = await Promise.all(Array.from({ length: 3000 }, (_, i) => rq.exists(flood, i % 2 ? '/alive' : '/nope')));
    expect(replies.filter((r) => r.err === 0).length).toBe(1500);
    flood.close();
    await stillServing();
  });
});
