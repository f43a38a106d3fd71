/**
 * Proves the watch event history behind resumable watches: which events a persistent or recursive
 * watch is told, that replay from any position (zxid, events of it seen) yields exactly the rest
 * of the full sequence (a model-based property), paging, the READ filter, and that eviction and
 * reset make older positions "purged" without ever serving a partial txn.
 */
import fc from 'fast-check';
import { EventType } from '../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE, type ACL } from '../../protocol/jute/data';
import { SEEN_ALL } from '../../protocol/jute/extensions';
import { createDatabase, type NodeInit, type NodeKind } from '../../src/tree';
import { WatchHistory, watchMatches, type HistoryEvent, type PersistentWatchMode } from '../../src/watch/history';

const { nodeCreated: C, nodeDeleted: D, nodeDataChanged: M, nodeChildrenChanged: K } = EventType;
const SECRET: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: 'x:y' } }];
const ev = (zxid: bigint, type: number, path: string, acl: readonly ACL[] = OPEN_ACL_UNSAFE): HistoryEvent => ({ zxid, type, path, acl });
const all = { mayRead: () => true, includeData: false, maxBytes: 1 << 20 };

function history(events: HistoryEvent[], limits = { maxEvents: 1000, maxBytes: 1 << 30, dataMaxBytes: 1024 }): WatchHistory {
  const h = new WatchHistory(0n, limits);
  const byZxid = new Map<bigint, HistoryEvent[]>();
  for (const e of events) byZxid.set(e.zxid, [...(byZxid.get(e.zxid) ?? []), e]);
  for (const group of byZxid.values()) h.record(group);
  return h;
}

describe('which events a watch is told', () => {
  test.each<[PersistentWatchMode, string, number, string, boolean]>([
    ['persistent', '/a', C, '/a', true],
    ['persistent', '/a', K, '/a', true],
    ['persistent', '/a', M, '/a/b', false],
    ['persistentRecursive', '/a', M, '/a/b/c', true],
    ['persistentRecursive', '/a', K, '/a', false],
    ['persistentRecursive', '/a', D, '/ab', false],
    ['persistentRecursive', '/', C, '/x', true],
  ])('%s on %s, event %d on %s: %s', (mode, watch, type, path, told) => {
    expect(watchMatches(mode, watch, type, path)).toBe(told);
  });
});

