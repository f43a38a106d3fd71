import { EventType, WatcherType } from '../../protocol/jute/constants';
import { WatchManager, SET_WATCHES_ZXID, type WatchKind } from '../../src/watch';
import type { WatchEvent } from '../../src/tree/events';
import { OPEN_ACL_UNSAFE } from '../../protocol/jute/data';

const ev = (type: number, path: string, zxid = 7n): WatchEvent => ({ type: type as WatchEvent['type'], path, zxid, acl: OPEN_ACL_UNSAFE });
/** These tests are about who watches what; the ACL filter is tested in test/security. */
const all = (): boolean => true;
const created = (p: string) => ev(EventType.nodeCreated, p);
const deleted = (p: string) => ev(EventType.nodeDeleted, p);
const changed = (p: string) => ev(EventType.nodeDataChanged, p);
const children = (p: string) => ev(EventType.nodeChildrenChanged, p);

/** Which watch kinds on the SAME path fire for each event type (ZooKeeper's table). */
const FIRES: Record<string, Record<WatchKind, boolean>> = {
  nodeCreated: { data: true, exist: true, child: false, persistent: true, persistentRecursive: true },
  nodeDataChanged: { data: true, exist: true, child: false, persistent: true, persistentRecursive: true },
  nodeDeleted: { data: true, exist: true, child: true, persistent: true, persistentRecursive: true },
  nodeChildrenChanged: { data: false, exist: false, child: true, persistent: true, persistentRecursive: false },
};
const KINDS: WatchKind[] = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'];
const ONE_SHOT = new Set<WatchKind>(['data', 'exist', 'child']);

describe('WatchManager.trigger: event type x watch kind on the same path', () => {
  for (const [typeName, row] of Object.entries(FIRES)) {
    for (const kind of KINDS) {
      const fires = row[kind];
      test(`${typeName} ${fires ? 'fires' : 'does not fire'} a ${kind} watch`, () => {
        const w = new WatchManager();
        w.add(1, '/a', kind);
        const type = EventType[typeName as keyof typeof EventType];
        const out = w.trigger([ev(type, '/a', 42n)], all);
        expect(out).toEqual(fires ? [{ conn: 1, type, path: '/a', zxid: 42n }] : []);
        // One-shot watches are gone after firing; persistent ones stay; unfired ones stay.
        const second = w.trigger([ev(type, '/a', 43n)], all);
        expect(second.length).toBe(fires && ONE_SHOT.has(kind) ? 0 : fires ? 1 : 0);
        expect(w.count() > 0).toBe(!(fires && ONE_SHOT.has(kind)));
      });
    }
  }
});

describe('WatchManager.trigger: descendants', () => {
  test('recursive watch gets created/changed/deleted of descendants but never childrenChanged', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'persistentRecursive');
    const out = w.trigger([created('/a/b/c'), changed('/a/b'), deleted('/a/b/c'), children('/a'), children('/a/b')], all);
    expect(out.map((d) => [d.type, d.path])).toEqual([
      [EventType.nodeCreated, '/a/b/c'],
      [EventType.nodeDataChanged, '/a/b'],
      [EventType.nodeDeleted, '/a/b/c'],
    ]);
    expect(w.count()).toBe(1);
  });

  test('recursive on / sees everything but does not match sibling prefixes', () => {
    const w = new WatchManager();
    w.add(1, '/', 'persistentRecursive');
    w.add(2, '/ab', 'persistentRecursive');
    const out = w.trigger([created('/abc'), created('/ab/x')], all);
    expect(out.map((d) => [d.conn, d.path])).toEqual([
      [1, '/abc'],
      [2, '/ab/x'],
      [1, '/ab/x'],
    ]);
  });

  test('plain persistent watch does not see descendants other than via childrenChanged on itself', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'persistent');
    expect(w.trigger([created('/a/b')], all)).toEqual([]);
    expect(w.trigger([children('/a')], all)).toEqual([{ conn: 1, type: EventType.nodeChildrenChanged, path: '/a', zxid: 7n }]);
  });

  test('one-shot watches on ancestors never fire for descendants', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(1, '/a', 'child');
    expect(w.trigger([created('/a/b'), deleted('/a/b')], all)).toEqual([]);
  });
});

