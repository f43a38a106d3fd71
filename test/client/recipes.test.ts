/**
 * Proves each recipe under contention against each target: several clients, and a participant
 * killed mid-hold (its connection cut until its session expires) so that mutual exclusion holds
 * and leadership/locks move on.
 */
import { compatTargets } from '../harness/servers';
import { startProxy, type Proxy } from '../harness/proxy';
import type { ZkClient } from '../../src/client';
import {
  Barrier,
  ConfigWatcher,
  DistributedQueue,
  DoubleBarrier,
  DistributedCounter,
  LeaderElection,
  LeaderLatch,
  Mutex,
  ReadWriteLock,
  Semaphore,
  ServiceDiscovery,
  ServiceRegistry,
  TreeCache,
  leaseRule,
  readRule,
} from '../../src/recipes';
import { ClientPool, eventually, nextState, sleep, startTarget, uniq } from './helpers';

describe('lock rules (pure)', () => {
  test('lease rule: first N hold, others watch N places ahead', () => {
    const sorted = ['a-0000000001', 'b-0000000002', 'c-0000000003'];
    expect(leaseRule(1)(sorted, 'a-0000000001')).toEqual({ acquired: true });
    expect(leaseRule(1)(sorted, 'c-0000000003')).toEqual({ acquired: false, watch: 'b-0000000002' });
    expect(leaseRule(2)(sorted, 'b-0000000002')).toEqual({ acquired: true });
    expect(leaseRule(2)(sorted, 'c-0000000003')).toEqual({ acquired: false, watch: 'a-0000000001' });
  });
  test('read rule: readers share unless a writer is ahead', () => {
    const s = ['x__READ__0000000001', 'y__WRIT__0000000002', 'z__READ__0000000003'];
    expect(readRule(s, 'x__READ__0000000001')).toEqual({ acquired: true });
    expect(readRule(s, 'z__READ__0000000003')).toEqual({ acquired: false, watch: 'y__WRIT__0000000002' });
  });
});

