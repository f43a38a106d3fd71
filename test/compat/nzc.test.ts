/**
 * node-zookeeper-client 1.1.3: a 3.4-era client (ConnectRequest WITHOUT the readOnly byte, xids from
 * 0, SetWatches on reconnect). CRUD, stat fields, watches, multi, ACLs, and a reconnect through a proxy.
 */
import { createHash } from 'crypto';
import * as zk from 'node-zookeeper-client';
import { compatTargets, startServer, TestServer } from '../harness/servers';
import { Proxy, startProxy } from '../harness/proxy';

type Client = zk.Client;

function connect(connectString: string, digestAuth?: string): Promise<Client> {
  const c = zk.createClient(connectString, { sessionTimeout: 10000, spinDelay: 100, retries: 0 });
  // Credentials given before connect() go out with the handshake (nzc pipelines them).
  if (digestAuth) c.addAuthInfo('digest', Buffer.from(digestAuth));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('nzc connect timeout')), 10000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

const code = (e: unknown): number => (e as zk.ZkError).getCode();

/** Promise wrappers; each rejects with the ZkError (assert with code()). */
const p = {
  create: (c: Client, path: string, data: Buffer | null = null, mode = 0, acls = zk.ACL.OPEN_ACL_UNSAFE) =>
    new Promise<string>((res, rej) => c.create(path, data, acls, mode, (e, r) => (e ? rej(e) : res(r)))),
  remove: (c: Client, path: string, version = -1) =>
    new Promise<void>((res, rej) => c.remove(path, version, (e) => (e ? rej(e) : res()))),
  setData: (c: Client, path: string, data: Buffer, version = -1) =>
    new Promise<zk.Stat>((res, rej) => c.setData(path, data, version, (e, s) => (e ? rej(e) : res(s)))),
  getData: (c: Client, path: string, w?: (e: zk.Event) => void) =>
    new Promise<[Buffer, zk.Stat]>((res, rej) => c.getData(path, w, (e, d, s) => (e ? rej(e) : res([d, s])))),
  exists: (c: Client, path: string, w?: (e: zk.Event) => void) =>
    new Promise<zk.Stat | null>((res, rej) => c.exists(path, w, (e, s) => (e ? rej(e) : res(s)))),
  children: (c: Client, path: string, w?: (e: zk.Event) => void) =>
    new Promise<string[]>((res, rej) => c.getChildren(path, w, (e, ch) => (e ? rej(e) : res(ch)))),
  getACL: (c: Client, path: string) =>
    new Promise<zk.ACL[]>((res, rej) => c.getACL(path, (e, a) => (e ? rej(e) : res(a)))),
  commit: (t: zk.Transaction) =>
    new Promise<{ error: zk.ZkError | null; results: zk.OpResult[] }>((res) => t.commit((error, results) => res({ error, results }))),
};

