/**
 * Proves that a connection broken by a socket error (a TCP reset, a garbage or out-of-order reply)
 * fails every in-flight call with ConnectionLossError, carrying the socket error as its cause, and
 * that the client then reconnects and keeps its session, so recipes' connection-loss handling runs.
 */
import net from 'node:net';
import { JuteWriter } from '../../protocol/jute/writer';
import { JuteReader } from '../../protocol/jute/reader';
import { FrameDecoder } from '../../protocol/jute/framer';
import { readRequestHeader, writeConnectResponse, writeReplyHeader, writeStat } from '../../protocol/jute/records';
import { OpCode } from '../../protocol/jute/constants';
import { ConnectionLossError, ZkClient } from '../../src/client';
import { WireClosedError, WireConnection } from '../../src/client/wire';

type Misbehaviour = 'reset' | 'outOfOrder' | 'garbage';

const STAT = { czxid: 1n, mzxid: 1n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 1n };

/**
 * A scripted ZooKeeper server: answers the handshake and pings, misbehaves on the first
 * getData of each connection, and answers every later getData normally. `connections` counts
 * handshakes (a reconnect with the same session id is the second).
 */
async function scriptedServer(how: Misbehaviour) {
  const sessions: bigint[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder({ maxFrameBytes: 1 << 20 });
    let handshake = true;
    let misbehaved = false;
    socket.on('data', (chunk) =>
      decoder.push(chunk, (frame) => {
        const w = new JuteWriter(128);
        w.beginFrame();
        if (handshake) {
          handshake = false;
          const r = new JuteReader(frame);
          r.readInt(); // protocolVersion
          r.readLong(); // lastZxidSeen
          r.readInt(); // timeOut
          const sid = r.readLong();
          sessions.push(sid);
          writeConnectResponse(w, { protocolVersion: 0, timeOut: 4000, sessionId: sid === 0n ? 0x1234n : sid, passwd: Buffer.alloc(16, 7), readOnly: false });
          w.endFrame();
          socket.write(w.toBuffer());
          return;
        }
        const header = readRequestHeader(new JuteReader(frame));
        if (header.type === OpCode.getData && !misbehaved && sessions.length === 1) {
          misbehaved = true;
          if (how === 'reset') return void socket.resetAndDestroy();
          if (how === 'garbage') return void socket.write(Buffer.from([0, 0, 0, 3, 1, 2, 3]));
          writeReplyHeader(w, { xid: header.xid + 1000, zxid: 5n, err: 0 });
        } else {
          writeReplyHeader(w, { xid: header.xid, zxid: 5n, err: 0 });
          if (header.type === OpCode.getData) {
            w.writeBuffer(Buffer.from('ok'));
            writeStat(w, STAT);
          }
        }
        w.endFrame();
        socket.write(w.toBuffer());
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.each<Misbehaviour>(['reset', 'outOfOrder', 'garbage'])('a connection broken by %s', (how) => {
  test('in-flight calls reject with ConnectionLossError; the client reconnects with the same session', async () => {
    const srv = await scriptedServer(how);
    const zk = new ZkClient(`127.0.0.1:${srv.port}`, { sessionTimeoutMs: 4000, reconnectDelayMs: 10 });
    try {
      await zk.connect();
      const states: string[] = [];
      zk.on('state', (s) => states.push(s));
      const err = await zk.getData('/a').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectionLossError);
      expect((err as Error).message).not.toMatch(/^read ECONNRESET/);
      expect((err as InstanceType<typeof ConnectionLossError>).path).toBe('/a');
      // The socket-level reason stays visible for logs.
      expect((err as Error).cause).toBeInstanceOf(WireClosedError);
      // The session survives the broken connection: the retry works on the same session.
      const { data } = await zk.getData('/a');
      expect(data?.toString()).toBe('ok');
      expect(srv.sessions).toEqual([0n, 0x1234n]);
      expect(states).toEqual(['suspended', 'reconnected']);
    } finally {
      await zk.close();
      await srv.close();
    }
  });
});

test('WireConnection rejects in-flight requests with WireClosedError whose cause is the socket error', async () => {
  const srv = await scriptedServer('reset');
  const conn = await WireConnection.connect({ host: '127.0.0.1', port: srv.port });
  const closed = new Promise<Error>((resolve) => conn.once('close', resolve));
  try {
    const err = await conn.request(OpCode.getData, (w) => {
      w.writeString('/a');
      w.writeBool(false);
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WireClosedError);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(await closed).toBe(err);
    // A request after the failure is refused the same way.
    await expect(conn.ping()).rejects.toBeInstanceOf(WireClosedError);
  } finally {
    conn.close();
    await srv.close();
  }
});
