import { CreateFlags, ErrorCode } from '../../protocol/jute/constants';
import { requests as rq } from '../../src/client/requests';
import { treeDigest } from '../../src/tree';
import { startInProc } from '../harness/inproc';

/** Restart rebuilds exactly the same tree, sessions and sequence counters from durable state. */
describe('restart from durable state', () => {
  test('tree digest, sessions and sequence counters survive a restart', async () => {
    const srv = await startInProc();
    try {
      const c = await srv.connect({ sessionTimeoutMs: 20_000 });
      await rq.create(c, '/r', Buffer.from('root'));
      for (let i = 0; i < 5; i++) await rq.create(c, '/r/s-', Buffer.from(String(i)), CreateFlags.persistentSequential);
      await rq.create(c, '/r/eph', null, CreateFlags.ephemeral);
      await rq.setData(c, '/r', Buffer.from('changed'));
      const { sessionId, passwd } = c.session;
      const before = treeDigest(srv.server.db);
      const zxidBefore = srv.server.lastZxid();
      c.close();
      await srv.restart();
      expect(treeDigest(srv.server.db)).toBe(before);
      expect(srv.server.lastZxid()).toBe(zxidBefore);
      // The session (and so its ephemeral) is still alive and resumable.
      const again = await srv.connect({ sessionId, passwd: passwd! });
      expect(again.session.sessionId).toBe(sessionId);
      expect((await rq.exists(again, '/r/eph')).err).toBe(ErrorCode.ok);
      // Sequence numbers continue, never repeat.
      const next = await rq.create(again, '/r/s-', null, CreateFlags.persistentSequential);
      expect(next.body!.path).toBe('/r/s-0000000006');
      // A new epoch started: the next zxid is above everything before the restart.
      expect(next.zxid > zxidBefore).toBe(true);
      again.close();
    } finally {
      await srv.stop();
    }
  });

  test('snapshots plus log replay give the same tree', async () => {
    const srv = await startInProc({ snapCount: 20 });
    try {
      const c = await srv.connect();
      for (let i = 0; i < 60; i++) await rq.create(c, `/snap${i}`, Buffer.from(String(i)));
      const before = treeDigest(srv.server.db);
      c.close();
      await srv.restart();
      expect(srv.server.store.listSnapshots().length).toBeGreaterThan(0);
      expect(treeDigest(srv.server.db)).toBe(before);
    } finally {
      await srv.stop();
    }
  });
});
