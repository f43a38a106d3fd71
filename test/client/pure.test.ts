/**
 * Proves the client's pure pieces: connect-string parsing, chroot path mapping, host shuffling,
 * SetWatches batching and the bounded event stream's overflow policies.
 */
import fc from 'fast-check';
import { fromServerPath, parseConnectString, selfAndAncestors, shuffled, toServerPath } from '../../src/client/connectString';
import { BoundedStream } from '../../src/client/stream';
import { batchWatches } from '../../src/client/client';
import { PersistentWatch, WatchRegistry } from '../../src/client/watches';

describe('connect string', () => {
  test('hosts, default port, IPv6 and chroot', () => {
    expect(parseConnectString('a:1,b:2/app/x')).toEqual({ hosts: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }], chroot: '/app/x' });
    expect(parseConnectString('zk')).toEqual({ hosts: [{ host: 'zk', port: 2181 }], chroot: '' });
    expect(parseConnectString('[::1]:2182,h/')).toEqual({ hosts: [{ host: '::1', port: 2182 }, { host: 'h', port: 2181 }], chroot: '' });
    expect(() => parseConnectString('/only')).toThrow();
    expect(() => parseConnectString('a:1/app/')).toThrow();
    expect(() => parseConnectString('a:99999')).toThrow();
  });

  test('chroot mapping round-trips and strips exactly the chroot', () => {
    const seg = fc.stringMatching(/^[a-z0-9]{1,5}$/);
    const path = fc.array(seg, { maxLength: 4 }).map((s) => '/' + s.join('/'));
    const chroot = fc.array(seg, { minLength: 1, maxLength: 3 }).map((s) => '/' + s.join('/'));
    fc.assert(
      fc.property(chroot, path, (c, p) => {
        const server = toServerPath(c, p);
        expect(server.startsWith(c)).toBe(true);
        expect(fromServerPath(c, server)).toBe(p);
        expect(fromServerPath('', p)).toBe(p);
      }),
    );
    expect(fromServerPath('/app', '/apple')).toBe('/apple');
    expect(selfAndAncestors('/a/b')).toEqual(['/a/b', '/a', '/']);
  });

  test('shuffle is a permutation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 1e6 }), (xs, seed) => {
        let s = seed;
        const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
        expect(shuffled(xs, rnd).sort()).toEqual(xs.slice().sort());
      }),
    );
  });
});

test('SetWatches batching keeps every path and bounds each batch', () => {
  const many = Array.from({ length: 3000 }, (_, i) => `/some/fairly/long/path/number/${i}/${'x'.repeat(50)}`);
  const batches = batchWatches({ dataWatches: many, existWatches: ['/e'], childWatches: many.slice(0, 10) });
  expect(batches.length).toBeGreaterThan(1);
  expect(batches.flatMap((b) => b.dataWatches)).toEqual(many);
  expect(batches.flatMap((b) => b.existWatches)).toEqual(['/e']);
  for (const b of batches) {
    const bytes = [...b.dataWatches, ...b.existWatches, ...b.childWatches].reduce((n, p) => n + p.length + 4, 0);
    expect(bytes).toBeLessThanOrEqual(128 * 1024);
  }
  expect(batchWatches({ a: [], b: [] })).toEqual([]);
});

describe('BoundedStream', () => {
  test('dropOldest keeps the newest items', async () => {
    const s = new BoundedStream<number>(2, 'dropOldest', () => new Error('x'), () => undefined);
    [1, 2, 3, 4].forEach((n) => s.push(n));
    s.end();
    const got: number[] = [];
    for await (const n of s) got.push(n);
    expect(got).toEqual([3, 4]);
    expect(s.dropped).toBe(2);
  });

  test('error policy: buffered items first, then the error once, then done', async () => {
    let ended = 0;
    const s = new BoundedStream<number>(1, 'error', () => new Error('overflow'), () => ended++);
    s.push(1);
    s.push(2);
    expect(ended).toBe(1);
    expect(await s.next()).toEqual({ value: 1, done: false });
    await expect(s.next()).rejects.toThrow('overflow');
    expect((await s.next()).done).toBe(true);
  });

  test('a waiting consumer gets pushes directly; return() ends it', async () => {
    const s = new BoundedStream<string>(1, 'error', () => new Error('x'), () => undefined);
    const p = s.next();
    s.push('a');
    expect(await p).toEqual({ value: 'a', done: false });
    const q = s.next();
    await s.return();
    expect((await q).done).toBe(true);
  });
});

