/**
 * Proves prep + apply reproduce ZooKeeper's write semantics: stat arithmetic for every op,
 * sequential naming, ephemerals, containers/TTL, per-op error codes and their check order.
 */
import { CONTAINER_EPHEMERAL_OWNER, CreateFlags, ErrorCode, EventType, OpCode, Perms, TTL_EPHEMERAL_OWNER_MASK } from '../../protocol/jute/constants';
import { JuteDecodeError } from '../../protocol/jute/errors';
import { generateDigest } from '../../src/acl';
import { copyStat, findExpiredContainersAndTtls } from '../../src/tree';
import { Harness, OPEN, SESSION } from './harness';

const digestBob = { scheme: 'digest', id: generateDigest('bob:pw') };
const bob = { id: SESSION, authIds: [{ scheme: 'ip', id: '127.0.0.1' }, digestBob] };
const anon = { id: SESSION, authIds: [{ scheme: 'ip', id: '127.0.0.1' }] };

describe('initial tree', () => {
  it('matches a fresh ZooKeeper', () => {
    const h = new Harness();
    const root = h.db.tree.get('/')!;
    expect(root.stat).toEqual({ czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: -1, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 1, pzxid: 0n });
    expect(root.data).toEqual(Buffer.alloc(0));
    expect(h.db.tree.get('/zookeeper')!.stat.cversion).toBe(-2);
    expect(h.db.tree.getChildren('/zookeeper')).toEqual(['config', 'quota']);
    expect(h.db.tree.get('/zookeeper/config')!.acl).toEqual([{ perms: Perms.read, id: { scheme: 'world', id: 'anyone' } }]);
    expect(h.db.tree.nodeCount).toBe(4);
    expect(h.db.tree.countDescendants('/')).toBe(3);
    expect(h.db.lastProcessedZxid).toBe(0n);
  });
});

