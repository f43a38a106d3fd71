/**
 * Proves resumable watches end to end on a real server: after a cut connection, session expiry
 * or a restart of the consumer (a new client resuming from the saved position) the watch gets
 * every change made meanwhile exactly once, in order, with zxid, Stat and data; a position older
 * than the server's history yields a `resync` event and the watch goes on live; and against
 * Apache ZooKeeper (which ignores the handshake trailer) the same call is an ordinary watch.
 */
import { compatTargets, isApache } from '../harness/servers';
import { createClient, type PersistentWatch, type WatchedEvent, type ZkClient } from '../../src/client';
import { ClientPool, nextState, proxiedServer, startTarget, take, uniq } from './helpers';

const line = (e: WatchedEvent) => `${e.type} ${e.path}${e.data !== undefined ? ` =${e.data?.toString() ?? 'null'}` : ''}${e.resync ? ' RESYNC' : ''}`;

/** Reads events until `until` matches one (included), bounded. */
async function readUntil(w: PersistentWatch, until: (e: WatchedEvent) => boolean, timeoutMs = 20_000): Promise<WatchedEvent[]> {
  const it = w[Symbol.asyncIterator]();
  const out: WatchedEvent[] = [];
  for (;;) {
    const [e] = await take(it, 1, timeoutMs);
    if (!e) throw new Error(`watch ended after ${out.map(line).join(', ')}`);
    out.push(e);
    if (until(e)) return out;
  }
}

const changesOnly = (evs: WatchedEvent[]) => evs.filter((e) => e.type !== 'none' || e.resync);

