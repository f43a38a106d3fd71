import { AddWatchMode, ErrorCode, EventType, OpCode, Perms, Xid } from '../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE, type ACL } from '../../protocol/jute/data';
import { writeAddWatchRequest, writeAuthPacket, writeSetWatches2 } from '../../protocol/jute/records';
import { generateDigest } from '../../src/acl';
import { requests as rq } from '../../src/client/requests';
import type { Notification, WireConnection } from '../../src/client/wire';
import { startInProc, type InProcServer } from '../harness/inproc';

/**
 * No watch reveals a node its watcher may not READ (ZooKeeper >= 3.8.4, CVE-2024-23944): one-shot,
 * persistent and recursive watches, and the events a setWatches replay fires on reconnect.
 */

const NAMES: Record<number, string> = {
  [EventType.nodeCreated]: 'created',
  [EventType.nodeDeleted]: 'deleted',
  [EventType.nodeDataChanged]: 'changed',
  [EventType.nodeChildrenChanged]: 'children',
};

/** world:anyone with everything but READ, as Apache's PersistentWatcherACLTest uses. */
const NO_READ: ACL[] = [{ perms: Perms.all & ~Perms.read, id: { scheme: 'world', id: 'anyone' } }];
const ALICE = generateDigest('alice:secret');
const ALICE_ONLY: ACL[] = [{ perms: Perms.all, id: { scheme: 'digest', id: ALICE } }];

/** Collects a connection's notifications as `type path` strings. */
function recorder(c: WireConnection): { seen: string[]; next: (match: string) => Promise<void> } {
  const seen: string[] = [];
  const waiters: { match: string; resolve: () => void }[] = [];
  c.on('notification', (n: Notification) => {
    const line = `${NAMES[n.type] ?? n.type} ${n.path}`;
    seen.push(line);
    for (const w of waiters.splice(0)) {
      if (w.match === line) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    seen,
    next: (match) =>
      seen.includes(match)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`no '${match}' notification within 10 s; saw ${JSON.stringify(seen)}`)), 10_000);
            waiters.push({ match, resolve: () => (clearTimeout(t), resolve()) });
          }),
  };
}

async function addWatch(c: WireConnection, path: string, mode: number): Promise<void> {
  const r = await c.request(OpCode.addWatch, (w) => writeAddWatchRequest(w, { path, mode }));
  expect(r.err).toBe(ErrorCode.ok);
}

async function addAuth(c: WireConnection, idPassword: string): Promise<void> {
  const r = await c.request(OpCode.auth, (w) => writeAuthPacket(w, { type: 0, scheme: 'digest', auth: Buffer.from(idPassword) }), undefined, Xid.auth);
  expect(r.err).toBe(ErrorCode.ok);
}

