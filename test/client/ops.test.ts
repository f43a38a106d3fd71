/**
 * Proves that ZkClient performs every client opcode correctly against each target (Apache
 * ZooKeeper 3.8 and zabkeeper): results, typed errors, chroot handling and one-shot, persistent
 * and recursive watches.
 */
import { compatTargets } from '../harness/servers';
import {
  AbortError,
  BadArgumentsError,
  BadVersionError,
  ConnectTimeoutError,
  NoNodeError,
  NoWatcherError,
  NodeExistsError,
  NotEmptyError,
  NoAuthError,
  ZkError,
  Perms,
  OPEN_ACL_UNSAFE,
  ZkClient,
  createClient,
  errorFromCode,
  type WatchedEvent,
} from '../../src/client';
import { ClientPool, startTarget, take, uniq } from './helpers';

describe('errors (no server)', () => {
  test('codes map to classes; unknown codes are preserved', () => {
    expect(errorFromCode(-101, '/x')).toBeInstanceOf(NoNodeError);
    expect(errorFromCode(-101)).toBeInstanceOf(ZkError);
    expect(errorFromCode(-101)).not.toBeInstanceOf(NodeExistsError);
    expect(errorFromCode(-110).name).toBe('NodeExistsError');
    expect(errorFromCode(-103)).toBeInstanceOf(BadVersionError);
    const odd = errorFromCode(-1237188481);
    expect(odd).toBeInstanceOf(ZkError);
    expect(odd.code).toBe(-1237188481);
    expect(errorFromCode(-101, '/p').path).toBe('/p');
  });

  test('connect timeout rejects when nothing listens', async () => {
    const c = new ZkClient('127.0.0.1:1', { connectTimeoutMs: 1500, reconnectDelayMs: 50 });
    await expect(c.connect()).rejects.toBeInstanceOf(ConnectTimeoutError);
    expect(c.state).toBe('closed');
  });
});

