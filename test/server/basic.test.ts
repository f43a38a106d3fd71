import { ErrorCode, EventType, CreateFlags, OpCode } from '../../protocol/jute/constants';
import { requests as rq } from '../../src/client/requests';
import type { Notification, WireConnection } from '../../src/client/wire';
import { startInProc, type InProcServer } from '../harness/inproc';

/** End-to-end behaviour of one in-process server through the real wire protocol. */
describe('standalone server over the wire', () => {
  let srv: InProcServer;
  let c: WireConnection;

  beforeAll(async () => {
    srv = await startInProc();
    c = await srv.connect();
  });
  afterAll(async () => {
    c.close();
    await srv.stop();
  });

  test('handshake grants a session with a 16-byte password and a clamped timeout', async () => {
    expect(c.session.sessionId).not.toBe(0n);
    expect(c.session.passwd?.length).toBe(16);
    const low = await srv.connect({ sessionTimeoutMs: 1 });
    expect(low.session.timeOut).toBe(srv.options.minSessionTimeoutMs);
    low.close();
  });

  test('create / getData / setData / delete with ZooKeeper stat arithmetic', async () => {
    const created = await rq.create2(c, '/a', Buffer.from('one'));
    expect(created.err).toBe(0);
    const st = created.body!.stat;
    expect(st.czxid).toBe(created.zxid);
    expect(st.mzxid).toBe(created.zxid);
    expect(st.pzxid).toBe(created.zxid);
    expect(st.version).toBe(0);
    expect(st.dataLength).toBe(3);
    const set = await rq.setData(c, '/a', Buffer.from('two!'), 0);
    expect(set.err).toBe(0);
    expect(set.body!.version).toBe(1);
    expect(set.body!.mzxid).toBe(set.zxid);
    expect(set.body!.czxid).toBe(created.zxid);
    const bad = await rq.setData(c, '/a', Buffer.from('x'), 7);
    expect(bad.err).toBe(ErrorCode.badVersion);
    // A failed write still consumes a zxid, as in ZooKeeper.
    expect(bad.zxid).toBe(set.zxid + 1n);
    const got = await rq.getData(c, '/a');
    expect(got.body!.data!.toString()).toBe('two!');
    expect((await rq.delete(c, '/a', 0)).err).toBe(ErrorCode.badVersion);
    expect((await rq.delete(c, '/a', 1)).err).toBe(0);
    expect((await rq.exists(c, '/a')).err).toBe(ErrorCode.noNode);
  });

  test('null and empty data are kept apart', async () => {
    await rq.create(c, '/nulldata', null);
    await rq.create(c, '/emptydata', Buffer.alloc(0));
    expect((await rq.getData(c, '/nulldata')).body!.data).toBeNull();
    expect((await rq.getData(c, '/emptydata')).body!.data).toEqual(Buffer.alloc(0));
  });

  test('sequential names come from the parent cversion, 10 digits', async () => {
    await rq.create(c, '/seq', null);
    const a = await rq.create(c, '/seq/n-', null, CreateFlags.persistentSequential);
    const b = await rq.create(c, '/seq/n-', null, CreateFlags.persistentSequential);
    expect(a.body!.path).toBe('/seq/n-0000000000');
    expect(b.body!.path).toBe('/seq/n-0000000001');
    await rq.delete(c, b.body!.path);
    const d = await rq.create(c, '/seq/n-', null, CreateFlags.persistentSequential);
    expect(d.body!.path).toBe('/seq/n-0000000002');
    const parent = await rq.exists(c, '/seq');
    // cversion counts child creates and deletes: 3 creates + 1 delete.
    expect(parent.body!.cversion).toBe(4);
    expect(parent.body!.numChildren).toBe(2);
  });

  test('error codes for bad paths, missing parents and existing nodes', async () => {
    expect((await rq.create(c, '/no/parent', null)).err).toBe(ErrorCode.noNode);
    expect((await rq.create(c, 'relative', null)).err).toBe(ErrorCode.badArguments);
    await rq.create(c, '/dup', null);
    expect((await rq.create(c, '/dup', null)).err).toBe(ErrorCode.nodeExists);
    await rq.create(c, '/dup/child', null);
    expect((await rq.delete(c, '/dup')).err).toBe(ErrorCode.notEmpty);
  });

  test('watch event arrives before the reply that shows the change', async () => {
    const other = await srv.connect();
    await rq.create(c, '/w', Buffer.from('v0'));
    await rq.getData(c, '/w', true);
    const order: string[] = [];
    const notified = new Promise<Notification>((resolve) => c.once('notification', (n: Notification) => {
      order.push('event');
      resolve(n);
    }));
    const set = await rq.setData(other, '/w', Buffer.from('v1'));
    const n = await notified;
    const read = await rq.getData(c, '/w');
    order.push('read');
    expect(order).toEqual(['event', 'read']);
    expect(n.type).toBe(EventType.nodeDataChanged);
    expect(n.path).toBe('/w');
    expect(n.zxid).toBe(set.zxid);
    expect(read.body!.data!.toString()).toBe('v1');
    other.close();
  });

  test('ephemerals are removed when the session closes', async () => {
    const eph = await srv.connect();
    expect((await rq.create(eph, '/eph', null, CreateFlags.ephemeral)).err).toBe(0);
    const stat = (await rq.exists(c, '/eph')).body!;
    expect(stat.ephemeralOwner).toBe(eph.session.sessionId);
    await eph.request(OpCode.closeSession);
    eph.close();
    expect((await rq.exists(c, '/eph')).err).toBe(ErrorCode.noNode);
  });

  test('a session resumes with its password and is refused with a wrong one', async () => {
    const first = await srv.connect();
    await rq.create(first, '/resume-eph', null, CreateFlags.ephemeral);
    const { sessionId, passwd } = first.session;
    first.close();
    const again = await srv.connect({ sessionId, passwd: passwd! });
    expect(again.session.sessionId).toBe(sessionId);
    expect((await rq.exists(again, '/resume-eph')).err).toBe(0);
    const wrong = Buffer.from(passwd!);
    wrong[0] ^= 0xff;
    const refused = await srv.connect({ sessionId, passwd: wrong });
    expect(refused.session.timeOut).toBe(0);
    expect(refused.session.sessionId).toBe(0n);
    again.close();
  });

  test('multi is atomic and reports per-op results', async () => {
    const ok = await rq.multi(c, [
      { type: OpCode.create, request: { path: '/m1', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 } },
      { type: OpCode.setData, request: { path: '/m1', data: Buffer.from('x'), version: 0 } },
    ] as never);
    expect(ok.err).toBe(0);
    expect(ok.body!.map((r) => r.type)).toEqual([OpCode.create, OpCode.setData]);
    const failed = await rq.multi(c, [
      { type: OpCode.create, request: { path: '/m2', data: null, acl: [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], flags: 0 } },
      { type: OpCode.delete, request: { path: '/does-not-exist', version: -1 } },
    ] as never);
    expect(failed.err).toBe(0);
    const errs = failed.body!.map((r) => (r as { err?: number }).err);
    expect(errs).toEqual([ErrorCode.ok, ErrorCode.noNode]);
    expect((await rq.exists(c, '/m2')).err).toBe(ErrorCode.noNode);
  });

  test('check outside multi and unknown opcodes get Unimplemented, then the connection closes', async () => {
    for (const op of [OpCode.check, 999]) {
      const bad = await srv.connect();
      const closed = new Promise((resolve) => bad.once('close', resolve));
      const reply = await bad.request(op, (w) => {
        w.writeString('/');
        w.writeInt(-1);
      });
      expect(reply.err).toBe(ErrorCode.unimplemented);
      await closed;
    }
    expect((await rq.exists(c, '/')).err).toBe(0);
  });
});
