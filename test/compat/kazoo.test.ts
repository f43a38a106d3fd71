/**
 * kazoo (python3-kazoo 2.8 from Debian): one Python process runs every scenario in
 * python/kazoo_suite.py and prints JSON; the assertions live here. kazoo 2.8 has no add_watch, so
 * persistent/recursive watches are covered by the zkCli and Curator suites instead.
 */
import { compatTargets, startServer, TestServer } from '../harness/servers';
import { runPython, Scenario, scenario } from './pyrun';

describe.each(compatTargets())('kazoo against %s', (kind) => {
  let server: TestServer;
  let results: Map<string, Scenario>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from Python
  const get = (name: string) => scenario(results, name) as Record<string, any>;

  beforeAll(async () => {
    server = await startServer(kind);
    results = await runPython('kazoo_suite.py', [server.connectString]);
  }, 150_000);
  afterAll(async () => {
    await server?.stop();
  });

  test('CRUD, stat fields, errors, server_version via envi, ruok', () => {
    const r = get('crud');
    expect(r.create).toBe('/k/crud');
    expect(r.create_again).toBe('NodeExistsError');
    expect(r.get).toBe('v0');
    expect(r.stat).toMatchObject({ version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0, dataLength: 2, numChildren: 0 });
    expect(r.stat.czxid).toBe(r.stat.mzxid);
    expect(r.stat.pzxid).toBe(r.stat.czxid);
    expect(r.stat.ctime).toBe(r.stat.mtime);
    expect(Math.abs(r.stat.ctime - Date.now())).toBeLessThan(120_000);
    expect(r.set.version).toBe(1);
    expect(r.set.mzxid).toBeGreaterThan(r.stat.mzxid);
    expect(r.set.czxid).toBe(r.stat.czxid);
    expect(r.set_bad_version).toBe('BadVersionError');
    expect(r.delete_not_empty).toBe('NotEmptyError');
    expect(r.children).toEqual(['c1']);
    expect(r.exists_after).toBeNull();
    expect(r.get_missing).toBe('NoNodeError');
    // kazoo parses zookeeper.version= from `envi`: it must look like a 3.x version.
    expect(r.server_version[0]).toBe(3);
    expect(r.server_version.length).toBeGreaterThanOrEqual(3);
    expect(r.ruok).toBe('imok');
  });

  test('sequential numbering and ephemeral lifetime', () => {
    const r = get('ephemeral_sequential');
    expect(r.paths).toEqual(['/k/seq/n-0000000000', '/k/seq/n-0000000001', '/k/seq/n-0000000002']);
    expect(r.ephemeral).toBe('/k/seq/e-0000000003');
    expect(r.owner_is_session).toBe(true);
    expect(r.gone_after_close).toBe(true);
  });

  test('transactions: results per op, failing one rolls back', () => {
    const r = get('transactions');
    // create → path, set_data → ZnodeStat, check → True, create → path
    expect(r.ok).toEqual(['/k/tx/a', 'ZnodeStat', 'bool', '/k/tx/b']);
    expect(r.bad).toEqual(['RolledBackError', 'BadVersionError', 'RuntimeInconsistency']);
    expect(r.c_exists).toBe(false);
    expect(r.b_exists).toBe(true);
    expect(r.parent).toBe('parent');
  });

  test('watches: one-shot event types, DataWatch, ChildrenWatch', () => {
    const r = get('watches');
    expect(r.events).toEqual([
      ['CHANGED', '/k/w', 'CONNECTED'],
      ['CREATED', '/k/w/new', 'CONNECTED'],
      ['CHILD', '/k/w', 'CONNECTED'],
      ['DELETED', '/k/w', 'CONNECTED'],
    ]);
    expect(r.datawatch).toEqual([
      ['', null],
      ['a', 'CHANGED'],
      ['b', 'CHANGED'],
      [null, 'DELETED'],
    ]);
    expect(r.childrenwatch).toEqual([[], ['x'], ['x', 'y']]);
  });

  test('ACLs: digest, auth_data at connect, add_auth later, scheme auth with null id', () => {
    const r = get('acl_auth');
    expect(r.anon_get).toBe('NoAuthError');
    expect(r.authed_get).toBe('secret');
    expect(r.acls).toEqual([[31, 'digest', 'carol:RffyCdXXV1Js0ywLAoP5/l25yKs=']]);
    expect(r.late_auth_get).toBe('secret');
    // ACL(auth, <null>) expands to the connection's authenticated identities.
    expect(r.auth_scheme_acls).toEqual([[31, 'digest', 'carol:RffyCdXXV1Js0ywLAoP5/l25yKs=']]);
  });

  test('session: stolen and closed elsewhere → LOST, ephemerals removed', () => {
    const r = get('session');
    expect(r.same_session).toBe(true);
    expect(r.lost).toBe(true);
    expect(r.states[0]).toBe('CONNECTED');
    expect(r.states).toContain('LOST');
    expect(r.ephemeral_gone).toBe(true);
  });

  test('Lock: 4 clients x 5 rounds, mutual exclusion, no leftovers', () => {
    const r = get('lock');
    expect(r.max_holders).toBe(1);
    expect(r.count).toBe(r.expected);
    expect(r.leftover).toEqual([]);
  });

  test('Election: every contender leads once, never two at a time', () => {
    const r = get('election');
    expect(r.leaders).toEqual([0, 1, 2]);
    expect(r.max_active).toBe(1);
  });

  test('Queue (priorities) and LockingQueue', () => {
    const r = get('queues');
    expect(r.queue).toEqual(['first', 'urgent', 'one', 'two', 'three']);
    expect(r.queue_len_after).toBe(0);
    expect(r.locking).toEqual(['a', 'b', 'c']);
    expect(r.locking_len_after).toBe(0);
  });

  test('Counter: concurrent increments (versioned CAS), float counter', () => {
    const r = get('counter');
    expect(r.value).toBe(30);
    expect(r.float).toBe(1.5);
  });

  test('Barrier and DoubleBarrier', () => {
    const r = get('barriers');
    expect(r.blocked_before_remove).toBe(true);
    expect(r.released).toEqual([true]);
    expect(r.double).toEqual(['in', 'in', 'in', 'out', 'out', 'out']);
  });
});
