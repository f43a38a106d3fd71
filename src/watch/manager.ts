import { EventType, WatcherType } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';
import type { WatchEvent } from '../tree/events';

/**
 * Watch bookkeeping keyed by connection id, modelled on ZooKeeper 3.9's two WatchManagers:
 *   data table  - one-shot data and exist watches (STANDARD), persistent watches, recursive watches
 *   child table - one-shot child watches (STANDARD), persistent watches
 * (a persistent watch sits in both tables; a recursive one only in the data table, which is why it
 * never sees NodeChildrenChanged). Pure: it decides who is told; the server writes the bytes.
 *
 * Nothing is revealed (ZooKeeper >= 3.8.4, CVE-2024-23944): a connection is told about an event only
 * if it may READ the event's node (see WatchEvent.acl). A filtered one-shot watch is still used up,
 * exactly as when ZooKeeper's NIOServerCnxn.process drops the event after triggerWatch removed it.
 */

export type WatchKind = 'data' | 'exist' | 'child' | 'persistent' | 'persistentRecursive';

/** ZooKeeper's WatcherMode. */
type Mode = 'standard' | 'persistent' | 'recursive';

export interface Delivery {
  conn: number;
  /** EventType */
  type: number;
  path: string;
  zxid: bigint;
}

export interface WatchLists {
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

export interface NodeFacts {
  exists: boolean;
  mzxid: bigint;
  pzxid: bigint;
  /** The node's ACL (empty when it does not exist). */
  acl: readonly ACL[];
}

/** Whether connection `conn` may READ a node with this ACL (the server checks its auth ids). */
export type MayRead = (conn: number, acl: readonly ACL[]) => boolean;

/**
 * zxid put on notifications made by setWatches: they are not caused by one txn, so they carry -1
 * (WatchedEvent.NO_ZXID), as ZooKeeper's DataTree.setWatches does.
 */
export const SET_WATCHES_ZXID = -1n;

/** One table: path -> connection -> modes it holds on that path. */
class WatchTable {
  readonly byPath = new Map<string, Map<number, Set<Mode>>>();
  readonly byConn = new Map<number, Set<string>>();
  /** Number of recursive registrations, so the ancestor walk is skipped when there are none. */
  recursiveCount = 0;
  /** Registrations (path, connection, mode) kept as a count, so mntr never walks a million watches. */
  registrations = 0;

  add(conn: number, path: string, mode: Mode): void {
    let conns = this.byPath.get(path);
    if (!conns) this.byPath.set(path, (conns = new Map()));
    let modes = conns.get(conn);
    if (!modes) conns.set(conn, (modes = new Set()));
    if (modes.has(mode)) return;
    modes.add(mode);
    this.registrations++;
    if (mode === 'recursive') this.recursiveCount++;
    let paths = this.byConn.get(conn);
    if (!paths) this.byConn.set(conn, (paths = new Set()));
    paths.add(path);
  }

  modes(conn: number, path: string): ReadonlySet<Mode> | undefined {
    return this.byPath.get(path)?.get(conn);
  }

  /** Removes the given modes (all if undefined); true if anything was removed. */
  remove(conn: number, path: string, only?: Mode): boolean {
    const conns = this.byPath.get(path);
    const modes = conns?.get(conn);
    if (!conns || !modes) return false;
    let removed = false;
    for (const m of [...modes]) {
      if (only !== undefined && m !== only) continue;
      modes.delete(m);
      this.registrations--;
      if (m === 'recursive') this.recursiveCount--;
      removed = true;
    }
    if (modes.size === 0) {
      conns.delete(conn);
      if (conns.size === 0) this.byPath.delete(path);
      const paths = this.byConn.get(conn);
      paths?.delete(path);
      if (paths && paths.size === 0) this.byConn.delete(conn);
    }
    return removed;
  }

  removeConnection(conn: number): void {
    for (const path of [...(this.byConn.get(conn) ?? [])]) this.remove(conn, path);
  }

  /**
   * WatchManager.triggerWatch: on `path` every mode fires (one-shot ones are removed); on
   * ancestors only recursive watches fire. Adds the connections told to `out` unless in `skip`.
   */
  fire(path: string, skip: ReadonlySet<number>, out: Set<number>, walkAncestors: boolean): void {
    const here = this.byPath.get(path);
    for (const [conn, modes] of here ? [...here] : []) {
      if (modes.has('standard')) this.remove(conn, path, 'standard');
      if (!skip.has(conn)) out.add(conn);
    }
    if (!walkAncestors || this.recursiveCount === 0) return;
    for (const ancestor of ancestorsOf(path)) {
      for (const [conn, modes] of this.byPath.get(ancestor) ?? []) {
        if (modes.has('recursive') && !skip.has(conn)) out.add(conn);
      }
    }
  }

