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
import { until } from '../harness/wait';

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

  test('the log tail replayed at start counts toward the next snapshot only once it is all applied', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-test-'));
    const logger = pino({ level: 'silent' });
    // A server whose store records the zxid of every snapshot it names.
    const start = async (snapCount: number) => {
      const named: bigint[] = [];
      const inner = openSqliteStore({ dataDir });
      const store = overriding(inner, { saveSnapshot: (info) => (named.push(info.zxid), inner.saveSnapshot(info)) });
      const server = await ZkServer.start(defaultServerOptions({ port: 0, tickTimeMs: 500, dataDir, snapCount }), logger, { store });
      const c = await WireConnection.connect({ host: '127.0.0.1', port: server.port, sessionTimeoutMs: 10_000 });
      return { server, c, named };
    };
    try {
      const first = await start(1_000_000);
      // Replayed over more than one apply slice (10 ms each): counted as applied, the tail would make a
      // snapshot due at the end of its first slice.
      const created = await Promise.all(Array.from({ length: 700 }, (_, i) => rq.create(first.c, `/tail${i}`, null)));
      expect(created.every((r) => r.err === ErrorCode.ok)).toBe(true);
      const tailEnd = first.server.lastZxid();
      first.c.close();
      await first.server.close();
      // snapCount 200: a threshold of 100-199 txns, far below the ~702 logged txns this start replays.
      const second = await start(200);
      try {
        expect(second.server.db.tree.get('/tail699')).toBeDefined();
        expect((await rq.create(second.c, '/after0', null)).err).toBe(ErrorCode.ok);
        // Not in the middle of the catch-up (counted as applied: after the tail's first slice),
        // and not never (not counted at all: a server restarted often would never snapshot).
        await until(() => second.named.length > 0, 'a snapshot after the replayed tail', 20_000);
        expect(second.named[0]! >= tailEnd).toBe(true);
        // Txns logged by this run count as they are applied.
        const more = await Promise.all(Array.from({ length: 400 }, (_, i) => rq.create(second.c, `/after${i + 1}`, null)));
        expect(more.every((r) => r.err === ErrorCode.ok)).toBe(true);
        await until(() => second.named.length > 1, 'a snapshot of the txns logged after the restart', 20_000);
      } finally {
        second.c.close();
        await second.server.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
