/**
 * Durability seen by a client: acknowledged writes survive a graceful restart and a SIGKILL, on the
 * same port and data directory, with the same zoo.cfg.
 */
import { compatTargets, startServer, TestServer } from '../harness/servers';
import { ops, parseReply, RawConn } from '../harness/rawclient';

async function call(server: TestServer, frame: (xid: number) => Buffer): Promise<ReturnType<typeof parseReply>> {
  const c = await RawConn.open(server.port);
  try {
    await c.handshake({ readOnly: false });
    c.send(frame(1));
    const f = await c.next();
    if (!f) throw new Error('no reply');
    return parseReply(f);
  } finally {
    c.destroy();
  }
}

describe.each(compatTargets())('restart against %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(kind);
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('graceful restart keeps data and zxids move forward', async () => {
    const created = await call(server, (x) => ops.create(x, '/durable', Buffer.from('v1')));
    expect(created.err).toBe(0);
    await server.restart();
    const r = await call(server, (x) => ops.getData(x, '/durable', false));
    expect(r.err).toBe(0);
    expect(r.body.subarray(4, 4 + r.body.readInt32BE(0)).toString()).toBe('v1');
    expect(r.zxid).toBeGreaterThan(created.zxid);
  });

  test('kill -9 then restart keeps acknowledged writes', async () => {
    for (let i = 0; i < 5; i++) expect((await call(server, (x) => ops.create(x, `/k9-${i}`, Buffer.from(String(i))))).err).toBe(0);
    await server.kill9();
    await server.restart();
    for (let i = 0; i < 5; i++) {
      const r = await call(server, (x) => ops.exists(x, `/k9-${i}`, false));
      expect(r.err).toBe(0);
    }
    expect((await server.fourLetter('ruok'))).toBe('imok');
  });
});