  /** Whether `fire` could tell anyone: checked first, so an unwatched path allocates nothing. */
  mayFire(path: string, walkAncestors: boolean): boolean {
    return this.byPath.has(path) || (walkAncestors && this.recursiveCount > 0);
  }

  count(): number {
    return this.registrations;
  }
}

/** "/a/b/c" -> "/a/b", "/a", "/". */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  let p = path;
  while (p !== '/' && p.length > 0) {
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
    out.push(p);
  }
  return out;
}

/** Which tables an event type fires (see src/tree/events.ts). */
const EVENT_TABLES: Readonly<Record<number, { data: boolean; child: boolean }>> = {
  [EventType.nodeCreated]: { data: true, child: false },
  [EventType.nodeDataChanged]: { data: true, child: false },
  [EventType.nodeDeleted]: { data: true, child: true },
  [EventType.nodeChildrenChanged]: { data: false, child: true },
};

export class WatchManager {
  private readonly data = new WatchTable();
  private readonly child = new WatchTable();

  add(conn: number, path: string, kind: WatchKind): void {
    switch (kind) {
      case 'data':
      case 'exist':
        this.data.add(conn, path, 'standard');
        return;
      case 'child':
        this.child.add(conn, path, 'standard');
        return;
      case 'persistent':
        this.data.add(conn, path, 'persistent');
        this.child.add(conn, path, 'persistent');
        return;
      case 'persistentRecursive':
        this.data.add(conn, path, 'recursive');
        return;
    }
  }

  /**
   * Fires watches for each event in order; a connection is told at most once per event, and only
   * if `mayRead` lets it read the event's node.
   */
  trigger(events: readonly WatchEvent[], mayRead: MayRead): Delivery[] {
    const out: Delivery[] = [];
    for (const ev of events) {
      const tables = EVENT_TABLES[ev.type];
      if (!tables) continue;
      // Most events touch paths nobody watches (every create at 1M znodes under a fill load).
      if (!(tables.data && this.data.mayFire(ev.path, true)) && !(tables.child && this.child.mayFire(ev.path, false))) continue;
      const told = new Set<number>();
      // Data table first, then the child table suppressed by those already told (DataTree.deleteNode).
      if (tables.data) this.data.fire(ev.path, told, told, true);
      if (tables.child) this.child.fire(ev.path, new Set(told), told, false);
      for (const conn of told) if (mayRead(conn, ev.acl)) out.push({ conn, type: ev.type, path: ev.path, zxid: ev.zxid });
    }
    return out;
  }

  removeConnection(conn: number): void {
    this.data.removeConnection(conn);
    this.child.removeConnection(conn);
  }

  /**
   * checkWatches (DataTree.containsWatcher, 3.9): Children/Data look at one-shot watches of that
   * table, Any at every watch in either table, Persistent/PersistentRecursive at that mode.
   */
  has(conn: number, path: string, type: number): boolean {
    const d = this.data.modes(conn, path);
    const c = this.child.modes(conn, path);
    switch (type) {
      case WatcherType.children:
        return c?.has('standard') ?? false;
      case WatcherType.data:
        return d?.has('standard') ?? false;
      case WatcherType.any:
        return (d?.size ?? 0) > 0 || (c?.size ?? 0) > 0;
      case WatcherType.persistent:
        return (d?.has('persistent') ?? false) || (c?.has('persistent') ?? false);
      case WatcherType.persistentRecursive:
        return d?.has('recursive') ?? false;
      default:
        return false;
    }
  }

  /**
   * removeWatches (DataTree.removeWatch, 3.9): the same selection as `has`, removing what matches.
   * False means NoWatcher.
   */
  remove(conn: number, path: string, type: number): boolean {
    switch (type) {
      case WatcherType.children:
        return this.child.remove(conn, path, 'standard');
      case WatcherType.data:
        return this.data.remove(conn, path, 'standard');
      case WatcherType.any: {
        const c = this.child.remove(conn, path);
        const d = this.data.remove(conn, path);
        return c || d;
      }
      case WatcherType.persistent: {
        const c = this.child.remove(conn, path, 'persistent');
        const d = this.data.remove(conn, path, 'persistent');
        return c || d;
      }
      case WatcherType.persistentRecursive:
        return this.data.remove(conn, path, 'recursive');
      default:
        return false;
    }
  }