describe('replay', () => {
  const events = [ev(1n, C, '/a'), ev(1n, K, '/'), ev(2n, C, '/a/b'), ev(2n, K, '/a'), ev(3n, M, '/a/b'), ev(4n, D, '/a/b'), ev(4n, K, '/a'), ev(5n, M, '/z')];

  test('from a zxid: every later event the watch matches, in order', () => {
    const r = history(events).replay({ ...all, path: '/a', mode: 'persistentRecursive', after: { zxid: 1n, seen: SEEN_ALL } });
    expect(r).toEqual({ more: false, events: [{ zxid: 2n, type: C, path: '/a/b' }, { zxid: 3n, type: M, path: '/a/b' }, { zxid: 4n, type: D, path: '/a/b' }] });
  });

  test('from the middle of a txn: only the events of it not yet seen', () => {
    const r = history(events).replay({ ...all, path: '/a', mode: 'persistent', after: { zxid: 2n, seen: 0 } });
    expect(r !== 'purged' && r.events.map((e) => `${e.zxid}:${e.type}`)).toEqual(['2:4', '4:4']);
    const r2 = history([ev(7n, C, '/q/1'), ev(7n, C, '/q/2'), ev(7n, C, '/q/3')]).replay({ ...all, path: '/q', mode: 'persistentRecursive', after: { zxid: 7n, seen: 2 } });
    expect(r2 !== 'purged' && r2.events.map((e) => e.path)).toEqual(['/q/3']);
  });

  test('events the connection may not read are neither told nor counted', () => {
    const h = history([ev(1n, C, '/s/open'), ev(1n, C, '/s/secret', SECRET), ev(1n, C, '/s/open2')]);
    const r = h.replay({ ...all, path: '/s', mode: 'persistentRecursive', after: { zxid: 1n, seen: 1 }, mayRead: (acl) => acl !== SECRET });
    expect(r !== 'purged' && r.events.map((e) => e.path)).toEqual(['/s/open2']);
  });

  test('pages: at least one event each, `more` until the end', () => {
    const many = Array.from({ length: 50 }, (_, i) => ev(BigInt(i + 1), M, '/p'));
    const h = history(many);
    let after = { zxid: 0n, seen: SEEN_ALL };
    const got: bigint[] = [];
    for (let pages = 0; ; pages++) {
      const r = h.replay({ ...all, path: '/p', mode: 'persistent', after, maxBytes: 200 });
      if (r === 'purged') throw new Error('purged');
      got.push(...r.events.map((e) => e.zxid));
      expect(r.events.length).toBeGreaterThan(0);
      const last = r.events[r.events.length - 1]!;
      after = { zxid: last.zxid, seen: 1 };
      if (!r.more) {
        expect(pages).toBeGreaterThan(3);
        break;
      }
    }
    expect(got).toEqual(many.map((e) => e.zxid));
  });

  test('data is given only when asked, and only if small enough to have been kept', () => {
    const h = new WatchHistory(0n, { maxEvents: 10, maxBytes: 1 << 20, dataMaxBytes: 4 });
    h.record([{ ...ev(1n, M, '/d'), data: Buffer.from('abc') }]);
    h.record([{ ...ev(2n, M, '/d'), data: Buffer.from('too long') }]);
    const q = { ...all, path: '/d', mode: 'persistent' as const, after: { zxid: 0n, seen: SEEN_ALL } };
    const withData = h.replay({ ...q, includeData: true });
    expect(withData !== 'purged' && withData.events.map((e) => e.data?.toString() ?? String(e.data))).toEqual(['abc', 'undefined']);
    const without = h.replay(q);
    expect(without !== 'purged' && without.events.every((e) => !('data' in e))).toBe(true);
  });
});

describe('purged positions', () => {
  test('eviction drops whole txns and moves start; older positions are purged', () => {
    const h = history([ev(1n, C, '/a'), ev(1n, K, '/'), ev(2n, M, '/a'), ev(3n, M, '/a')], { maxEvents: 2, maxBytes: 1 << 30, dataMaxBytes: 0 });
    expect(h.size).toBe(2);
    expect(h.start).toBe(1n);
    const q = { ...all, path: '/a', mode: 'persistent' as const };
    expect(h.replay({ ...q, after: { zxid: 0n, seen: SEEN_ALL } })).toBe('purged');
    expect(h.replay({ ...q, after: { zxid: 1n, seen: 1 } })).toBe('purged'); // needs the rest of txn 1
    expect(h.replay({ ...q, after: { zxid: 1n, seen: SEEN_ALL } })).toEqual({ more: false, events: [{ zxid: 2n, type: M, path: '/a' }, { zxid: 3n, type: M, path: '/a' }] });
  });

  test('reset (a snapshot from the leader) forgets everything before it', () => {
    const h = history([ev(1n, C, '/a'), ev(2n, M, '/a')]);
    h.reset(10n);
    expect(h.size).toBe(0);
    expect(h.replay({ ...all, path: '/a', mode: 'persistent', after: { zxid: 5n, seen: SEEN_ALL } })).toBe('purged');
    expect(h.replay({ ...all, path: '/a', mode: 'persistent', after: { zxid: 10n, seen: SEEN_ALL } })).toEqual({ more: false, events: [] });
  });
});

