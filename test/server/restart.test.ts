import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { CreateFlags, ErrorCode } from '../../protocol/jute/constants';
import { requests as rq } from '../../src/client/requests';
import { WireConnection } from '../../src/client/wire';
import { treeDigest } from '../../src/tree';
import { openSqliteStore } from '../../src/storage/sqlite';
import { ZkServer } from '../../src/server/zkserver';
import { defaultServerOptions } from '../../src/server/options';
import { overriding } from '../sim/lib/checks';
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

  test('the log tail replayed at start does not count toward the next snapshot; txns logged after it do', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-test-'));
    const logger = pino({ level: 'silent' });
    // A server whose store counts the snapshots it begins (a snapshot begins in the turn that decides it).
    const start = async (snapCount: number) => {
      const begun = { n: 0 };
      const inner = openSqliteStore({ dataDir });
      const store = overriding(inner, { beginSnapshot: () => (begun.n++, inner.beginSnapshot()) });
      const server = await ZkServer.start(defaultServerOptions({ port: 0, tickTimeMs: 500, dataDir, snapCount }), logger, { store });
      const c = await WireConnection.connect({ host: '127.0.0.1', port: server.port, sessionTimeoutMs: 10_000 });
      return { server, c, begun };
    };
    try {
      const first = await start(1_000_000);
      for (let i = 0; i < 60; i++) expect((await rq.create(first.c, `/tail${i}`, null)).err).toBe(ErrorCode.ok);
      first.c.close();
      await first.server.close();
      // snapCount 20: a threshold of 10-19 txns, far below the ~62 logged txns this start replays.
      const second = await start(20);
      try {
        expect(second.server.db.tree.get('/tail59')).toBeDefined();
        // This reply comes after the replayed tail was applied and a flush decided on snapshots.
        expect((await rq.create(second.c, '/after0', null)).err).toBe(ErrorCode.ok);
        expect(second.begun.n).toBe(0);
        // Txns this run logs do count: 20 of them pass any threshold snapCount 20 can draw.
        for (let i = 1; i <= 20; i++) expect((await rq.create(second.c, `/after${i}`, null)).err).toBe(ErrorCode.ok);
        expect(second.begun.n).toBeGreaterThanOrEqual(1);
      } finally {
        second.c.close();
        await second.server.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