describe('watch notifications are filtered by READ on the node', () => {
  let srv: InProcServer;
  let writer: WireConnection;
  let n = 0;

  beforeAll(async () => {
    srv = await startInProc({ superDigest: generateDigest('super:adminpw') });
    writer = await srv.connect();
    await addAuth(writer, 'alice:secret');
  });
  afterAll(async () => {
    writer.close();
    await srv.stop();
  });

  /**
   * A watcher that also holds a persistent watch on its own public marker node. Notifications reach
   * a connection in commit order, so once the marker's event arrives every event of the writes
   * before it has arrived too: "nothing was delivered" is observed without sleeping.
   */
  async function watcher(auth?: string) {
    const c = await srv.connect();
    if (auth) await addAuth(c, auth);
    const marker = `/marker-${++n}`;
    expect((await rq.create(writer, marker, null)).err).toBe(0);
    await addWatch(c, marker, AddWatchMode.persistent);
    const rec = recorder(c);
    let round = 0;
    return {
      c,
      rec,
      /** Every event delivered since the last settle, markers left out. */
      async settle(): Promise<string[]> {
        expect((await rq.setData(writer, marker, Buffer.from(String(++round)))).err).toBe(0);
        await rec.next(`changed ${marker}`);
        const out = rec.seen.splice(0).filter((l) => !l.endsWith(marker));
        return out;
      },
    };
  }

  /**
   * ZooKeeper's PersistentWatcherACLTest truth table (3.8.4): /a, /a/b, /a/b/c readable or not, a
   * watch on a path, and for every write the event the watcher gets (or none). Nodes are written by
   * another session; the watcher holds no ids but its ip.
   */
  type Step = [op: 'create' | 'set' | 'delete', path: string, expect?: string];
  const rounds: [name: string, allow: [boolean, boolean?, boolean?], target: string, mode: number, steps: Step[]][] = [
    ['a denied, b not watched (persistent)', [false, true], '/a', AddWatchMode.persistent, [['set', '/a'], ['create', '/a/b'], ['set', '/a/b'], ['delete', '/a/b'], ['delete', '/a']]],
    ['a and b denied (persistent)', [false, false], '/a', AddWatchMode.persistent, [['set', '/a'], ['create', '/a/b'], ['delete', '/a/b'], ['delete', '/a']]],
    ['a allowed: its changes and children changes seen (persistent)', [true, false], '/a', AddWatchMode.persistent, [
      ['create', '/a', 'created /a'], ['set', '/a', 'changed /a'], ['create', '/a/b', 'children /a'], ['set', '/a/b'], ['delete', '/a/b', 'children /a'], ['delete', '/a', 'deleted /a'],
    ]],
    ['a denied, b allowed (recursive)', [false, true], '/a', AddWatchMode.persistentRecursive, [
      ['set', '/a'], ['create', '/a/b', 'created /a/b'], ['set', '/a/b', 'changed /a/b'], ['delete', '/a/b', 'deleted /a/b'], ['delete', '/a'],
    ]],
    ['a and b denied (recursive)', [false, false], '/a', AddWatchMode.persistentRecursive, [['set', '/a'], ['create', '/a/b'], ['set', '/a/b'], ['delete', '/a/b'], ['delete', '/a']]],
    ['all denied (recursive)', [false, false, false], '/a', AddWatchMode.persistentRecursive, [
      ['create', '/a/b'], ['set', '/a/b'], ['create', '/a/b/c'], ['set', '/a/b/c'], ['delete', '/a/b/c'], ['delete', '/a/b'],
    ]],
    ['a denied, b and c allowed (recursive)', [false, true, true], '/a', AddWatchMode.persistentRecursive, [
      ['create', '/a/b', 'created /a/b'], ['set', '/a/b', 'changed /a/b'], ['create', '/a/b/c', 'created /a/b/c'], ['set', '/a/b/c', 'changed /a/b/c'],
      ['delete', '/a/b/c', 'deleted /a/b/c'], ['delete', '/a/b', 'deleted /a/b'],
    ]],
    ['a denied, b allowed, c denied (recursive)', [false, true, false], '/a', AddWatchMode.persistentRecursive, [
      ['create', '/a/b', 'created /a/b'], ['set', '/a/b', 'changed /a/b'], ['create', '/a/b/c'], ['set', '/a/b/c'], ['delete', '/a/b/c'], ['delete', '/a/b', 'deleted /a/b'],
    ]],
    ['the watch is on c, c denied (recursive)', [false, true, false], '/a/b/c', AddWatchMode.persistentRecursive, [
      ['create', '/a/b'], ['set', '/a/b'], ['create', '/a/b/c'], ['set', '/a/b/c'], ['delete', '/a/b/c'], ['delete', '/a/b'],
    ]],
    ['the watch is on c, b and c allowed (recursive)', [false, true, true], '/a/b/c', AddWatchMode.persistentRecursive, [
      ['create', '/a/b'], ['set', '/a/b'], ['create', '/a/b/c', 'created /a/b/c'], ['set', '/a/b/c', 'changed /a/b/c'], ['delete', '/a/b/c', 'deleted /a/b/c'], ['delete', '/a/b'],
    ]],
  ];

  test.each(rounds)('%s', async (_name, allow, target, mode, steps) => {
    const aclFor = (path: string): ACL[] => {
      const depth = path.split('/').length - 2;
      return allow[depth] === false ? NO_READ : [...OPEN_ACL_UNSAFE];
    };
    const root = `/r${++n}`;
    expect((await rq.create(writer, root, null)).err).toBe(0);
    const w = await watcher();
    if (steps[0][0] !== 'create' || steps[0][1] !== '/a') expect((await rq.create(writer, `${root}/a`, null, 0, aclFor('/a'))).err).toBe(0);
    await addWatch(w.c, root + target, mode);
    for (const [op, path, expected] of steps) {
      const p = root + path;
      const r = op === 'create' ? await rq.create(writer, p, null, 0, aclFor(path)) : op === 'set' ? await rq.setData(writer, p, Buffer.from('x')) : await rq.delete(writer, p);
      expect(r.err).toBe(ErrorCode.ok);
      const got = await w.settle();
      expect({ step: `${op} ${path}`, got }).toEqual({ step: `${op} ${path}`, got: expected ? [expected.replace(' /', ` ${root}/`)] : [] });
    }
    w.c.close();
  });

  test('an unauthenticated recursive watcher on / sees public changes and nothing under a protected node', async () => {
    const anon = await watcher();
    const alice = await watcher('alice:secret');
    await addWatch(anon.c, '/', AddWatchMode.persistentRecursive);
    await addWatch(alice.c, '/', AddWatchMode.persistentRecursive);
    const secret = `/secret${++n}`;
    const writes: [string, () => Promise<{ err: number }>][] = [
      ['create public', () => rq.create(writer, `/public${n}`, Buffer.from('p'))],
      ['create protected', () => rq.create(writer, secret, null, 0, ALICE_ONLY)],
      ['create under protected', () => rq.create(writer, `${secret}/new-user-carol-password-hunter2`, Buffer.from('hunter2'), 0, ALICE_ONLY)],
      ['setData protected', () => rq.setData(writer, `${secret}/new-user-carol-password-hunter2`, Buffer.from('hunter3'))],
      ['setData public', () => rq.setData(writer, `/public${n}`, Buffer.from('q'))],
      ['delete protected', () => rq.delete(writer, `${secret}/new-user-carol-password-hunter2`)],
      ['delete public', () => rq.delete(writer, `/public${n}`)],
    ];
    for (const [what, write] of writes) expect([what, (await write()).err]).toEqual([what, 0]);
    const anonSaw = await anon.settle();
    const aliceSaw = (await alice.settle()).filter((l) => !l.includes('/marker-'));
    expect(anonSaw).toEqual([`created /public${n}`, `changed /public${n}`, `deleted /public${n}`]);
    expect(anonSaw.join()).not.toContain('secret');
    // The owner of the ids sees everything, so the filter is the ACL, not the path.
    expect(aliceSaw).toEqual([
      `created /public${n}`, `created ${secret}`, `created ${secret}/new-user-carol-password-hunter2`, `changed ${secret}/new-user-carol-password-hunter2`,
      `changed /public${n}`, `deleted ${secret}/new-user-carol-password-hunter2`, `deleted /public${n}`,
    ]);
    anon.c.close();
    alice.c.close();
  });

  test('one-shot watches: a watch set while readable is filtered once the ACL takes READ away, and used up', async () => {
    const w = await watcher();
    const p = `/oneshot${++n}`;
    expect((await rq.create(writer, p, null)).err).toBe(0);
    expect((await rq.create(writer, `${p}/kid`, null)).err).toBe(0);
    expect((await rq.getData(w.c, p, true)).err).toBe(0);
    expect((await rq.getChildren(w.c, p, true)).err).toBe(0);
    // An exist watch on a missing protected path: its creation must not be revealed.
    expect((await rq.exists(w.c, `${p}/hidden`, true)).err).toBe(ErrorCode.noNode);
    expect((await rq.setACL(writer, p, ALICE_ONLY)).err).toBe(0);
    expect((await rq.create(writer, `${p}/hidden`, null, 0, ALICE_ONLY)).err).toBe(0);
    expect((await rq.setData(writer, p, Buffer.from('x'))).err).toBe(0);
    expect(await w.settle()).toEqual([]);
    // Used up: READ given back, a second change is not delivered on the old watches either.
    expect((await rq.setACL(writer, p, OPEN_ACL_UNSAFE)).err).toBe(0);
    expect((await rq.setData(writer, p, Buffer.from('y'))).err).toBe(0);
    expect(await w.settle()).toEqual([]);
    w.c.close();
  });

  test('exists on a node the caller may not read is NoAuth and leaves no watch (ZOOKEEPER-2590)', async () => {
    const w = await watcher();
    const p = `/hidden${++n}`;
    expect((await rq.create(writer, p, null, 0, ALICE_ONLY)).err).toBe(0);
    expect((await rq.exists(w.c, p, true)).err).toBe(ErrorCode.noAuth);
    expect((await rq.exists(w.c, `${p}-missing`, false)).err).toBe(ErrorCode.noNode);
    expect((await rq.exists(writer, p, false)).err).toBe(ErrorCode.ok);
    w.c.close();
  });

  test('setWatches replay on reconnect fires only for readable nodes (and NodeDeleted for gone ones)', async () => {
    const base = `/replay${++n}`;
    expect((await rq.create(writer, base, null)).err).toBe(0);
    const paths = { open: `${base}/open`, closed: `${base}/closed`, gone: `${base}/gone` };
    expect((await rq.create(writer, paths.open, Buffer.from('1'))).err).toBe(0);
    expect((await rq.create(writer, paths.closed, Buffer.from('1'), 0, ALICE_ONLY)).err).toBe(0);
    expect((await rq.create(writer, `${paths.open}/k`, null)).err).toBe(0);
    expect((await rq.create(writer, `${paths.closed}/k`, null, 0, ALICE_ONLY)).err).toBe(0);
    const w = await watcher();
    // A client reconnecting with relativeZxid 0 claims watches on all of them: every node changed
    // since, so each claim fires at once, but only where the client may READ.
    const r = await w.c.request(
      OpCode.setWatches2,
      (out) =>
        writeSetWatches2(out, {
          relativeZxid: 0n,
          dataWatches: [paths.open, paths.closed, paths.gone],
          existWatches: [paths.open, paths.closed],
          childWatches: [paths.open, paths.closed, paths.gone],
          persistentWatches: [],
          persistentRecursiveWatches: [],
        }),
      undefined,
      Xid.setWatches,
    );
    expect(r.err).toBe(ErrorCode.ok);
    expect(await w.settle()).toEqual([
      `changed ${paths.open}`, `deleted ${paths.gone}`, `created ${paths.open}`, `children ${paths.open}`, `deleted ${paths.gone}`,
    ]);
    // The claims on the protected node were used up, not re-armed.
    expect((await rq.setData(writer, paths.closed, Buffer.from('2'))).err).toBe(0);
    expect((await rq.delete(writer, `${paths.closed}/k`)).err).toBe(0);
    expect(await w.settle()).toEqual([]);
    w.c.close();
  });

  test('super (DigestAuthenticationProvider.superDigest) sees every event', async () => {
    const w = await watcher('super:adminpw');
    await addWatch(w.c, '/', AddWatchMode.persistentRecursive);
    const p = `/super${++n}`;
    expect((await rq.create(writer, p, null, 0, ALICE_ONLY)).err).toBe(0);
    expect(await w.settle()).toEqual([`created ${p}`]);
    w.c.close();
  });
});