test('model: replay from any point of the watch’s own sequence yields exactly the rest of it', () => {
  const paths = ['/', '/a', '/a/b', '/a/b/c', '/b', '/b/a'];
  const types = [C, D, M, K];
  const txn = fc.array(fc.record({ type: fc.constantFrom(...types), path: fc.constantFrom(...paths) }), { minLength: 1, maxLength: 3 });
  fc.assert(
    fc.property(fc.array(txn, { minLength: 1, maxLength: 30 }), fc.constantFrom(...paths), fc.constantFrom<PersistentWatchMode>('persistent', 'persistentRecursive'), fc.nat(), (txns, watch, mode, pick) => {
      const events = txns.flatMap((t, i) => t.map((e) => ev(BigInt(i + 1), e.type, e.path)));
      const h = history(events);
      // The model: the full filtered sequence, with each event's position.
      const told: { zxid: bigint; seen: number }[] = [];
      for (const e of events.filter((x) => watchMatches(mode, watch, x.type, x.path))) {
        const prev = told[told.length - 1];
        told.push({ zxid: e.zxid, seen: prev && prev.zxid === e.zxid ? prev.seen + 1 : 1 });
      }
      const cut = told.length === 0 ? 0 : pick % (told.length + 1);
      const after = cut === 0 ? { zxid: 0n, seen: SEEN_ALL } : told[cut - 1]!;
      const r = h.replay({ ...all, path: watch, mode, after });
      expect(r !== 'purged' && r.events.map((e) => e.zxid)).toEqual(told.slice(cut).map((t) => t.zxid));
    }),
    { numRuns: 300 },
  );
});

describe('the ring the events are kept in', () => {
  // The ring starts at 1,024 slots and doubles when full: these limits keep it wrapping without
  // growing (700), growing once then wrapping (1,500), and growing several times (5,000).
  test.each([700, 1500, 5000])('maxEvents %d: after 6,000 txns the newest are replayed exactly, stats and data intact', (maxEvents) => {
    const h = new WatchHistory(0n, { maxEvents, maxBytes: 1 << 30, dataMaxBytes: 16 });
    const stat = (i: number) => ({ czxid: BigInt(i), mzxid: BigInt(i) + 1n, ctime: -BigInt(i), mtime: 7n, version: i, cversion: -i | 0, aversion: 3, ephemeralOwner: BigInt(i) << 40n, dataLength: 2, numChildren: i % 5, pzxid: 9n });
    for (let i = 1; i <= 6000; i++) {
      // Every third txn has two events; only the first of each carries a Stat and data.
      const first: HistoryEvent = { ...ev(BigInt(i), M, `/r/${i}`), stat: stat(i), data: i % 7 === 0 ? null : Buffer.from(String(i % 100)) };
      h.record(i % 3 === 0 ? [first, ev(BigInt(i), K, '/r')] : [first]);
    }
    expect(h.size).toBeLessThanOrEqual(maxEvents);
    expect(h.size).toBeGreaterThan(maxEvents - 2);
    const r = h.replay({ ...all, includeData: true, path: '/', mode: 'persistentRecursive', after: { zxid: h.start, seen: SEEN_ALL } });
    if (r === 'purged') throw new Error('purged');
    const from = Number(h.start) + 1;
    expect(r.events.map((e) => e.path)).toEqual(Array.from({ length: 6000 - from + 1 }, (_, k) => `/r/${from + k}`));
    for (const e of r.events) {
      const i = Number(e.zxid);
      expect(e.stat).toEqual(stat(i));
      expect(e.data === null ? null : e.data!.toString()).toEqual(i % 7 === 0 ? null : String(i % 100));
    }
    // The childrenChanged events (not told to recursive watches) are there for persistent ones.
    const kids = h.replay({ ...all, path: '/r', mode: 'persistent', after: { zxid: h.start, seen: SEEN_ALL } });
    expect(kids !== 'purged' && kids.events.map((e) => Number(e.zxid))).toEqual(Array.from({ length: 6000 - from + 1 }, (_, k) => from + k).filter((i) => i % 3 === 0));
    // One txn of almost maxEvents events (a big multi) grows a ring that has wrapped; then it is
    // all that is kept.
    const n = maxEvents - 10;
    h.record(Array.from({ length: n }, (_, k) => ({ ...ev(6001n, C, `/big/${k}`), stat: stat(k) })));
    const big = h.replay({ ...all, path: '/', mode: 'persistentRecursive', after: { zxid: 6000n, seen: SEEN_ALL } });
    if (big === 'purged') throw new Error('purged');
    expect(big.events.map((e) => e.path)).toEqual(Array.from({ length: n }, (_, k) => `/big/${k}`));
    expect(big.events.map((e) => e.stat)).toEqual(Array.from({ length: n }, (_, k) => stat(k)));
  });
});