describe('resumable watches on zabkeeper', () => {
  const ctx = proxiedServer({ server: { watchHistory: { maxEvents: 64 } } });

  test('a cut connection loses and repeats nothing; events carry zxid, Stat, data and position', async () => {
    const base = uniq('rw');
    await ctx.direct.create(base);
    const c = await ctx.pool.open(`127.0.0.1:${ctx.proxy.port}`);
    const w = await c.addWatch(base, { resumable: true, includeData: true });
    expect(w.resumable).toBe(true);
    await ctx.direct.create(`${base}/a`, '1');
    ctx.proxy.pause();
    ctx.proxy.cutAll();
    await nextState(c, 'suspended');
    // While cut off: a multi with two events in one txn, a delete, a change.
    await ctx.direct.transaction().create(`${base}/b`, 'x').setData(`${base}/b`, 'y').commit();
    await ctx.direct.delete(`${base}/a`);
    await ctx.direct.setData(base, 'root');
    ctx.proxy.resume();
    const evs = await readUntil(w, (e) => e.type === 'none' && e.state === 'syncConnected');
    await ctx.direct.create(`${base}/after`, 'live');
    evs.push(...(await readUntil(w, (e) => e.path === `${base}/after`)));
    expect(evs.map(line)).toEqual([
      `nodeCreated ${base}/a =1`,
      'none ' + base, // disconnected
      `nodeCreated ${base}/b =y`, // data as of the end of the txn
      `nodeDataChanged ${base}/b =y`,
      `nodeDeleted ${base}/a`,
      `nodeDataChanged ${base} =root`,
      'none ' + base, // caught up and live again
      `nodeCreated ${base}/after =live`,
    ]);
    expect(evs.filter((e) => e.type === 'none').map((e) => e.state)).toEqual(['disconnected', 'syncConnected']);
    const b = evs.filter((e) => e.path === `${base}/b`);
    expect(b[0]!.zxid).toBe(b[1]!.zxid);
    expect([b[0]!.position?.seen, b[1]!.position?.seen]).toEqual([1, 2]);
    expect(b[1]!.stat?.version).toBe(1);
    const zxids = evs.filter((e) => e.zxid !== undefined).map((e) => e.zxid!);
    expect([...zxids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(zxids);
    await w.close();
  });

  test('session expiry: the new session resumes where the old one stopped', async () => {
    const base = uniq('rw-exp');
    await ctx.direct.create(base);
    const c = await ctx.pool.open(ctx.server.connectString);
    const w = await c.addWatch(base, { mode: 'persistent', resumable: true });
    const lost = nextState(c, 'lost');
    await ctx.server.expireSession(c.sessionId);
    await lost;
    await ctx.direct.setData(base, 'during');
    await ctx.direct.create(`${base}/kid`);
    const evs = changesOnly(await readUntil(w, (e) => e.type === 'nodeChildrenChanged'));
    expect(evs.map(line)).toEqual([`nodeDataChanged ${base}`, `nodeChildrenChanged ${base}`]);
    await w.close();
  });

  test('a restarted consumer resumes from its saved position, mid-txn included', async () => {
    const base = uniq('rw-restart');
    await ctx.direct.create(base);
    const first = await createClient(ctx.server.connectString);
    const w = await first.addWatch(base, { resumable: true, includeData: true });
    await ctx.direct.transaction().create(`${base}/1`, 'a').create(`${base}/2`, 'b').create(`${base}/3`, 'c').commit();
    const [one] = await readUntil(w, () => true);
    const saved = one!.position!; // processed 1 of the txn's 3 events, then "crashed"
    expect(saved.seen).toBe(1);
    await first.close();
    await ctx.direct.setData(`${base}/1`, 'a2');
    const second = await ctx.pool.open(ctx.server.connectString);
    const resumed = await second.addWatch(base, { from: { zxid: BigInt(String(saved.zxid)), seen: saved.seen }, includeData: true });
    const evs = await readUntil(resumed, (e) => e.type === 'nodeDataChanged');
    expect(evs.map(line)).toEqual([`nodeCreated ${base}/2 =b`, `nodeCreated ${base}/3 =c`, `nodeDataChanged ${base}/1 =a2`]);
    // Nothing buffered: the position is the caught-up point, and resuming from it replays nothing.
    await second.sync('/');
    const again = await second.addWatch(base, { from: resumed.position! });
    await ctx.direct.create(`${base}/marker`);
    expect((await readUntil(again, () => true)).map(line)).toEqual([`nodeCreated ${base}/marker`]);
    await Promise.all([resumed.close(), again.close()]);
  });

  test('a position older than the history: `resync`, then live', async () => {
    const base = uniq('rw-purged');
    await ctx.direct.create(base);
    const c = await ctx.pool.open(ctx.server.connectString);
    const old = (await ctx.direct.exists(base)).stat!.mzxid;
    for (let i = 0; i < 100; i++) await ctx.direct.setData(base, String(i)); // the history keeps 64 events
    const w = await c.addWatch(base, { from: old });
    await ctx.direct.setData(base, 'now');
    const evs = await readUntil(w, (e) => e.type === 'nodeDataChanged');
    expect(changesOnly(evs).map(line)).toEqual([`none ${base} RESYNC`, `nodeDataChanged ${base}`]);
    await w.close();
  });
});

describe.each(compatTargets().filter(isApache))('resumable watches against %s', (kind) => {
  let srv: Awaited<ReturnType<typeof startTarget>>;
  const pool = new ClientPool();
  beforeAll(async () => {
    srv = await startTarget(kind);
  });
  afterAll(async () => {
    await pool.closeAll();
    await srv?.stop();
  });

  test('degrade to an ordinary watch; a requested past says resync', async () => {
    const c = await pool.open(srv.connectString);
    const base = uniq('rw-apache');
    await c.create(base);
    const w = await c.addWatch(base, { resumable: true, includeData: true });
    expect(w.resumable).toBe(false);
    await c.setData(base, 'x');
    expect((await readUntil(w, () => true)).map((e) => e.type)).toEqual(['nodeDataChanged']);
    const past = await c.addWatch(base, { from: 1n });
    await c.setData(base, 'y');
    expect(changesOnly(await readUntil(past, (e) => e.type === 'nodeDataChanged')).map(line)).toEqual([`none ${base} RESYNC`, `nodeDataChanged ${base}`]);
    await Promise.all([w.close(), past.close()]);
  });
});