  /**
   * DataTree.setWatches on reconnect: anything that changed after relativeZxid fires now (with zxid
   * SET_WATCHES_ZXID), everything else is re-armed. Persistent kinds are always re-armed.
   *
   * The replayed events are filtered like live ones, by READ on the node (ZooKeeper 3.9 passes no
   * ACL here and so delivers them; a reconnecting client may list any path, so we do not). A
   * NodeDeleted for a node that is gone has no ACL left to check and is delivered: that a path does
   * not exist is what exists() tells anyone. A filtered replayed watch is used up, as a fired one is.
   */
  setWatches(conn: number, relativeZxid: bigint, lists: WatchLists, lookup: (path: string) => NodeFacts, mayRead: MayRead): Delivery[] {
    const out: Delivery[] = [];
    const fire = (type: number, path: string, node: NodeFacts): void => {
      if (node.exists && !mayRead(conn, node.acl)) return;
      out.push({ conn, type, path, zxid: SET_WATCHES_ZXID });
    };
    for (const path of lists.data) {
      const n = lookup(path);
      if (!n.exists) fire(EventType.nodeDeleted, path, n);
      else if (n.mzxid > relativeZxid) fire(EventType.nodeDataChanged, path, n);
      else this.add(conn, path, 'data');
    }
    for (const path of lists.exist) {
      const n = lookup(path);
      if (n.exists) fire(EventType.nodeCreated, path, n);
      else this.add(conn, path, 'exist');
    }
    for (const path of lists.child) {
      const n = lookup(path);
      if (!n.exists) fire(EventType.nodeDeleted, path, n);
      else if (n.pzxid > relativeZxid) fire(EventType.nodeChildrenChanged, path, n);
      else this.add(conn, path, 'child');
    }
    for (const path of lists.persistent) this.add(conn, path, 'persistent');
    for (const path of lists.persistentRecursive) this.add(conn, path, 'persistentRecursive');
    return out;
  }

  // ------------------------------------------------------------ introspection (four-letter words)

  /**
   * Total registrations, as mntr's zk_watch_count (dataWatches.size() + childWatches.size()): a
   * persistent watch counts twice, since it sits in both tables.
   */
  count(): number {
    return this.data.count() + this.child.count();
  }

  /** Connections with at least one watch in the chosen tables. */
  connectionCount(tables: 'data' | 'all' = 'all'): number {
    return tables === 'data' ? this.data.byConn.size : this.byConnection(tables).size;
  }

  /** Distinct watched paths in the chosen tables. */
  pathCount(tables: 'data' | 'all' = 'all'): number {
    return tables === 'data' ? this.data.byPath.size : this.byPath(tables).size;
  }

  /** The data table's watchers per path, produced as iterated (wchp over a million watches is streamed). */
  *pathWatchers(_tables: 'data'): Generator<[string, number[]]> {
    for (const [path, conns] of this.data.byPath) yield [path, [...conns.keys()]];
  }

  /** The data table's watched paths per connection, produced as iterated (wchc). */
  *connectionWatches(_tables: 'data'): Generator<[number, string[]]> {
    for (const [conn, paths] of this.data.byConn) yield [conn, [...paths]];
  }

  /**
   * Paths watched per connection. ZooKeeper's wchc/wchs/wchp print only the data table; pass
   * 'data' to reproduce that exactly, 'all' (default) to include child watches too.
   */
  byConnection(tables: 'data' | 'all' = 'all'): Map<number, string[]> {
    const out = new Map<number, Set<string>>();
    for (const t of this.tablesFor(tables)) {
      for (const [conn, paths] of t.byConn) {
        let s = out.get(conn);
        if (!s) out.set(conn, (s = new Set()));
        for (const p of paths) s.add(p);
      }
    }
    return new Map([...out].map(([k, v]) => [k, [...v]]));
  }

  /** Connections watching each path (see byConnection for `tables`). */
  byPath(tables: 'data' | 'all' = 'all'): Map<string, number[]> {
    const out = new Map<string, Set<number>>();
    for (const t of this.tablesFor(tables)) {
      for (const [path, conns] of t.byPath) {
        let s = out.get(path);
        if (!s) out.set(path, (s = new Set()));
        for (const c of conns.keys()) s.add(c);
      }
    }
    return new Map([...out].map(([k, v]) => [k, [...v]]));
  }

  /** Registrations in the data table only: the "Total watches" of ZooKeeper's wchs. */
  dataTableCount(): number {
    return this.data.count();
  }

  private tablesFor(tables: 'data' | 'all'): WatchTable[] {
    return tables === 'data' ? [this.data] : [this.data, this.child];
  }
}
