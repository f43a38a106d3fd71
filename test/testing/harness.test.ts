/**
 * Proves the testing harness users get from `zabkeeper/testing`: startTestServer({ storage:
 * 'memory' }) runs with better-sqlite3 unloadable and keeps data across restart(); expireSession()
 * makes a client see `lost` and its ephemerals vanish; startTestCluster() members really die,
 * freeze, restart from disk and get partitioned (a cut-off leader is replaced, writes go on, healed
 * members catch up), and stop() leaves no process or directory behind.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient, type ZkClient } from '../../src/client';
import { LeaderLatch } from '../../src/recipes';
import { startTestServer } from '../../src/testing/server';
import { startTestCluster, type TestCluster } from '../../src/testing/cluster';
import { until } from '../harness/wait';
import { nextState as next } from '../client/helpers';

const DIST = path.resolve(__dirname, '../../dist/src');

describe('startTestServer', () => {
  test("storage 'memory' needs no better-sqlite3 and keeps data and sessions across restart()", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-nosqlite-'));
    try {
      // The child cannot load better-sqlite3 at all, as on a machine where its build failed.
      const block = path.join(tmp, 'block.js');
      fs.writeFileSync(block, `const M = require('module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...rest) { if (req === 'better-sqlite3') { const e = new Error("Cannot find module 'better-sqlite3'"); e.code = 'MODULE_NOT_FOUND'; throw e; } return r.call(this, req, ...rest); };`);
      const script = path.join(tmp, 'run.js');
      fs.writeFileSync(script, `const { startTestServer } = require(${JSON.stringify(path.join(DIST, 'entries/testing.js'))});
const { createClient } = require(${JSON.stringify(path.join(DIST, 'entries/client.js'))});
(async () => {
  const refused = await startTestServer().then(() => 'started', (e) => e.message);
  const server = await startTestServer({ storage: 'memory' });
  const zk = await createClient(server.connectString, { sessionTimeoutMs: 4000 });
  await zk.create('/kept', 'yes');
  await zk.create('/mine', null, { mode: 'ephemeral' });
  const sid = zk.sessionId;
  const back = new Promise((r) => zk.on('state', (s) => s === 'reconnected' && r()));
  await server.restart();
  await back; // a read sent before the client noticed the restart would fail with ConnectionLoss
  const data = (await zk.getData('/kept')).data.toString();
  const sameSession = zk.sessionId === sid && (await zk.exists('/mine')).stat !== null;
  await zk.close();
  await server.stop();
  const loaded = Object.keys(require.cache).some((f) => f.includes('better-sqlite3'));
  process.stdout.write(JSON.stringify({ refused, data, sameSession, dataDir: server.dataDir, loaded }));
})().catch((e) => { console.error(e); process.exit(1); });`);
      const { stdout } = await promisify(execFile)(process.execPath, ['-r', block, script], { timeout: 30_000 });
      expect(JSON.parse(stdout)).toEqual({
        refused: "startTestServer: storage 'sqlite' needs better-sqlite3, which is not installed; use startTestServer({ storage: 'memory' })",
        data: 'yes',
        sameSession: true,
        dataDir: '',
        loaded: false,
      });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test.each(['sqlite', 'memory'] as const)('expireSession (%s): the client sees lost, its ephemerals are gone, it gets a new session', async (storage) => {
    const server = await startTestServer({ storage });
    const zk = await createClient(server.connectString, { sessionTimeoutMs: 10_000 });
    const watcher = await createClient(server.connectString);
    try {
      await zk.create('/eph', null, { mode: 'ephemeral' });
      const { watch } = await watcher.exists('/eph', { watch: true });
      const old = zk.sessionId;
      const lost = next(zk, 'lost');
      const back = next(zk, 'reconnected');
      await server.expireSession(old);
      expect(await watch).toMatchObject({ type: 'nodeDeleted', path: '/eph' });
      await lost;
      await back;
      expect(zk.sessionId).not.toBe(old);
      await expect(server.expireSession(old)).rejects.toThrow(/no session/);
    } finally {
      await Promise.all([zk.close(), watcher.close()]);
      await server.stop();
    }
  });
});

test('stop() completes right after an expired session\'s latch and clients close (regression: a half-closed socket paused by shutdown kept the listener open forever)', async () => {
  const server = await startTestServer();
  const zk = await createClient(server.connectString);
  const other = await createClient(server.connectString);
  const a = new LeaderLatch(zk, '/election', { id: 'a' });
  await a.start();
  expect(await a.await({ timeoutMs: 10_000 })).toBe(true);
  const b = new LeaderLatch(other, '/election', { id: 'b' });
  await b.start();
  await server.expireSession(zk.sessionId);
  expect(await b.await({ timeoutMs: 10_000 })).toBe(true);
  await a.close();
  await b.close();
  await other.close();
  await zk.close();
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('stop() did not complete within 10 s'), 10_000)));
  expect(await Promise.race([server.stop().then(() => 'stopped'), stuck])).toBe('stopped');
  clearTimeout(timer);
});

describe('startTestCluster', () => {
  let cluster: TestCluster | undefined;
  const clients: ZkClient[] = [];
  const open = async (cs: string) => {
    const zk = await createClient(cs, { sessionTimeoutMs: 6000, connectTimeoutMs: 30_000 });
    clients.push(zk);
    return zk;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
  });

  test('kill, restart, pause, partition, expireSession; stop cleans up', async () => {
    cluster = await startTestCluster({ servers: 3 });
    const c = cluster;
    const zk = await open(c.connectString);
    await zk.create('/before', 'v0');

    // kill -9 of the leader: another member leads, writes go on; the restarted member catches up.
    const first = await c.leader();
    await first.kill();
    expect(first.running).toBe(false);
    const second = await c.leader();
    expect(second.id).not.toBe(first.id);
    await zk.create('/after-kill', 'v1');
    await first.restart();
    const onFirst = await open(first.connectString);
    await onFirst.sync('/');
    expect((await onFirst.getData('/after-kill')).data?.toString()).toBe('v1');

    // SIGSTOP of a member: its client notices and moves on; SIGCONT brings it back.
    const follower = c.members.find((m) => m.id !== second.id)!;
    const pinned = await open(follower.connectString);
    const suspended = next(pinned, 'suspended');
    follower.pause();
    expect(await follower.status(200)).toBeUndefined();
    await suspended;
    const back = next(pinned, 'reconnected');
    follower.resume();
    await back;

    // Partition the leader away: the majority elects another, the cut-off one stops serving.
    second.partition();
    const third = await c.leader();
    expect(third.id).not.toBe(second.id);
    await until(async () => (await second.status())?.serving === false, `member ${second.id} to stop serving while cut off`);
    await zk.create('/during-partition', 'v2');
    second.heal();
    await c.waitServing();
    const onSecond = await open(second.connectString);
    await onSecond.sync('/');
    expect((await onSecond.getData('/during-partition')).data?.toString()).toBe('v2');

    // Group partition: [1] | [2, 3] (member 1 alone).
    c.partition([1]);
    const leader = await c.leader();
    expect(leader.id).not.toBe(1);
    c.heal();
    await c.waitServing();

    // Forced expiry through the leader.
    const eph = await open(c.connectString);
    await eph.create('/eph', null, { mode: 'ephemeral' });
    const lost = next(eph, 'lost');
    await c.expireSession(eph.sessionId);
    await lost;
    await until(async () => (await zk.exists('/eph')).stat === null, 'the expired session’s ephemeral to go');

    // stop(): no member process, no directory left.
    const pids = c.members.map((m) => m.pid!);
    expect(pids.every((p) => p > 0)).toBe(true);
    await Promise.all(clients.splice(0).map((x) => x.close()));
    await c.stop();
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(pids.filter(alive)).toEqual([]);
    expect(c.members.filter((m) => fs.existsSync(m.dataDir)).map((m) => m.id)).toEqual([]);
  }, 180_000);
});