describe.each(compatTargets())('client ops against %s', (kind) => {
  let srv: Awaited<ReturnType<typeof startTarget>>;
  const pool = new ClientPool();
  let zk: ZkClient;

  beforeAll(async () => {
    srv = await startTarget(kind);
    zk = await pool.open(srv.connectString);
  });
  afterAll(async () => {
    await pool.closeAll();
    await srv?.stop();
  });

  test('create modes, create2 stat, getData/setData/delete with versions', async () => {
    const base = uniq();
    const r = await zk.create(base, 'v0');
    expect(r.path).toBe(base);
    expect(r.stat.version).toBe(0);
    expect(r.stat.dataLength).toBe(2);
    expect(r.stat.czxid).toBeGreaterThan(0n);
    const seq1 = await zk.create(`${base}/s-`, null, { mode: 'persistentSequential' });
    const seq2 = await zk.create(`${base}/s-`, null, { mode: 'ephemeralSequential' });
    expect(seq1.path).toMatch(new RegExp(`^${base}/s-\\d{10}$`));
    expect(seq2.path > seq1.path).toBe(true);
    expect(seq2.stat.ephemeralOwner).toBe(zk.sessionId);
    const eph = await zk.create(`${base}/e`, null, { mode: 'ephemeral' });
    expect(eph.stat.ephemeralOwner).toBe(zk.sessionId);
    const cont = await zk.create(`${base}/c`, null, { mode: 'container' });
    expect(cont.path).toBe(`${base}/c`);
    const ttl = await zk.create(`${base}/t`, 'x', { mode: 'persistentWithTTL', ttlMs: 60_000 });
    expect(ttl.path).toBe(`${base}/t`);

    const g = await zk.getData(base);
    expect(g.data?.toString()).toBe('v0');
    const st = await zk.setData(base, 'v1', { version: 0 });
    expect(st.version).toBe(1);
    await expect(zk.setData(base, 'v2', { version: 0 })).rejects.toBeInstanceOf(BadVersionError);
    await expect(zk.create(base, 'again')).rejects.toBeInstanceOf(NodeExistsError);
    await expect(zk.delete(base)).rejects.toBeInstanceOf(NotEmptyError);
    await expect(zk.getData(`${base}/missing`)).rejects.toMatchObject({ code: -101, path: `${base}/missing` });
    await expect(zk.create(`${base}/no/parent`)).rejects.toBeInstanceOf(NoNodeError);
    await expect(zk.create(`${base}/.`, null)).rejects.toBeInstanceOf(BadArgumentsError);
    const deep = await zk.create(`${base}/p/q/r`, 'deep', { createParents: true });
    expect(deep.path).toBe(`${base}/p/q/r`);
    expect((await zk.exists(`${base}/p/q`)).stat).not.toBeNull();

    await zk.delete(`${base}/e`, { version: 0 });
    expect((await zk.exists(`${base}/e`)).stat).toBeNull();
    await zk.deleteAll(base);
    expect((await zk.exists(base)).stat).toBeNull();
  });

  test('null and empty data stay apart', async () => {
    const base = uniq();
    await zk.create(base, null);
    expect((await zk.getData(base)).data).toBeNull();
    await zk.setData(base, Buffer.alloc(0));
    expect((await zk.getData(base)).data).toEqual(Buffer.alloc(0));
  });

  test('getChildren with stat, getAllChildrenNumber, getEphemerals, sync, whoAmI', async () => {
    const base = uniq();
    await zk.create(base);
    await zk.create(`${base}/a`);
    await zk.create(`${base}/b`, null, { mode: 'ephemeral' });
    await zk.create(`${base}/a/x`, null, { mode: 'ephemeral' });
    const { children, stat } = await zk.getChildren(base);
    expect(children.sort()).toEqual(['a', 'b']);
    expect(stat.numChildren).toBe(2);
    expect(await zk.getAllChildrenNumber(base)).toBe(3);
    expect((await zk.getEphemerals(base)).sort()).toEqual([`${base}/a/x`, `${base}/b`]);
    expect(await zk.sync(base)).toBe(base);
    const who = await zk.whoAmI();
    expect(who).toContainEqual({ authScheme: 'ip', user: '127.0.0.1' });
    await zk.deleteAll(base);
  });

  test('ACLs and digest auth', async () => {
    const base = uniq();
    const other = await pool.open(srv.connectString);
    await other.addAuth('digest', 'alice:secret');
    expect(await other.whoAmI()).toContainEqual({ authScheme: 'digest', user: 'alice' });
    await other.create(base, 'private', { acl: [{ perms: Perms.all, id: { scheme: 'auth', id: '' } }] });
    await expect(zk.getData(base)).rejects.toBeInstanceOf(NoAuthError);
    const { acl, stat } = await other.getACL(base);
    expect(acl).toHaveLength(1);
    expect(acl[0]!.id.scheme).toBe('digest');
    const st = await other.setACL(base, OPEN_ACL_UNSAFE, { version: stat.aversion });
    expect(st.aversion).toBe(1);
    expect((await zk.getData(base)).data?.toString()).toBe('private');
    await expect(other.setACL(base, OPEN_ACL_UNSAFE, { version: 0 })).rejects.toBeInstanceOf(BadVersionError);
    await other.close();
  });

  test('transactions: per-op results and rollback with typed error', async () => {
    const base = uniq();
    await zk.create(base, 'x');
    const results = await zk
      .transaction()
      .check(base, 0)
      .create(`${base}/a`, 'a')
      .create(`${base}/s-`, null, { mode: 'persistentSequential' })
      .setData(base, 'y', 0)
      .delete(`${base}/a`)
      .commit();
    expect(results.map((r) => r.type)).toEqual(['check', 'create', 'create', 'setData', 'delete']);
    expect(results[1]).toMatchObject({ type: 'create', path: `${base}/a` });
    expect((results[2] as { path: string }).path).toMatch(/\/s-\d{10}$/);
    expect((results[3] as { stat: { version: number } }).stat.version).toBe(1);

    const failing = zk.transaction().create(`${base}/new`).create(`${base}/new`).setData(base, 'z');
    const err = await failing.commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeExistsError);
    expect((err as ZkError).failedOpIndex).toBe(1);
    expect((err as ZkError).opErrors?.map((e) => e?.code)).toEqual([undefined, -110, -2]);
    expect((await zk.exists(`${base}/new`)).stat).toBeNull();
  });

  test('multiRead: each op on its own', async () => {
    const base = uniq();
    await zk.create(base, 'd');
    await zk.create(`${base}/k`);
    const r = await zk.multiRead([
      { type: 'getData', path: base },
      { type: 'getChildren', path: base },
      { type: 'getData', path: `${base}/nope` },
    ]);
    expect(r[0]).toMatchObject({ type: 'getData' });
    expect((r[0] as { data: Buffer }).data.toString()).toBe('d');
    expect(r[1]).toEqual({ type: 'getChildren', children: ['k'] });
    expect(r[2]!.type).toBe('error');
    expect((r[2] as { error: unknown }).error).toBeInstanceOf(NoNodeError);
  });

  test('one-shot watches as promises next to the result', async () => {
    const base = uniq();
    const ex = await zk.exists(base, { watch: true });
    expect(ex.stat).toBeNull();
    await zk.create(base, 'a');
    expect(await ex.watch).toMatchObject({ type: 'nodeCreated', path: base, state: 'syncConnected' });

    const gd = await zk.getData(base, { watch: true });
    const gc = await zk.getChildren(base, { watch: true });
    await zk.setData(base, 'b');
    expect(await gd.watch).toMatchObject({ type: 'nodeDataChanged', path: base });
    await zk.create(`${base}/c`);
    expect(await gc.watch).toMatchObject({ type: 'nodeChildrenChanged', path: base });

    const gd2 = await zk.getData(base, { watch: true });
    const ex2 = await zk.exists(base, { watch: true });
    await zk.deleteAll(base);
    expect((await gd2.watch).type).toBe('nodeDeleted');
    expect((await ex2.watch).type).toBe('nodeDeleted');
  });

  test('removeWatches / checkWatches', async () => {
    const base = uniq();
    await zk.create(base);
    await expect(zk.checkWatches(base, 'data')).rejects.toBeInstanceOf(NoWatcherError);
    const gd = await zk.getData(base, { watch: true });
    await zk.checkWatches(base, 'data');
    await zk.removeWatches(base, 'data');
    expect((await gd.watch).type).toBe('dataWatchRemoved');
    await expect(zk.checkWatches(base, 'data')).rejects.toBeInstanceOf(NoWatcherError);
    await expect(zk.removeWatches(base, 'children')).rejects.toBeInstanceOf(NoWatcherError);
  });

  test('persistent and recursive watches as async iterators', async () => {
    const base = uniq();
    await zk.create(base);
    // Servers keep one persistent mode per (connection, path): use a second client for the other.
    const other = await pool.open(srv.connectString);
    const pw = await other.addWatch(base, { mode: 'persistent' });
    const rw = await zk.addWatch(base, { mode: 'persistentRecursive' });
    await zk.setData(base, '1');
    await zk.create(`${base}/a`);
    await zk.create(`${base}/a/b`);
    await zk.setData(`${base}/a/b`, '2');
    await zk.delete(`${base}/a/b`);
    const p = await take(pw[Symbol.asyncIterator](), 2);
    expect(p.map((e) => [e.type, e.path])).toEqual([
      ['nodeDataChanged', base],
      ['nodeChildrenChanged', base],
    ]);
    const r = await take(rw[Symbol.asyncIterator](), 5);
    expect(r.map((e: WatchedEvent) => [e.type, e.path])).toEqual([
      ['nodeDataChanged', base],
      ['nodeCreated', `${base}/a`],
      ['nodeCreated', `${base}/a/b`],
      ['nodeDataChanged', `${base}/a/b`],
      ['nodeDeleted', `${base}/a/b`],
    ]);
    await pw.close();
    await zk.setData(base, '3');
    const more = await take(rw[Symbol.asyncIterator](), 1);
    expect(more[0]).toMatchObject({ type: 'nodeDataChanged', path: base });
    await rw.close();
    expect((await rw[Symbol.asyncIterator]().next()).done).toBe(true);
    // 'any' covers persistent watches too (3.8 answers MarshallingError for checkWatches type 4/5).
    await expect(zk.checkWatches(base, 'any')).rejects.toBeInstanceOf(NoWatcherError);
    await other.close();
  });

  test('bounded buffer: overflow policy error ends the iterator with WatchOverflowError', async () => {
    const base = uniq();
    await zk.create(base);
    const w = await zk.addWatch(base, { mode: 'persistent', bufferSize: 2, overflow: 'error' });
    for (let i = 0; i < 4; i++) await zk.setData(base, String(i));
    const it = w[Symbol.asyncIterator]();
    expect((await it.next()).done).toBe(false);
    expect((await it.next()).done).toBe(false);
    await expect(it.next()).rejects.toMatchObject({ name: 'WatchOverflowError' });
    expect((await it.next()).done).toBe(true);
  });

  test('chroot: prepended on requests, stripped from results and events', async () => {
    const root = uniq('chroot');
    await zk.create(root);
    const cz = await pool.open(srv.connectString + root);
    const created = await cz.create('/a', 'x');
    expect(created.path).toBe('/a');
    expect((await zk.getData(`${root}/a`)).data?.toString()).toBe('x');
    const seq = await cz.create('/a/s-', null, { mode: 'ephemeralSequential' });
    expect(seq.path).toMatch(/^\/a\/s-\d{10}$/);
    expect(await cz.getEphemerals()).toEqual([seq.path]);
    expect((await cz.getChildren('/')).children).toEqual(['a']);
    expect(await cz.sync('/a')).toBe('/a');
    const w = await cz.getData('/a', { watch: true });
    const rw = await cz.addWatch('/', { mode: 'persistentRecursive' });
    await zk.setData(`${root}/a`, 'y');
    expect(await w.watch).toMatchObject({ type: 'nodeDataChanged', path: '/a' });
    expect((await take(rw[Symbol.asyncIterator](), 1))[0]).toMatchObject({ type: 'nodeDataChanged', path: '/a' });
    const tx = await cz.transaction().create('/b').commit();
    expect(tx[0]).toMatchObject({ path: '/b' });
    await rw.close();
    await cz.close();
  });

  test('AbortSignal rejects with AbortError; the request still completes', async () => {
    const base = uniq();
    const ac = new AbortController();
    ac.abort();
    await expect(zk.create(base, null, { signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    expect((await zk.exists(base)).stat).toBeNull();
    const ac2 = new AbortController();
    const p = zk.create(base, null, { signal: ac2.signal });
    // Abort once the request is on the wire; if the reply won the race the call simply succeeded.
    setImmediate(() => ac2.abort());
    const outcome = await p.then(() => 'ok', (e: unknown) => e);
    if (outcome !== 'ok') expect(outcome).toBeInstanceOf(AbortError);
    await zk.sync(base);
    expect((await zk.exists(base)).stat).not.toBeNull();
  });

  test('createClient, states iterator and close (ephemerals go)', async () => {
    const c = await createClient(srv.connectString, { sessionTimeoutMs: 4000 });
    const states = c.states();
    expect(c.state).toBe('connected');
    const base = uniq();
    await c.create(base, null, { mode: 'ephemeral' });
    await c.close();
    expect(await take(states, 2)).toEqual(['closed']);
    expect((await zk.exists(base)).stat).toBeNull();
    await expect(c.getData('/')).rejects.toMatchObject({ name: 'ClientClosedError' });
  });
});
