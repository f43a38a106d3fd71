/**
 * A LeaderLatch started while its client is cut off creates exactly one node when the connection
 * comes back, leads when it is alone, and close() leaves nothing behind (found by the nemesis,
 * seed 7 with --tick-time 2000 --session-ms 6000: a reconnect during start() made a second node,
 * the latch waited behind its own orphan, and no participant led for the rest of the run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '../../src/client';
import { startTestServer, type TestServer } from '../../src/testing/server';
import { LeaderLatch } from '../../src/recipes';
import { nextState } from './helpers';

test('start() across a reconnect: one node, leadership, nothing left after close()', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-latch-'));
  let server: TestServer = await startTestServer({ dataDir });
  const port = server.port;
  const zk = await createClient(server.connectString, { sessionTimeoutMs: 20_000 });
  try {
    await zk.create('/latch');
    const suspended = nextState(zk, 'suspended');
    await server.stop();
    await suspended;
    const latch = new LeaderLatch(zk, '/latch', { id: 'alone' });
    const started = latch.start();
    const reconnected = nextState(zk, 'reconnected');
    server = await startTestServer({ dataDir, server: { port } });
    await reconnected;
    await started;
    expect(await latch.await({ timeoutMs: 10_000 })).toBe(true);
    expect((await zk.getChildren('/latch')).children).toHaveLength(1);
    await latch.close();
    expect((await zk.getChildren('/latch')).children).toEqual([]);
  } finally {
    await zk.close();
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