describe('WatchManager.trigger: dedup and order', () => {
  test('delete with data + child + exist + persistent + recursive(ancestor) on one connection: one delivery', () => {
    const w = new WatchManager();
    w.add(1, '/a/b', 'data');
    w.add(1, '/a/b', 'child');
    w.add(1, '/a/b', 'exist');
    w.add(1, '/a/b', 'persistent');
    w.add(1, '/a', 'persistentRecursive');
    const out = w.trigger([deleted('/a/b')], all);
    expect(out).toEqual([{ conn: 1, type: EventType.nodeDeleted, path: '/a/b', zxid: 7n }]);
    // The one-shot ones are gone, both persistent ones remain (persistent counts in two tables).
    expect(w.has(1, '/a/b', WatcherType.data)).toBe(false);
    expect(w.has(1, '/a/b', WatcherType.children)).toBe(false);
    expect(w.has(1, '/a/b', WatcherType.persistent)).toBe(true);
    expect(w.has(1, '/a', WatcherType.persistentRecursive)).toBe(true);
    expect(w.count()).toBe(3);
  });

  test('different connections each get one delivery; events keep their order', () => {
    const w = new WatchManager();
    w.add(1, '/x', 'data');
    w.add(2, '/x', 'exist');
    w.add(2, '/p', 'child');
    w.add(3, '/', 'persistentRecursive');
    const out = w.trigger([created('/x'), children('/p'), changed('/x')], all);
    expect(out.map((d) => `${d.type}:${d.path}:${d.conn}`)).toEqual([
      `${EventType.nodeCreated}:/x:1`,
      `${EventType.nodeCreated}:/x:2`,
      `${EventType.nodeCreated}:/x:3`,
      `${EventType.nodeChildrenChanged}:/p:2`,
      `${EventType.nodeDataChanged}:/x:3`,
    ]);
  });

  test('create then childrenChanged of the parent (a typical create txn)', () => {
    const w = new WatchManager();
    w.add(1, '/p/c', 'exist');
    w.add(1, '/p', 'child');
    const out = w.trigger([created('/p/c'), children('/p')], all);
    expect(out.map((d) => d.path)).toEqual(['/p/c', '/p']);
    expect(w.count()).toBe(0);
  });

  test('ignores unknown event types', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    expect(w.trigger([ev(EventType.none, '/a')], all)).toEqual([]);
    expect(w.count()).toBe(1);
  });
});

describe('WatchManager.removeConnection', () => {
  test('drops every watch of that connection only', () => {
    const w = new WatchManager();
    for (const k of KINDS) w.add(1, '/a', k);
    w.add(2, '/a', 'data');
    w.removeConnection(1);
    expect(w.byConnection()).toEqual(new Map([[2, ['/a']]]));
    expect(w.trigger([deleted('/a')], all).map((d) => d.conn)).toEqual([2]);
    expect(w.count()).toBe(0);
    expect(w.connectionCount()).toBe(0);
    expect(w.pathCount()).toBe(0);
  });
});

describe('WatchManager.has / remove (checkWatches / removeWatches)', () => {
  const setup = (kinds: WatchKind[]) => {
    const w = new WatchManager();
    for (const k of kinds) w.add(1, '/a', k);
    return w;
  };

  test.each<[WatchKind, number, boolean]>([
    ['data', WatcherType.data, true],
    ['exist', WatcherType.data, true],
    ['data', WatcherType.children, false],
    ['child', WatcherType.children, true],
    ['child', WatcherType.data, false],
    ['data', WatcherType.any, true],
    ['child', WatcherType.any, true],
    ['persistent', WatcherType.any, true],
    ['persistentRecursive', WatcherType.any, true],
    ['persistent', WatcherType.data, false],
    ['persistent', WatcherType.children, false],
    ['persistent', WatcherType.persistent, true],
    ['persistent', WatcherType.persistentRecursive, false],
    ['persistentRecursive', WatcherType.persistentRecursive, true],
    ['persistentRecursive', WatcherType.persistent, false],
    ['persistentRecursive', WatcherType.data, false],
  ])('%s watch, type %d -> %s', (kind, type, expected) => {
    const w = setup([kind]);
    expect(w.has(1, '/a', type)).toBe(expected);
    expect(w.has(2, '/a', type)).toBe(false);
    expect(w.has(1, '/b', type)).toBe(false);
    expect(w.remove(1, '/a', type)).toBe(expected);
    expect(w.has(1, '/a', type)).toBe(false);
    // Removed iff it matched; otherwise still there.
    expect(w.count() === 0).toBe(expected);
  });

  test('remove Data leaves the child watch; remove Any removes everything', () => {
    const w = setup(['data', 'child', 'persistent', 'persistentRecursive']);
    expect(w.remove(1, '/a', WatcherType.data)).toBe(true);
    expect(w.remove(1, '/a', WatcherType.data)).toBe(false);
    expect(w.has(1, '/a', WatcherType.children)).toBe(true);
    expect(w.remove(1, '/a', WatcherType.any)).toBe(true);
    expect(w.count()).toBe(0);
    expect(w.remove(1, '/a', WatcherType.any)).toBe(false);
  });

  test('remove Persistent takes it out of both tables (no more childrenChanged)', () => {
    const w = setup(['persistent']);
    expect(w.remove(1, '/a', WatcherType.persistent)).toBe(true);
    expect(w.trigger([children('/a'), changed('/a')], all)).toEqual([]);
  });

  test('unknown type -> false', () => {
    const w = setup(['data']);
    expect(w.has(1, '/a', 99)).toBe(false);
    expect(w.remove(1, '/a', 99)).toBe(false);
  });
});