const zxid = (b: Buffer): bigint => b.readBigInt64BE(0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects watcher events; `next()` waits for one. */
function eventQueue() {
  const events: zk.Event[] = [];
  return {
    events,
    watcher: (e: zk.Event) => void events.push(e),
    async waitFor(n: number, ms = 5000): Promise<zk.Event[]> {
      const end = Date.now() + ms;
      while (events.length < n && Date.now() < end) await sleep(20);
      return events.slice();
    },
  };
}

describe.each(compatTargets())('node-zookeeper-client against %s', (kind) => {
  let server: TestServer;
  let a: Client;
  let b: Client;

  beforeAll(async () => {
    server = await startServer(kind);
    a = await connect(server.connectString);
    b = await connect(server.connectString);
  });
  afterAll(async () => {
    a?.close();
    b?.close();
    await sleep(100);
    await server?.stop();
  });

  test('CRUD, stat fields and error codes', async () => {
    expect(await p.create(a, '/crud', Buffer.from('v0'))).toBe('/crud');
    await expect(p.create(a, '/crud')).rejects.toMatchObject({ code: zk.Exception.NODE_EXISTS });
    await expect(p.create(a, '/nope/child')).rejects.toMatchObject({ code: zk.Exception.NO_NODE });

    const [data, st] = await p.getData(a, '/crud');
    expect(data.toString()).toBe('v0');
    expect(st.version).toBe(0);
    expect(st.dataLength).toBe(2);
    expect(st.numChildren).toBe(0);
    expect(zxid(st.czxid)).toBe(zxid(st.mzxid));
    expect(zxid(st.pzxid)).toBe(zxid(st.czxid));
    expect(zxid(st.ephemeralOwner)).toBe(0n);
    expect(st.ctime.readBigInt64BE(0)).toBe(st.mtime.readBigInt64BE(0));

    const st2 = await p.setData(a, '/crud', Buffer.from('v1'), 0);
    expect(st2.version).toBe(1);
    expect(zxid(st2.mzxid)).toBeGreaterThan(zxid(st.mzxid));
    await expect(p.setData(a, '/crud', Buffer.from('x'), 0)).rejects.toMatchObject({ code: zk.Exception.BAD_VERSION });

    await p.create(a, '/crud/k1');
    await p.create(a, '/crud/k2');
    const parent = (await p.exists(a, '/crud'))!;
    expect(parent.numChildren).toBe(2);
    expect(parent.cversion).toBe(2);
    expect((await p.children(b, '/crud')).sort()).toEqual(['k1', 'k2']);
    await expect(p.remove(a, '/crud')).rejects.toMatchObject({ code: zk.Exception.NOT_EMPTY });
    await expect(p.remove(a, '/crud/k1', 5)).rejects.toMatchObject({ code: zk.Exception.BAD_VERSION });
    await p.remove(a, '/crud/k1', 0);
    await p.remove(a, '/crud/k2');
    const after = (await p.exists(a, '/crud'))!;
    expect(after.numChildren).toBe(0);
    // cversion counts both creations and deletions of children.
    expect(after.cversion).toBe(4);
    await p.remove(a, '/crud');
    expect(await p.exists(b, '/crud')).toBeNull();
    await expect(p.getData(b, '/crud')).rejects.toMatchObject({ code: zk.Exception.NO_NODE });
  });

  test('empty vs null data', async () => {
    await p.create(a, '/empty', Buffer.alloc(0));
    await p.create(a, '/null', null);
    const [d1, s1] = await p.getData(a, '/empty');
    const [, s2] = await p.getData(a, '/null');
    expect(d1 === null || d1.length === 0).toBe(true);
    expect(s1.dataLength).toBe(0);
    expect(s2.dataLength).toBe(0);
  });

  test('ephemeral and sequential nodes', async () => {
    await p.create(a, '/seqs');
    const s1 = await p.create(a, '/seqs/n-', Buffer.from('1'), zk.CreateMode.PERSISTENT_SEQUENTIAL);
    const s2 = await p.create(a, '/seqs/n-', Buffer.from('2'), zk.CreateMode.PERSISTENT_SEQUENTIAL);
    expect(s1).toBe('/seqs/n-0000000000');
    expect(s2).toBe('/seqs/n-0000000001');

    const c = await connect(server.connectString);
    const e = await p.create(c, '/seqs/e-', null, zk.CreateMode.EPHEMERAL_SEQUENTIAL);
    expect(e).toBe('/seqs/e-0000000002');
    const st = (await p.exists(a, e))!;
    expect(zxid(st.ephemeralOwner)).toBe(c.getSessionId().readBigInt64BE(0));
    await expect(p.create(a, `${e}/child`)).rejects.toMatchObject({ code: -108 }); // NoChildrenForEphemerals
    c.close();
    const deadline = Date.now() + 5000;
    while ((await p.exists(a, e)) !== null && Date.now() < deadline) await sleep(50);
    expect(await p.exists(a, e)).toBeNull();
  });

  test('watches: one-shot data, children, exists and delete events', async () => {
    await p.create(a, '/w');
    const data = eventQueue();
    await p.getData(b, '/w', data.watcher);
    await p.setData(a, '/w', Buffer.from('1'));
    await p.setData(a, '/w', Buffer.from('2')); // one-shot: no second event
    const ev = await data.waitFor(1);
    await sleep(200);
    expect(data.events.map((e) => [e.getType(), e.getPath()])).toEqual([[zk.Event.NODE_DATA_CHANGED, '/w']]);
    expect(ev[0].getName()).toBe('NODE_DATA_CHANGED');

    const kids = eventQueue();
    await p.children(b, '/w', kids.watcher);
    await p.create(a, '/w/c');
    expect((await kids.waitFor(1)).map((e) => [e.getType(), e.getPath()])).toEqual([[zk.Event.NODE_CHILDREN_CHANGED, '/w']]);

    const created = eventQueue();
    expect(await p.exists(b, '/w/new', created.watcher)).toBeNull();
    await p.create(a, '/w/new');
    expect((await created.waitFor(1)).map((e) => e.getType())).toEqual([zk.Event.NODE_CREATED]);

    const deleted = eventQueue();
    await p.exists(b, '/w/new', deleted.watcher);
    await p.remove(a, '/w/new');
    expect((await deleted.waitFor(1)).map((e) => e.getType())).toEqual([zk.Event.NODE_DELETED]);

    // A failed write fires nothing.
    const quiet = eventQueue();
    await p.getData(b, '/w', quiet.watcher);
    await expect(p.setData(a, '/w', Buffer.from('x'), 42)).rejects.toMatchObject({ code: zk.Exception.BAD_VERSION });
    await sleep(200);
    expect(quiet.events).toEqual([]);
  });

  test('multi: all-or-nothing, per-op results', async () => {
    const ok = await p.commit(
      a.transaction().create('/tx', Buffer.from('t')).create('/tx/a').setData('/tx', Buffer.from('u'), 0).check('/tx', 1).remove('/tx/a', 0),
    );
    expect(ok.error).toBeNull();
    expect(ok.results.map((r) => r.type)).toEqual([1, 1, 5, 13, 2]);
    expect(ok.results[0].path).toBe('/tx');
    expect(ok.results[2].stat!.version).toBe(1);

    const bad = await p.commit(
      a.transaction().create('/tx/b').setData('/tx', Buffer.from('v'), 99).create('/tx/c'),
    );
    expect(code(bad.error)).toBe(zk.Exception.BAD_VERSION);
    // Error results: ops before the failure report 0, the failing op its code, later ops -2.
    expect(bad.results.map((r) => [r.type, r.err])).toEqual([
      [-1, 0],
      [-1, -103],
      [-1, -2],
    ]);
    expect(await p.exists(a, '/tx/b')).toBeNull();
    const [d] = await p.getData(a, '/tx');
    expect(d.toString()).toBe('u');
  });

  test('ACLs and digest auth', async () => {
    const digest = createHash('sha1').update('bob:pw').digest('base64');
    const acl = [new zk.ACL(zk.Permission.ALL, new zk.Id('digest', `bob:${digest}`))];
    await p.create(a, '/acl', Buffer.from('secret'), 0, acl);
    // getACL needs READ or ADMIN since ZOOKEEPER-1392 (3.8 enforces it).
    await expect(p.getACL(b, '/acl')).rejects.toMatchObject({ code: zk.Exception.NO_AUTH });
    await expect(p.getData(b, '/acl')).rejects.toMatchObject({ code: zk.Exception.NO_AUTH });

    const c = await connect(server.connectString, 'bob:pw');
    const got = await p.getACL(c, '/acl');
    expect(got.map((x) => [x.permission, x.id.scheme, x.id.id])).toEqual([[31, 'digest', `bob:${digest}`]]);
    const [d] = await p.getData(c, '/acl');
    expect(d.toString()).toBe('secret');
    await expect(p.create(a, '/bad-acl', null, 0, [new zk.ACL(31, new zk.Id('nosuch', 'x'))])).rejects.toMatchObject({
      code: -114, // InvalidACL
    });
    c.close();
  });

  describe('through a proxy', () => {
    let proxy: Proxy;
    beforeAll(async () => {
      proxy = await startProxy(server.port);
    });
    afterAll(async () => {
      await proxy?.close();
    });

    test('handshake has no readOnly byte; session and watches survive a cut connection', async () => {
      const c = await connect(`127.0.0.1:${proxy.port}`);
      const first = proxy.frames.find((f) => f.direction === 'client')!;
      expect(first.data.readInt32BE(0)).toBe(44); // 4+8+4+8+(4+16): no readOnly byte
      const reply = proxy.frames.find((f) => f.direction === 'server')!;
      expect(reply.data.readInt32BE(0)).toBe(36);

      const sid = c.getSessionId().toString('hex');
      await p.create(a, '/proxied');
      const q = eventQueue();
      await p.getData(c, '/proxied', q.watcher);
      const disconnected = new Promise<void>((r) => c.once('disconnected', () => r()));
      const reconnected = new Promise<void>((r) => c.once('connected', () => r()));
      proxy.cutAll();
      await disconnected;
      await reconnected;
      expect(c.getSessionId().toString('hex')).toBe(sid);
      await p.setData(a, '/proxied', Buffer.from('after'));
      const got = (await q.waitFor(1)).map((e) => [e.getType(), e.getPath()]);
      if (got.length === 0) {
        // Diagnostics: the proxied frames show what the server did with nzc's SetWatches.
        for (const f of proxy.frames) process.stderr.write(`${f.conn} ${f.direction} ${f.data.toString('hex')}\n`);
      }
      expect(got).toEqual([[zk.Event.NODE_DATA_CHANGED, '/proxied']]);
      c.close();
    });
  });
});