describe('WatchRegistry fan-out (no sockets)', () => {
  const T = { created: 1, deleted: 2, changed: 3, children: 4 } as const;
  const ev = (type: number, path: string) => ({ type, state: 3, path, zxid: 5n });
  const noDetach = async () => undefined;
  const chroot = (p: string) => (p.startsWith('/app') ? p.slice(4) || '/' : p);

  test('one-shot tables fire once, per ZooKeeper trigger rules, with the chroot stripped', async () => {
    const reg = new WatchRegistry(chroot);
    const data = reg.addOneShot('data', '/app/a');
    const exist = reg.addOneShot('exist', '/app/b');
    const child = reg.addOneShot('child', '/app/a');
    reg.dispatch(ev(T.children, '/app/a'), true);
    expect(await child).toMatchObject({ type: 'nodeChildrenChanged', path: '/a', zxid: 5n });
    reg.dispatch(ev(T.created, '/app/b'), true);
    expect(await exist).toMatchObject({ type: 'nodeCreated', path: '/b' });
    const child2 = reg.addOneShot('child', '/app/a');
    reg.dispatch(ev(T.deleted, '/app/a'), true);
    expect((await data).type).toBe('nodeDeleted');
    expect((await child2).type).toBe('nodeDeleted');
    expect(reg.has('/app/a')).toBe(false);
    expect(reg.setWatchesLists()).toEqual({ dataWatches: [], existWatches: [], childWatches: [], persistentWatches: [], persistentRecursiveWatches: [] });
  });

  test('recursive watches match ancestors but never NodeChildrenChanged; catch-ups skip persistent', async () => {
    const reg = new WatchRegistry((p) => p);
    const rec = new PersistentWatch('/', 'persistentRecursive', 10, 'error', noDetach);
    const per = new PersistentWatch('/a', 'persistent', 10, 'error', noDetach);
    reg.addPersistent('/', rec);
    reg.addPersistent('/a', per);
    reg.dispatch(ev(T.created, '/a/b'), true);
    reg.dispatch(ev(T.children, '/a'), true);
    reg.dispatch(ev(T.changed, '/a'), false); // a SetWatches catch-up
    reg.dispatch(ev(T.changed, '/a'), true);
    reg.dispatch(ev(99, '/a'), true); // unknown type: ignored
    rec.stream.end();
    per.stream.end();
    const r: string[] = [];
    for await (const e of rec) r.push(`${e.type} ${e.path}`);
    const p: string[] = [];
    for await (const e of per) p.push(`${e.type} ${e.path}`);
    expect(r).toEqual(['nodeCreated /a/b', 'nodeDataChanged /a']);
    expect(p).toEqual(['nodeChildrenChanged /a', 'nodeDataChanged /a']);
  });

  test('removeLocal, lost and close end watches with events instead of rejections', async () => {
    const reg = new WatchRegistry((p) => p);
    const d = reg.addOneShot('data', '/x');
    const c = reg.addOneShot('child', '/x');
    reg.removeLocal('/x', 'data');
    expect((await d).type).toBe('dataWatchRemoved');
    expect(reg.has('/x')).toBe(true);
    reg.endOneShots('expired');
    expect(await c).toEqual({ type: 'none', state: 'expired', path: '/x' });
    const w = new PersistentWatch('/y', 'persistent', 10, 'error', noDetach);
    reg.addPersistent('/y', w);
    expect(reg.deletePersistent('/y', w)).toBe(true);
    reg.addPersistent('/y', w);
    reg.notifyPersistent('disconnected');
    reg.closeAll();
    const got: string[] = [];
    for await (const e of w) got.push(`${e.type}:${e.state}`);
    expect(got).toEqual(['none:disconnected']);
  });
});