describe.each(compatTargets())('recipes against %s', (kind) => {
  let srv: Awaited<ReturnType<typeof startTarget>>;
  const pool = new ClientPool();
  const proxies: Proxy[] = [];

  beforeAll(async () => {
    srv = await startTarget(kind);
  });
  afterAll(async () => {
    await pool.closeAll();
    await Promise.all(proxies.map((p) => p.close()));
    await srv?.stop();
  });

  const open = (n: number) => Promise.all(Array.from({ length: n }, () => pool.open(srv.connectString)));
  /** A client behind its own proxy, so the test can "kill" it by cutting it off for good. */
  const killable = async (): Promise<{ client: ZkClient; kill(): void }> => {
    const proxy = await startProxy(srv.port);
    proxies.push(proxy);
    const client = await pool.open(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 2000 });
    return {
      client,
      kill: () => {
        proxy.pause();
        proxy.cutAll();
      },
    };
  };

  test('mutex: mutual exclusion under contention', async () => {
    const path = uniq('lock');
    const clients = await open(4);
    let inside = 0;
    let maxInside = 0;
    let entries = 0;
    await Promise.all(
      clients.map(async (c) => {
        const m = new Mutex(c, path);
        for (let i = 0; i < 3; i++) {
          const h = await m.acquire();
          expect(h.path).toMatch(/\/_c_[0-9a-f-]{36}-lock-\d{10}$/);
          inside++;
          entries++;
          maxInside = Math.max(maxInside, inside);
          await sleep(5);
          inside--;
          await h.release();
        }
      }),
    );
    expect(entries).toBe(12);
    expect(maxInside).toBe(1);
    expect((await clients[0]!.getChildren(path)).children).toEqual([]);
  });

  test('mutex: a holder killed mid-hold loses the lock, the next waiter gets it', async () => {
    const path = uniq('lock');
    const victim = await killable();
    const [other] = await open(1);
    const held = await new Mutex(victim.client, path).acquire();
    const timedOut = await new Mutex(other!, path).acquire({ timeoutMs: 300 });
    expect(timedOut).toBeNull();
    const waiter = new Mutex(other!, path).acquire();
    victim.kill();
    const next = await waiter;
    // The victim learns it lost the lock (client-side lost after its session timeout).
    await eventually(() => held.signal.aborted && !held.isHeld);
    expect((await new Mutex(other!, path).participants()).length).toBe(1);
    await next.release();
  });

  test('semaphore: at most maxLeases holders', async () => {
    const path = uniq('sem');
    const clients = await open(4);
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      clients.map(async (c) => {
        const s = new Semaphore(c, path, 2);
        for (let i = 0; i < 2; i++) {
          const h = await s.acquire();
          maxInside = Math.max(maxInside, ++inside);
          await sleep(20);
          inside--;
          await h.release();
        }
      }),
    );
    expect(maxInside).toBeLessThanOrEqual(2);
  });

  test('read-write lock: readers share, writers exclude', async () => {
    const path = uniq('rw');
    const [a, b, c] = await open(3);
    const r1 = await new ReadWriteLock(a!, path).readLock.acquire();
    const r2 = await new ReadWriteLock(b!, path).readLock.acquire({ timeoutMs: 5000 });
    expect(r2).not.toBeNull();
    const w = await new ReadWriteLock(c!, path).writeLock.acquire({ timeoutMs: 300 });
    expect(w).toBeNull();
    const writer = new ReadWriteLock(c!, path).writeLock.acquire();
    await eventually(async () => (await a!.getChildren(path)).children.length === 3);
    // A reader queued behind a writer waits.
    expect(await new ReadWriteLock(a!, path).readLock.acquire({ timeoutMs: 300 })).toBeNull();
    await r1!.release();
    await r2!.release();
    const wh = await writer;
    expect(wh).not.toBeNull();
    await wh!.release();
  });

  test('leader latch: one leader; leadership moves when the leader is killed', async () => {
    const path = uniq('latch');
    const victim = await killable();
    const others = await open(2);
    const first = new LeaderLatch(victim.client, path, { id: 'victim' });
    await first.start();
    expect(await first.await({ timeoutMs: 10_000 })).toBe(true);
    const latches = others.map((c, i) => new LeaderLatch(c, path, { id: `p${i}` }));
    for (const l of latches) await l.start();
    const parts = await latches[0]!.participants();
    expect(parts.map((p) => p.id)).toEqual(['victim', 'p0', 'p1']);
    expect(parts[0]!.path).toMatch(/\/_c_[0-9a-f-]{36}-latch-\d{10}$/);
    expect(latches.some((l) => l.hasLeadership)).toBe(false);
    const lostLeadership = new Promise<void>((r) => first.once('notLeader', () => r()));
    victim.kill();
    await lostLeadership;
    expect(await latches[0]!.await({ timeoutMs: 30_000 })).toBe(true);
    expect(latches[1]!.hasLeadership).toBe(false);
    await latches[0]!.close();
    expect(await latches[1]!.await({ timeoutMs: 30_000 })).toBe(true);
    await latches[1]!.close();
    await first.close();
  });

  test('leader election: leaders take turns, never two at once', async () => {
    const path = uniq('elect');
    const clients = await open(3);
    let leaders = 0;
    let maxLeaders = 0;
    let terms = 0;
    const elections = clients.map(
      (c) =>
        new LeaderElection(c, path, async () => {
          maxLeaders = Math.max(maxLeaders, ++leaders);
          terms++;
          await sleep(20);
          leaders--;
        }),
    );
    for (const e of elections) e.start();
    await eventually(() => terms >= 6);
    await Promise.all(elections.map((e) => e.close()));
    expect(maxLeaders).toBe(1);
  });

  test('counter: concurrent increments all count (CAS on version)', async () => {
    const path = uniq('counter');
    const clients = await open(4);
    await Promise.all(
      clients.map(async (c) => {
        const ctr = new DistributedCounter(c, path);
        for (let i = 0; i < 10; i++) await ctr.increment();
      }),
    );
    const ctr = new DistributedCounter(clients[0]!, path);
    expect(await ctr.get()).toBe(40n);
    expect(await ctr.compareAndSet(39n, 100n)).toBe(false);
    expect(await ctr.compareAndSet(40n, 100n)).toBe(true);
    expect((await ctr.add(-1)).postValue).toBe(99n);
  });

  test('tree cache: mirrors the subtree, and resyncs after a cut', async () => {
    const root = uniq('tree');
    const proxy = await startProxy(srv.port);
    proxies.push(proxy);
    const viewer = await pool.open(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 6000 });
    const [writer] = await open(1);
    await writer!.create(`${root}/a`, '1', { createParents: true });
    const cache = new TreeCache(viewer, root);
    await cache.start();
    expect(cache.get(`${root}/a`)?.data?.toString()).toBe('1');
    await writer!.create(`${root}/a/b`, '2');
    await writer!.setData(`${root}/a`, '3');
    await writer!.create(`${root}/c`);
    await eventually(() => cache.get(`${root}/a`)?.data?.toString() === '3' && cache.get(`${root}/a/b`) && cache.get(`${root}/c`));
    expect(cache.children(root)).toEqual(['a', 'c']);
    await writer!.deleteAll(`${root}/a`);
    await eventually(() => !cache.get(`${root}/a`) && !cache.get(`${root}/a/b`));

    const resynced = new Promise<void>((r) => cache.once('resynced', () => r()));
    proxy.pause();
    proxy.cutAll();
    await nextState(viewer, 'suspended');
    await writer!.create(`${root}/while-away`, 'x');
    await writer!.delete(`${root}/c`);
    proxy.resume();
    await resynced;
    expect(cache.children(root)).toEqual(['while-away']);
    expect(cache.size).toBe(2);
    await cache.close();
  });

  test('config watcher: typed value, hot reload, invalid values ignored', async () => {
    const path = uniq('cfg');
    const [a, b] = await open(2);
    const cfg = new ConfigWatcher<{ level: string }>(a!, path, { defaultValue: { level: 'info' } });
    expect(await cfg.start()).toEqual({ level: 'info' });
    let next = cfg.next();
    await b!.create(path, JSON.stringify({ level: 'debug' }));
    expect(await next).toEqual({ level: 'debug' });
    const invalid = new Promise((r) => cfg.once('invalid', r));
    await b!.setData(path, '{not json');
    await invalid;
    expect(cfg.value).toEqual({ level: 'debug' });
    next = cfg.next();
    await b!.setData(path, JSON.stringify({ level: 'warn' }));
    expect(await next).toEqual({ level: 'warn' });
    next = cfg.next();
    await b!.delete(path);
    expect(await next).toEqual({ level: 'info' });
    await cfg.close();
  });

  test('service registry and discovery: instances come and go with sessions', async () => {
    const base = uniq('services');
    const victim = await killable();
    const [a, d] = await open(2);
    const regA = new ServiceRegistry(a!, base);
    const regV = new ServiceRegistry(victim.client, base);
    const ia = await regA.register({ name: 'api', address: '10.0.0.1', port: 8080, payload: { zone: 'a' } });
    await regV.register({ name: 'api', address: '10.0.0.2', port: 8080 });
    await regA.register({ name: 'web', address: '10.0.0.3' });
    const disc = new ServiceDiscovery(d!, base);
    expect(await disc.serviceNames()).toEqual(['api', 'web']);
    const api = await disc.instances<{ zone: string }>('api');
    expect(api.map((i) => i.address).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(api.find((i) => i.id === ia.id)?.payload).toEqual({ zone: 'a' });
    expect(api[0]!.serviceType).toBe('DYNAMIC');
    const cache = await disc.cache('api');
    expect(cache.instances()).toHaveLength(2);
    victim.kill();
    await eventually(() => cache.instances().length === 1, 30_000);
    expect(cache.instances()[0]!.address).toBe('10.0.0.1');
    await regA.unregister(ia);
    await eventually(() => cache.instances().length === 0);
    await cache.close();
    await regA.close();
  });

  test('barrier: waiters released when it is removed', async () => {
    const path = uniq('barrier');
    const [a, b, c] = await open(3);
    await new Barrier(a!, path).set();
    expect(await new Barrier(b!, path).wait({ timeoutMs: 200 })).toBe(false);
    const waiting = [new Barrier(b!, path).wait(), new Barrier(c!, path).wait()];
    await new Barrier(a!, path).remove();
    expect(await Promise.all(waiting)).toEqual([true, true]);
  });

  test('double barrier: all enter together, all leave together', async () => {
    const path = uniq('dbarrier');
    const clients = await open(3);
    const log: string[] = [];
    await Promise.all(
      clients.map(async (c, i) => {
        const b = new DoubleBarrier(c, path, 3, `m${i}`);
        await sleep(i * 30);
        expect(await b.enter({ timeoutMs: 20_000 })).toBe(true);
        log.push('in');
        await sleep(10 * i);
        expect(await b.leave({ timeoutMs: 20_000 })).toBe(true);
        log.push('out');
      }),
    );
    expect(log).toEqual(['in', 'in', 'in', 'out', 'out', 'out']);
    expect(await new DoubleBarrier(clients[0]!, path, 2).enter({ timeoutMs: 200 })).toBe(false);
  });

  test('queue: FIFO, each item taken exactly once by competing consumers', async () => {
    const path = uniq('queue');
    const [producer, ...consumers] = await open(4);
    const q = new DistributedQueue(producer!, path);
    expect(await q.poll()).toBeUndefined();
    for (let i = 0; i < 3; i++) await q.put(`early-${i}`);
    expect((await q.poll())?.toString()).toBe('early-0');
    const taken: string[] = [];
    const takers = consumers.map(async (c) => {
      const cq = new DistributedQueue(c, path);
      for (;;) {
        const item = await cq.take({ timeoutMs: 1500 });
        if (!item) return;
        taken.push(item.toString());
      }
    });
    for (let i = 0; i < 12; i++) await q.put(`item-${i}`);
    await Promise.all(takers);
    expect(taken.sort()).toEqual(['early-1', 'early-2', ...Array.from({ length: 12 }, (_, i) => `item-${i}`)].sort());
    expect(await q.size()).toBe(0);
  });
});