describe('stat arithmetic', () => {
  it('create sets the new node and the parent as ZooKeeper does', () => {
    const h = new Harness();
    h.now = 5000n;
    const { txn, result, events } = h.create('/a', { data: Buffer.from('hello') });
    const z = txn.zxid;
    expect(result.err).toBe(0);
    expect(result.path).toBe('/a');
    expect(result.stat).toEqual({ czxid: z, mzxid: z, ctime: 5000n, mtime: 5000n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 0, pzxid: z });
    const root = h.db.tree.get('/')!.stat;
    expect(root).toMatchObject({ cversion: 0, numChildren: 2, pzxid: z, mzxid: 0n });
    expect(events).toEqual([
      { type: EventType.nodeCreated, path: '/a', zxid: z, acl: OPEN },
      { type: EventType.nodeChildrenChanged, path: '/', zxid: z, acl: OPEN },
    ]);
    expect(h.db.lastProcessedZxid).toBe(z);
  });

  it('child creates and deletes both move cversion; delete sets pzxid', () => {
    const h = new Harness();
    h.create('/p');
    h.create('/p/a');
    h.create('/p/b');
    h.create('/p/c');
    const del = h.del('/p/b');
    const p = h.db.tree.get('/p')!.stat;
    expect(p.cversion).toBe(4); // fact sheet: three creates + one delete
    expect(p.numChildren).toBe(2);
    expect(p.pzxid).toBe(del.txn.zxid);
    expect(p.mzxid).toBeLessThan(del.txn.zxid);
    expect(del.events).toEqual([
      { type: EventType.nodeDeleted, path: '/p/b', zxid: del.txn.zxid, acl: OPEN },
      { type: EventType.nodeChildrenChanged, path: '/p', zxid: del.txn.zxid, acl: OPEN },
    ]);
  });

  it('setData bumps version, mtime and mzxid only', () => {
    const h = new Harness();
    const c = h.create('/a');
    h.now = 9000n;
    const s = h.setData('/a', Buffer.from('xyz'), 0);
    expect(s.result.stat).toMatchObject({ czxid: c.txn.zxid, mzxid: s.txn.zxid, pzxid: c.txn.zxid, ctime: 1000n, mtime: 9000n, version: 1, dataLength: 3 });
    expect(s.events).toEqual([{ type: EventType.nodeDataChanged, path: '/a', zxid: s.txn.zxid, acl: OPEN }]);
    const n = h.setData('/a', null);
    expect(n.result.stat).toMatchObject({ version: 2, dataLength: 0 });
    expect(h.db.tree.get('/a')!.data).toBeNull();
  });

  it('versions wrap like Java ints but never become -1 (ZOOKEEPER-4743)', () => {
    const h = new Harness();
    h.create('/w');
    const setVersion = (v: number) => {
      const n = h.db.tree.get('/w')!;
      h.db.tree.setData('/w', n.data, v, n.stat.mzxid, n.stat.mtime);
    };
    setVersion(2147483647);
    expect(h.setData('/w', null, 2147483647).result.stat!.version).toBe(-2147483648);
    setVersion(-2);
    expect(h.setData('/w', null, -2).result.stat!.version).toBe(0);
  });

  it('setACL bumps aversion only and fires nothing', () => {
    const h = new Harness();
    h.create('/a');
    const r = h.write(OpCode.setACL, { path: '/a', acl: [{ perms: Perms.read | Perms.admin, id: { scheme: 'world', id: 'anyone' } }], version: 0 });
    expect(r.result.err).toBe(0);
    expect(r.result.stat).toMatchObject({ aversion: 1, version: 0 });
    expect(r.events).toEqual([]);
    expect(h.write(OpCode.setACL, { path: '/a', acl: OPEN, version: 0 }).result.err).toBe(ErrorCode.badVersion);
  });

  it('a failed write consumes a zxid and changes nothing', () => {
    const h = new Harness();
    const before = JSON.stringify([...h.db.tree.entries()].map(([p, n]) => [p, copyStat(n)]), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    const r = h.create('/missing/child');
    expect(r.txn.body).toEqual({ type: 'error', err: ErrorCode.noNode });
    expect(r.result).toEqual({ err: ErrorCode.noNode });
    expect(h.db.lastProcessedZxid).toBe(r.txn.zxid);
    const after = JSON.stringify([...h.db.tree.entries()].map(([p, n]) => [p, copyStat(n)]), (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(after).toBe(before);
  });
});

describe('sequential names', () => {
  it('use the parent create counter, %010d, not bumped by deletes', () => {
    const h = new Harness();
    h.create('/q');
    expect(h.create('/q/s-', { flags: CreateFlags.persistentSequential }).result.path).toBe('/q/s-0000000000');
    h.create('/q/x');
    h.del('/q/x');
    expect(h.create('/q/s-', { flags: CreateFlags.persistentSequential }).result.path).toBe('/q/s-0000000002');
  });

  it('allow a trailing-slash prefix and are per parent', () => {
    const h = new Harness();
    h.create('/a');
    h.create('/b');
    expect(h.create('/a/', { flags: CreateFlags.persistentSequential }).result.path).toBe('/a/0000000000');
    expect(h.create('/b/', { flags: CreateFlags.persistentSequential }).result.path).toBe('/b/0000000000');
    // root: / has stored counter 2 now (/a, /b)
    expect(h.create('/r', { flags: CreateFlags.persistentSequential }).result.path).toBe('/r0000000002');
  });

  it('see creates and deletes still in flight', () => {
    const h = new Harness();
    h.create('/q');
    h.create('/q/old');
    const seq = { path: '/q/s', data: null, acl: OPEN, flags: CreateFlags.persistentSequential };
    const t1 = h.submit(OpCode.create, seq);
    h.submit(OpCode.delete, { path: '/q/old', version: -1 });
    const t2 = h.submit(OpCode.create, seq);
    expect(t1.body).toMatchObject({ path: '/q/s0000000001' });
    expect(t2.body).toMatchObject({ path: '/q/s0000000002' });
    h.commitAll();
    expect(h.db.tree.getChildren('/q')).toEqual(['s0000000001', 's0000000002']);
    expect(h.db.tree.get('/q')!.stat.cversion).toBe(4);
    expect(h.prep.outstandingChanges).toBe(0);
  });
});

describe('prep overlay', () => {
  it('two creates of one path in one batch: the second is NodeExists', () => {
    const h = new Harness();
    const body = { path: '/dup', data: null, acl: OPEN, flags: 0 };
    const a = h.submit(OpCode.create, body);
    const b = h.submit(OpCode.create, body);
    expect(a.body.type).toBe('create');
    expect(b.body).toEqual({ type: 'error', err: ErrorCode.nodeExists });
    const [ra, rb] = h.commitAll();
    expect(ra.result.err).toBe(0);
    expect(rb.result.err).toBe(ErrorCode.nodeExists);
  });

  it('in-flight versions, children and deletes are honoured', () => {
    const h = new Harness();
    h.create('/v');
    expect(h.submit(OpCode.setData, { path: '/v', data: null, version: 0 }).body.type).toBe('setData');
    expect(h.submit(OpCode.setData, { path: '/v', data: null, version: 0 }).body).toEqual({ type: 'error', err: ErrorCode.badVersion });
    expect(h.submit(OpCode.setData, { path: '/v', data: null, version: 1 }).body).toMatchObject({ type: 'setData', version: 2 });
    h.submit(OpCode.create, { path: '/v/c', data: null, acl: OPEN, flags: 0 });
    expect(h.submit(OpCode.delete, { path: '/v', version: -1 }).body).toEqual({ type: 'error', err: ErrorCode.notEmpty });
    h.submit(OpCode.delete, { path: '/v/c', version: -1 });
    expect(h.submit(OpCode.delete, { path: '/v', version: 2 }).body).toEqual({ type: 'delete', path: '/v' });
    expect(h.submit(OpCode.setData, { path: '/v', data: null, version: -1 }).body).toEqual({ type: 'error', err: ErrorCode.noNode });
    h.commitAll();
    expect(h.db.tree.has('/v')).toBe(false);
    expect(h.prep.outstandingChanges).toBe(0);
  });

  it('a committed record does not hide a newer in-flight one for the same path', () => {
    const h = new Harness();
    h.create('/w');
    h.submit(OpCode.setData, { path: '/w', data: null, version: -1 });
    h.submit(OpCode.setData, { path: '/w', data: null, version: -1 });
    h.commit();
    expect(h.submit(OpCode.setData, { path: '/w', data: null, version: 2 }).body).toMatchObject({ version: 3 });
  });
});

describe('ephemerals and sessions', () => {
  it('owner is the session; closeSession deletes them with events and removes the session', () => {
    const h = new Harness();
    h.openSession();
    h.create('/e');
    const e1 = h.create('/e/1', { flags: CreateFlags.ephemeral });
    h.create('/e/2', { flags: CreateFlags.ephemeralSequential });
    expect(e1.result.stat!.ephemeralOwner).toBe(SESSION);
    expect(h.db.tree.getEphemerals(SESSION).sort()).toEqual(['/e/1', '/e/20000000001']);
    expect(h.db.sessions.has(SESSION)).toBe(true);
    const closed = h.closeSession();
    expect(closed.events.map((e) => [e.type, e.path])).toEqual([
      [EventType.nodeDeleted, '/e/1'], [EventType.nodeChildrenChanged, '/e'],
      [EventType.nodeDeleted, '/e/20000000001'], [EventType.nodeChildrenChanged, '/e'],
    ]);
    expect(h.db.tree.getChildren('/e')).toEqual([]);
    expect(h.db.sessions.has(SESSION)).toBe(false);
    expect(h.db.tree.getEphemerals(SESSION)).toEqual([]);
    expect(h.db.tree.get('/e')!.stat.cversion).toBe(4);
  });

  it('an ephemeral created in flight is removed by an in-flight close, and the parent becomes deletable', () => {
    const h = new Harness();
    h.openSession();
    h.create('/p');
    h.submit(OpCode.create, { path: '/p/e', data: null, acl: OPEN, flags: CreateFlags.ephemeral });
    h.prep.prepCloseSession(SESSION, { zxid: ++h.zxid, now: h.now });
    // the overlay already knows /p/e goes away
    const other = { id: 77n, authIds: [] };
    const d = h.prep.prep({ opCode: OpCode.delete, body: { path: '/p', version: -1 } }, h.ctx(other));
    expect(d.body).toEqual({ type: 'delete', path: '/p' });
  });

  it('ephemeral creates need a live session; children of ephemerals are refused', () => {
    const h = new Harness();
    h.implicitSessions = false;
    expect(h.create('/e', { flags: CreateFlags.ephemeral }).result.err).toBe(ErrorCode.sessionExpired);
    h.openSession();
    h.create('/e', { flags: CreateFlags.ephemeral });
    expect(h.create('/e/c').result.err).toBe(ErrorCode.noChildrenForEphemerals);
    h.closeSession();
    expect(h.create('/e2', { flags: CreateFlags.ephemeral }).result.err).toBe(ErrorCode.sessionExpired);
  });

  it('a request from a session that is closing, closed or unknown fails with SessionExpired (checkSession)', () => {
    const h = new Harness();
    h.implicitSessions = false;
    h.openSession();
    h.create('/p');
    // closeSession is prepped; a write the session pipelined behind it must not change anything.
    h.queue.push(h.prep.prepCloseSession(SESSION, { zxid: ++h.zxid, now: h.now }));
    expect(h.submit(OpCode.setData, { path: '/p', data: Buffer.from('late'), version: -1 }).body).toEqual({ type: 'error', err: ErrorCode.sessionExpired });
    h.commitAll();
    expect(h.create('/after-close').result.err).toBe(ErrorCode.sessionExpired);
    expect(h.create('/unknown', { session: { id: 99n, authIds: [] } }).result.err).toBe(ErrorCode.sessionExpired);
    expect(h.db.tree.get('/p')!.data?.toString()).not.toBe('late');
  });
});

describe('containers and TTL nodes', () => {
  it('store raw owners, report 0 to clients, and are found by housekeeping', () => {
    const h = new Harness();
    const c = h.create('/c', { flags: CreateFlags.container, opCode: OpCode.createContainer });
    expect(c.result.stat!.ephemeralOwner).toBe(0n);
    expect(h.db.tree.get('/c')!.stat.ephemeralOwner).toBe(CONTAINER_EPHEMERAL_OWNER);
    const t = h.create('/t', { flags: CreateFlags.persistentWithTTL, opCode: OpCode.createTTL, ttl: 500n });
    expect(t.result.err).toBe(0);
    expect(t.result.stat!.ephemeralOwner).toBe(0n);
    expect(h.db.tree.get('/t')!.stat.ephemeralOwner).toBe(TTL_EPHEMERAL_OWNER_MASK | 500n);
    for (const p of ['/c', '/t']) expect(h.db.tree.statOf(p)).toEqual(copyStat(h.db.tree.get(p)!));
    // a never-used container is kept; TTL not yet expired
    expect(findExpiredContainersAndTtls(h.db, 1000n + 500n)).toEqual([]);
    expect(findExpiredContainersAndTtls(h.db, 1000n + 501n)).toEqual(['/t']);
    h.create('/c/x');
    expect(findExpiredContainersAndTtls(h.db, 0n)).toEqual([]);
    h.del('/c/x');
    expect(findExpiredContainersAndTtls(h.db, 0n)).toEqual(['/c']);
    // housekeeping delete
    expect(h.write(OpCode.deleteContainer, { path: '/c' }).result.err).toBe(0);
    expect(h.db.tree.has('/c')).toBe(false);
    expect(h.db.tree.containers.size).toBe(0);
    h.create('/plain');
    // stricter than ZooKeeper (which only refuses ephemerals): never delete a plain node this way
    expect(h.write(OpCode.deleteContainer, { path: '/plain' }).result.err).toBe(ErrorCode.badVersion);
    h.openSession();
    h.create('/eph', { flags: CreateFlags.ephemeral });
    expect(h.write(OpCode.deleteContainer, { path: '/eph' }).result.err).toBe(ErrorCode.badVersion);
  });

  it('TTL rules: disabled => Unimplemented, range and mode mismatches => BadArguments', () => {
    const h = new Harness();
    const ttl = (ttlMs: bigint, flags: number = CreateFlags.persistentWithTTL) => h.create('/t', { flags, opCode: OpCode.createTTL, ttl: ttlMs }).result.err;
    expect(ttl(0n)).toBe(ErrorCode.badArguments);
    expect(ttl(0xffffffffffn + 1n)).toBe(ErrorCode.badArguments);
    expect(ttl(10n, CreateFlags.persistent)).toBe(ErrorCode.badArguments);
    expect(h.create('/t', { flags: CreateFlags.persistentWithTTL }).result.err).toBe(ErrorCode.badArguments);
    expect(ttl(0xffffffffffn)).toBe(0);
    expect(h.create('/ts', { flags: CreateFlags.persistentSequentialWithTTL, opCode: OpCode.createTTL, ttl: 5n }).result.path).toBe('/ts0000000001');
    h.ttlEnabled = false;
    expect(ttl(10n)).toBe(ErrorCode.unimplemented);
  });
});

describe('error codes per op (zk-wire-facts §7)', () => {
  it('create', () => {
    const h = new Harness();
    expect(h.create('/a/b').result.err).toBe(ErrorCode.noNode);
    expect(h.create('bad').result.err).toBe(ErrorCode.badArguments);
    // ZooKeeper looks the parent up before the full path check: missing parent wins
    expect(h.create('/a/').result.err).toBe(ErrorCode.noNode);
    expect(h.create('/zookeeper/').result.err).toBe(ErrorCode.badArguments);
    expect(h.create('/a\u0000').result.err).toBe(ErrorCode.badArguments);
    expect(h.create('/a', { flags: 9 }).result.err).toBe(ErrorCode.badArguments);
    expect(h.create('/a', { acl: [] }).result.err).toBe(ErrorCode.invalidACL);
    expect(h.create('/a', { acl: [{ perms: 31, id: { scheme: 'auth', id: '' } }], session: anon }).result.err).toBe(ErrorCode.invalidACL);
    expect(h.create('/a', { acl: [{ perms: 31, id: { scheme: 'bogus', id: 'x' } }] }).result.err).toBe(ErrorCode.invalidACL);
    expect(h.create('/a').result.err).toBe(0);
    expect(h.create('/a').result.err).toBe(ErrorCode.nodeExists);
    expect(h.create('/').result.err).toBe(ErrorCode.nodeExists);
    expect(h.create('/zookeeper/x').result.err).toBe(0);
    expect(h.create('/a', { opCode: OpCode.createContainer }).result.err).toBe(ErrorCode.badArguments);
  });

  it('create needs CREATE on the parent; auth ACL expands to digest ids', () => {
    const h = new Harness();
    expect(h.create('/locked', { acl: [{ perms: Perms.all, id: { scheme: 'auth', id: '' } }], session: bob }).result.err).toBe(0);
    expect(h.db.tree.get('/locked')!.acl).toEqual([{ perms: Perms.all, id: digestBob }]);
    expect(h.create('/locked/x', { session: anon }).result.err).toBe(ErrorCode.noAuth);
    // missing parent is NoNode even before ACL; an invalid name under a locked parent is NoAuth first
    expect(h.create('/locked/x', { session: bob }).result.err).toBe(0);
    expect(h.create('/locked/x', { session: { id: SESSION, authIds: [{ scheme: 'super', id: '' }] } }).result.err).toBe(ErrorCode.nodeExists);
  });

  it('delete: BadArguments for special nodes, NoAuth before NoNode, then BadVersion, NotEmpty', () => {
    const h = new Harness();
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) expect(h.del(p).result.err).toBe(ErrorCode.badArguments);
    expect(h.del('nope').result.err).toBe(ErrorCode.badArguments);
    expect(h.del('/nope').result.err).toBe(ErrorCode.noNode);
    expect(h.del('/x/y').result.err).toBe(ErrorCode.noNode);
    h.create('/ro', { acl: [{ perms: Perms.all & ~Perms.delete, id: { scheme: 'world', id: 'anyone' } }] });
    expect(h.del('/ro/missing').result.err).toBe(ErrorCode.noAuth);
    h.create('/a');
    h.create('/a/b');
    expect(h.del('/a', 5).result.err).toBe(ErrorCode.badVersion);
    expect(h.del('/a').result.err).toBe(ErrorCode.notEmpty);
    expect(h.del('/a/b', 0).result.err).toBe(0);
    expect(h.del('/a', 0).result.err).toBe(0);
  });

  it('setData: BadArguments, NoNode, NoAuth, BadVersion, data limit', () => {
    const h = new Harness();
    expect(h.setData('bad', null).result.err).toBe(ErrorCode.badArguments);
    expect(h.setData('/nope', null).result.err).toBe(ErrorCode.noNode);
    h.create('/r', { acl: [{ perms: Perms.read, id: { scheme: 'world', id: 'anyone' } }] });
    expect(h.setData('/r', null).result.err).toBe(ErrorCode.noAuth);
    h.create('/a');
    expect(h.setData('/a', null, 3).result.err).toBe(ErrorCode.badVersion);
    h.maxDataBytes = 4;
    expect(h.setData('/a', Buffer.alloc(5)).result.err).toBe(ErrorCode.badArguments);
    expect(h.setData('/a', Buffer.alloc(4)).result.err).toBe(0);
    expect(h.create('/big', { data: Buffer.alloc(5) }).result.err).toBe(ErrorCode.badArguments);
  });

  it('setACL: InvalidACL, NoNode, NoAuth (ADMIN), BadVersion on aversion', () => {
    const h = new Harness();
    const setAcl = (path: string, acl: unknown, version = -1, session?: typeof bob) => h.write(OpCode.setACL, { path, acl, version }, session).result.err;
    expect(setAcl('/nope', OPEN)).toBe(ErrorCode.noNode);
    h.create('/a', { acl: [{ perms: Perms.all & ~Perms.admin, id: { scheme: 'world', id: 'anyone' } }] });
    expect(setAcl('/a', [])).toBe(ErrorCode.invalidACL);
    expect(setAcl('/a', OPEN)).toBe(ErrorCode.noAuth);
    expect(setAcl('/a', OPEN, -1, { id: SESSION, authIds: [{ scheme: 'super', id: '' }] })).toBe(0);
    expect(setAcl('/a', OPEN, 0)).toBe(ErrorCode.badVersion);
    expect(setAcl('/a', OPEN, 1)).toBe(0);
  });

  it('undecodable bodies give MarshallingError and still use a zxid', () => {
    const h = new Harness();
    const r = h.write(OpCode.create, new JuteDecodeError('truncated'));
    expect(r.result.err).toBe(ErrorCode.marshallingError);
    expect(h.db.lastProcessedZxid).toBe(r.txn.zxid);
  });
});