describe('recordApplied', () => {
  // A tree as apply leaves it; recordApplied must record what statOf and dataOf say about it.
  const db = createDatabase();
  const node = (zxid: bigint, kind: NodeKind, data: Buffer | null, ephemeralOwner = 0n): NodeInit => ({ data, acl: [...OPEN_ACL_UNSAFE], zxid, time: -(1n << 62n) + zxid, ephemeralOwner, kind, ttl: kind === 'ttl' ? 60_000n : undefined });
  db.tree.create('/p', node(0x100000001n, 'persistent', Buffer.from('v')));
  db.tree.create('/p/e', node(0x1ffffffffn, 'ephemeral', null, -0x7edcba9876543210n));
  // Containers and TTL nodes carry ZooKeeper's markers in ephemeralOwner (prep's ownerFor).
  db.tree.create('/p/c', node(0x200000003n, 'container', Buffer.alloc(0), -(1n << 63n)));
  db.tree.create('/p/t', node(0x200000004n, 'ttl', Buffer.alloc(5000, 1), -(1n << 56n) | 60_000n));
  const told: HistoryEvent[] = [ev(1n, C, '/p'), ev(2n, K, '/p'), ev(3n, M, '/p/e'), ev(4n, C, '/p/c'), ev(4n, C, '/p/t'), ev(5n, D, '/p/gone'), ev(6n, C, '/p/gone')];
  const limits = { maxEvents: 5000, maxBytes: 1 << 30, dataMaxBytes: 1024 };

  test('each event with the Stat and data the tree holds (owner hidden for containers and TTL nodes; big data not kept)', () => {
    const h = new WatchHistory(0n, limits);
    // Past the first ring's capacity, so a grown ring is written too.
    const rounds = 200;
    for (let r = 0; r < rounds; r++) for (const e of told) h.recordApplied(db.tree, [{ ...e, type: e.type as EventType, zxid: e.zxid + BigInt(10 * r) }]);
    const got = h.replay({ ...all, includeData: true, path: '/', mode: 'persistentRecursive', after: { zxid: 0n, seen: SEEN_ALL } });
    if (got === 'purged') throw new Error('purged');
    const expected = (e: HistoryEvent) => {
      const stat = e.type === D ? undefined : db.tree.statOf(e.path);
      const data = stat && e.type !== K ? db.tree.dataOf(e.path) ?? null : undefined;
      return { zxid: e.zxid, type: e.type, path: e.path, ...(stat && { stat }), ...(data !== undefined && (data === null || data.length <= limits.dataMaxBytes) && { data }) };
    };
    const want = Array.from({ length: rounds }, (_, r) => told.map((e) => expected({ ...e, zxid: e.zxid + BigInt(10 * r) }))).flat().filter((e) => e.type !== K);
    expect(got.events).toEqual(want);
    expect(got.events.find((e) => e.path === '/p/c')?.stat?.ephemeralOwner).toBe(0n);
    expect(got.events.find((e) => e.path === '/p/t')?.stat?.ephemeralOwner).toBe(0n);
    expect(got.events.find((e) => e.path === '/p/e')?.stat?.ephemeralOwner).toBe(-0x7edcba9876543210n);
  });
});