describe('WatchManager.setWatches', () => {
  const nodes = new Map([
    ['/old', { exists: true, mzxid: 5n, pzxid: 5n, acl: OPEN_ACL_UNSAFE }],
    ['/new', { exists: true, mzxid: 20n, pzxid: 30n, acl: OPEN_ACL_UNSAFE }],
  ]);
  const lookup = (p: string) => nodes.get(p) ?? { exists: false, mzxid: 0n, pzxid: 0n, acl: [] };
  const R = 10n;

  test('data: missing -> NodeDeleted, mzxid > R -> NodeDataChanged, else re-armed', () => {
    const w = new WatchManager();
    const out = w.setWatches(1, R, { data: ['/gone', '/new', '/old'], exist: [], child: [], persistent: [], persistentRecursive: [] }, lookup, all);
    expect(out).toEqual([
      { conn: 1, type: EventType.nodeDeleted, path: '/gone', zxid: SET_WATCHES_ZXID },
      { conn: 1, type: EventType.nodeDataChanged, path: '/new', zxid: SET_WATCHES_ZXID },
    ]);
    expect(w.byPath()).toEqual(new Map([['/old', [1]]]));
    expect(w.has(1, '/old', WatcherType.data)).toBe(true);
  });

  test('exist: exists -> NodeCreated, else re-armed', () => {
    const w = new WatchManager();
    const out = w.setWatches(1, R, { data: [], exist: ['/old', '/gone'], child: [], persistent: [], persistentRecursive: [] }, lookup, all);
    expect(out).toEqual([{ conn: 1, type: EventType.nodeCreated, path: '/old', zxid: -1n }]);
    expect(w.has(1, '/gone', WatcherType.data)).toBe(true);
  });

  test('child: missing -> NodeDeleted, pzxid > R -> NodeChildrenChanged, else re-armed', () => {
    const w = new WatchManager();
    const out = w.setWatches(1, R, { data: [], exist: [], child: ['/gone', '/new', '/old'], persistent: [], persistentRecursive: [] }, lookup, all);
    expect(out.map((d) => [d.type, d.path])).toEqual([
      [EventType.nodeDeleted, '/gone'],
      [EventType.nodeChildrenChanged, '/new'],
    ]);
    expect(w.has(1, '/old', WatcherType.children)).toBe(true);
  });

  test('mzxid == R is not a change', () => {
    const w = new WatchManager();
    expect(w.setWatches(1, 5n, { data: ['/old'], exist: [], child: ['/old'], persistent: [], persistentRecursive: [] }, lookup, all)).toEqual([]);
    expect(w.count()).toBe(2);
  });

  test('persistent kinds are always re-armed, even on missing nodes', () => {
    const w = new WatchManager();
    const out = w.setWatches(1, R, { data: [], exist: [], child: [], persistent: ['/gone', '/new'], persistentRecursive: ['/gone'] }, lookup, all);
    expect(out).toEqual([]);
    expect(w.has(1, '/gone', WatcherType.persistent)).toBe(true);
    expect(w.has(1, '/new', WatcherType.persistent)).toBe(true);
    expect(w.has(1, '/gone', WatcherType.persistentRecursive)).toBe(true);
  });
});

describe('WatchManager introspection', () => {
  test('count / connectionCount / pathCount / byConnection / byPath', () => {
    const w = new WatchManager();
    w.add(1, '/a', 'data');
    w.add(1, '/b', 'child');
    w.add(2, '/a', 'exist');
    w.add(2, '/c', 'persistent');
    w.add(3, '/d', 'persistentRecursive');
    w.add(1, '/a', 'data'); // duplicate: no-op
    expect(w.count()).toBe(6); // persistent sits in both tables
    expect(w.dataTableCount()).toBe(4);
    expect(w.connectionCount()).toBe(3);
    expect(w.pathCount()).toBe(4);
    expect(w.pathCount('data')).toBe(3);
    expect(w.byConnection()).toEqual(
      new Map([
        [1, ['/a', '/b']],
        [2, ['/a', '/c']],
        [3, ['/d']],
      ]),
    );
    expect(w.byPath('data').get('/a')).toEqual([1, 2]);
    expect(w.byPath().get('/b')).toEqual([1]);
    expect(w.byPath('data').has('/b')).toBe(false);
  });
});
