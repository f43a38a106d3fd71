/**
 * Proves startTestServer embeds a real zabkeeper that the client can use, survives a restart with
 * the session intact, and cleans up after itself.
 */
import fs from 'node:fs';
import { startTestServer } from '../../src/testing/server';
import { ZkClient, createClient } from '../../src/client';
import { nextState } from './helpers';

test('startTestServer: connect, restart keeps the session, stop removes the data dir', async () => {
  const zk = await startTestServer();
  expect(zk.connectString).toMatch(/^127\.0\.0\.1:\d+$/);
  const c = await createClient(zk.connectString, { sessionTimeoutMs: 4000 });
  try {
    await c.create('/hello', 'world', { mode: 'ephemeral' });
    const sid = c.sessionId;
    const reconnected = nextState(c, 'reconnected');
    await zk.restart();
    await reconnected;
    expect(c.sessionId).toBe(sid);
    expect((await c.getData('/hello')).data?.toString()).toBe('world');
  } finally {
    await c.close();
    await zk.stop();
  }
  expect(fs.existsSync(zk.dataDir)).toBe(false);
});

test('host list: a dead host first does not prevent connecting, chroot applies', async () => {
  const zk = await startTestServer();
  const setup = await createClient(zk.connectString);
  await setup.create('/app');
  const c = new ZkClient(`127.0.0.1:1,${zk.connectString}/app`, { shuffleHosts: false, reconnectDelayMs: 20 });
  try {
    await c.connect();
    await c.create('/x');
    expect((await setup.getChildren('/app')).children).toEqual(['x']);
  } finally {
    await c.close();
    await setup.close();
    await zk.stop();
  }
});
