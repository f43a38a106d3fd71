/**
 * Proves the Curator-style recipes added for issue 14 on a real server: PersistentNode re-creates
 * its node after a delete and after session expiry (sequential ones under a new, protected path);
 * PersistentTtlNode's container outlives its process by about one TTL, then the server reaps it;
 * GroupMember sees the group come and go; SharedCount shares an int with compare-and-set.
 */
import { createClient, type ZkClient } from '../../src/client';
import { GroupMember, PersistentNode, PersistentTtlNode, SharedCount } from '../../src/recipes';
import { startTestServer, type TestServer } from '../../src/testing/server';
import { until } from '../harness/wait';
import { nextState } from './helpers';

let server: TestServer;
const clients: ZkClient[] = [];
const open = async () => {
  const c = await createClient(server.connectString, { sessionTimeoutMs: 10_000 });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  server = await startTestServer({ storage: 'memory', server: { containerCheckIntervalMs: 100 } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});

test('PersistentNode: comes back after a delete and after its session expires', async () => {
  const [zk, other] = [await open(), await open()];
  const node = new PersistentNode(zk, '/pn/ephemeral', 'ephemeral', 'v1');
  node.start();
  expect(await node.waitForInitialCreate(10_000)).toBe(true);
  expect(node.actualPath).toBe('/pn/ephemeral');
  await other.delete('/pn/ephemeral');
  await until(async () => (await other.exists('/pn/ephemeral')).stat !== null, 'the node to be re-created after a delete');
  const before = zk.sessionId;
  const lost = nextState(zk, 'lost');
  await server.expireSession(before);
  await lost;
  await until(async () => {
    const { stat } = await other.exists('/pn/ephemeral');
    return stat !== null && stat.ephemeralOwner === zk.sessionId && zk.sessionId !== before;
  }, 'the ephemeral to come back in the new session');
  await node.setData('v2');
  expect((await other.getData('/pn/ephemeral')).data?.toString()).toBe('v2');
  await node.close();
  expect((await other.exists('/pn/ephemeral')).stat).toBeNull();
});

test('PersistentNode, sequential: a new protected path after expiry', async () => {
  const [zk, other] = [await open(), await open()];
  const node = new PersistentNode(zk, '/pn/seq-', 'ephemeralSequential', 'x');
  const created: string[] = [];
  node.on('created', (p) => created.push(p));
  node.start();
  await node.waitForInitialCreate(10_000);
  expect(node.actualPath).toMatch(/^\/pn\/_c_[0-9a-f-]{36}-seq-\d{10}$/);
  const first = node.actualPath!;
  const lost = nextState(zk, 'lost');
  await server.expireSession(zk.sessionId);
  await lost;
  await until(() => created.length === 2, 'a second creation');
  expect(node.actualPath).not.toBe(first);
  expect((await other.getChildren('/pn')).children.filter((c) => c.includes('seq-'))).toHaveLength(1);
  await node.close();
});

test('PersistentTtlNode: refreshed while running; reaped about one TTL after its process stops', async () => {
  const [zk, other] = [await open(), await open()];
  const node = new PersistentTtlNode(zk, '/ttl/lease', 400, 'holder');
  node.start();
  await node.waitForInitialCreate(10_000);
  await until(async () => (await other.exists('/ttl/lease/touch')).stat !== null, 'the touch node');
  // Still there after several TTLs while it runs.
  const { stat } = await other.exists('/ttl/lease/touch');
  await until(async () => ((await other.exists('/ttl/lease/touch')).stat?.mzxid ?? 0n) > stat!.mzxid, 'a refresh of the touch node');
  expect((await other.exists('/ttl/lease')).stat?.ephemeralOwner).toBe(0n);
  // The "process" dies: its session ends without close(); nobody refreshes any more.
  await zk.close();
  await until(async () => (await other.exists('/ttl/lease')).stat === null, 'the container to be reaped after the TTL', 30_000);
});

test('GroupMember: members see each other come and go', async () => {
  const [a, b] = [await open(), await open()];
  const ma = new GroupMember(a, '/groups/workers', 'a', 'payload-a');
  const mb = new GroupMember(b, '/groups/workers', 'b', 'payload-b');
  await ma.start();
  await mb.start();
  await until(() => ma.currentMembers().size === 2, 'a to see both members');
  expect([...mb.currentMembers()].map(([id, d]) => `${id}=${d?.toString()}`).sort()).toEqual(['a=payload-a', 'b=payload-b']);
  await mb.close();
  await until(() => ma.currentMembers().size === 1, 'a to see b leave');
  await ma.close();
});

test('SharedCount: compare-and-set on the version; others are told', async () => {
  const [a, b] = [await open(), await open()];
  const ca = new SharedCount(a, '/counts/jobs', 5);
  const cb = new SharedCount(b, '/counts/jobs', 99);
  await ca.start();
  await cb.start();
  expect(cb.count).toBe(5); // the seed of whoever created it
  const seen = ca.getVersionedValue();
  const changed = new Promise<number>((r) => cb.once('countChanged', r));
  expect(await ca.trySetCount(await seen, 6)).toBe(true);
  expect(await changed).toBe(6);
  expect(await cb.trySetCount(await seen, 7)).toBe(false); // stale version
  await cb.setCount(10);
  await until(() => ca.count === 10, 'a to see 10');
  await Promise.all([ca.close(), cb.close()]);
});
