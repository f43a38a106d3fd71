/**
 * Client-side watch bookkeeping, free of sockets and clocks: which one-shot and persistent
 * watches this client holds (keyed by SERVER path, as notifications carry them), how a server
 * event fans out to them (ZKWatchManager.materialize), what SetWatches must re-arm, and how
 * watches end. The client shell feeds it notifications and connection changes.
 *
 * Maps of sets, not an EventEmitter per path: nothing leaks once a watch fires or is removed
 * (CLIENT.md §1.2, the MaxListenersExceeded complaints).
 */
import { EventType, KeeperState } from '../../protocol/jute/constants';
import { WatchOverflowError } from './errors';
import { selfAndAncestors } from './connectString';
import { BoundedStream, type OverflowPolicy } from './stream';
import type { EventTypeName, KeeperStateName, WatchedEvent, WatcherTypeName, WatchPosition } from './types';
import type { EventDetail } from '../../protocol/jute/extensions';

export type OneShotKind = 'data' | 'exist' | 'child';
export type PersistentMode = 'persistent' | 'persistentRecursive';

const eventTypeName = new Map<number, EventTypeName>(Object.entries(EventType).map(([k, v]) => [v, k as EventTypeName]));
const keeperStateName = new Map<number, KeeperStateName>(Object.entries(KeeperState).map(([k, v]) => [v, k as KeeperStateName]));

/** Which one-shot tables a server event triggers. */
const TRIGGERS: Readonly<Partial<Record<EventTypeName, readonly OneShotKind[]>>> = {
  nodeCreated: ['data', 'exist'],
  nodeDataChanged: ['data', 'exist'],
  nodeDeleted: ['data', 'exist', 'child'],
  nodeChildrenChanged: ['child'],
};

/** What removeWatches(type) clears locally. */
const REMOVES: Readonly<Record<WatcherTypeName, { oneShot: readonly OneShotKind[]; persistent: readonly PersistentMode[] }>> = {
  data: { oneShot: ['data', 'exist'], persistent: [] },
  children: { oneShot: ['child'], persistent: [] },
  any: { oneShot: ['data', 'exist', 'child'], persistent: ['persistent', 'persistentRecursive'] },
  persistent: { oneShot: [], persistent: ['persistent'] },
  persistentRecursive: { oneShot: [], persistent: ['persistentRecursive'] },
};

/** The event a removed one-shot watch resolves with. */
const REMOVED_EVENT: Readonly<Record<OneShotKind, EventTypeName>> = {
  data: 'dataWatchRemoved',
  exist: 'dataWatchRemoved',
  child: 'childWatchRemoved',
};

/** A raw notification as the wire delivers it (server path). */
export interface RawEvent {
  type: number;
  state: number;
  path: string;
  zxid: bigint;
  detail?: EventDetail;
}

/** `seen` value: every event of the position's txn was seen. */
export const SEEN_ALL = -1;

/** a is strictly after b. */
function after(a: WatchPosition, b: WatchPosition): boolean {
  return a.zxid > b.zxid || (a.zxid === b.zxid && b.seen !== SEEN_ALL && (a.seen === SEEN_ALL || a.seen > b.seen));
}

/**
 * One persistent (or persistent-recursive) watch: an async iterator of events.
 *
 * A resumable one (zabkeeper servers) also knows its position, the last event it received; it
 * takes live events only while attached to the current connection, drops any at or before its
 * position (so nothing is ever told twice, whatever the server replays), and is re-attached from
 * its position after every reconnect.
 */
export class PersistentWatch implements AsyncIterable<WatchedEvent> {
  readonly stream: BoundedStream<WatchedEvent>;
  private closing: Promise<void> | undefined;
  /** The server resumes this watch (set when registered; false against Apache ZooKeeper). */
  resumable = false;
  /** Last event received (or caught-up point); undefined until first registered. */
  received: WatchPosition | undefined;
  /** Position of the last event handed to the consumer. */
  private yielded: WatchPosition | undefined;
  /** Takes live events (false while (re)attaching: the replay brings them instead). */
  attached = false;

  constructor(
    /** Client-side path. */
    readonly path: string,
    readonly mode: PersistentMode,
    bufferSize: number,
    overflow: OverflowPolicy,
    private readonly detach: (w: PersistentWatch) => Promise<void>,
    /** Resumable watches only: ask the server for node data with each event. */
    readonly includeData = false,
  ) {
    this.stream = new BoundedStream<WatchedEvent>(
      bufferSize,
      overflow,
      () => new WatchOverflowError(path, bufferSize),
      () => void this.close(),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchedEvent> {
    return {
      next: async () => {
        const r = await this.stream.next();
        if (!r.done && r.value.position) this.yielded = r.value.position;
        return r;
      },
      return: (v?: unknown) => this.stream.return().then(() => ({ value: v as undefined, done: true as const })),
    };
  }

  /**
   * Resumable watches: where to resume so that nothing handed out is repeated and nothing
   * unread is lost: the last event read, or, when everything received has been read, how far the
   * watch is known to be caught up. Persist it to resume after a restart (`from`).
   */
  get position(): WatchPosition | undefined {
    // Buffered events not yet read (or dropped by leaving the loop) must come again after a resume.
    return this.stream.size > 0 || this.stream.isDone ? this.yielded : this.received;
  }

  /** Takes an event of txn `zxid` if it lies after the position: its new position, or undefined for a repeat. */
  accept(zxid: bigint): WatchPosition | undefined {
    const p = this.received;
    if (p && (zxid < p.zxid || (zxid === p.zxid && p.seen === SEEN_ALL))) return undefined;
    this.received = p && zxid === p.zxid ? { zxid, seen: p.seen + 1 } : { zxid, seen: 1 };
    return this.received;
  }

  /** Hands an event to the consumer; resumable watches drop repeats and stamp the position. */
  deliver(ev: WatchedEvent): void {
    if (!this.resumable) return this.stream.push(ev);
    if (ev.zxid === undefined || ev.zxid < 0n) return;
    const position = this.accept(ev.zxid);
    if (position) this.stream.push({ ...ev, position });
  }

  /** Everything up to `zxid` has been received (a reply with that zxid came after the events). */
  caughtUp(zxid: bigint): void {
    const at = { zxid, seen: SEEN_ALL };
    if (!this.received || after(at, this.received)) this.received = at;
    // A watch started "from now": that point counts as handed out (nothing before it was due).
    if (this.yielded === undefined && this.stream.size === 0) this.yielded = this.received;
  }

  /** Starts a resumable watch after `from` (nothing before it is ever handed out). */
  startAfter(from: WatchPosition): void {
    this.received = { ...from };
    this.yielded = { ...from };
  }

  /** Stops the watch: ends the iterator and removes the server-side watch if nobody else uses it. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.detach(this);
      this.stream.end();
    }
    return this.closing;
  }
}

/** Node data goes only to watches that asked for it. */
function withoutData(ev: WatchedEvent, w: PersistentWatch): WatchedEvent {
  if (ev.data === undefined || w.includeData) return ev;
  const { data: _data, ...rest } = ev;
  return rest;
}

export interface SetWatchesLists {
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}

export class WatchRegistry {
  private readonly oneShot: Record<OneShotKind, Map<string, Set<(ev: WatchedEvent) => void>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };
  private readonly persistent: Record<PersistentMode, Map<string, Set<PersistentWatch>>> = {
    persistent: new Map(),
    persistentRecursive: new Map(),
  };

  /** `toClientPath` strips the chroot from server paths. */
  constructor(private readonly toClientPath: (serverPath: string) => string) {}

  /** A one-shot watch; the promise resolves once (it never rejects). */
  addOneShot(kind: OneShotKind, serverPath: string): Promise<WatchedEvent> {
    return new Promise((resolve) => {
      let set = this.oneShot[kind].get(serverPath);
      if (!set) this.oneShot[kind].set(serverPath, (set = new Set()));
      set.add(resolve);
    });
  }

  addPersistent(serverPath: string, w: PersistentWatch): void {
    let set = this.persistent[w.mode].get(serverPath);
    if (!set) this.persistent[w.mode].set(serverPath, (set = new Set()));
    set.add(w);
  }

  /** Forgets w; true if it was the last watch of its mode on that path (remove it server-side). */
  deletePersistent(serverPath: string, w: PersistentWatch): boolean {
    const set = this.persistent[w.mode].get(serverPath);
    if (!set || !set.delete(w)) return false;
    if (set.size > 0) return false;
    this.persistent[w.mode].delete(serverPath);
    return true;
  }

  /** Any local watch at all on this server path. */
  has(serverPath: string): boolean {
    return (
      Object.values(this.oneShot).some((t) => t.has(serverPath)) ||
      Object.values(this.persistent).some((t) => (t.get(serverPath)?.size ?? 0) > 0)
    );
  }

  /**
   * Fans a server event out. `persistentToo: false` while SetWatches is unanswered: events then
   * are catch-ups the server made for re-armed one-shot watches, and persistent watches (told
   * 'disconnected'/'syncConnected' instead) must not see them. Unknown event types are ignored.
   */
  dispatch(n: RawEvent, persistentToo: boolean): void {
    const type = eventTypeName.get(n.type);
    if (!type) return;
    const ev: WatchedEvent = { type, state: keeperStateName.get(n.state) ?? 'syncConnected', path: this.toClientPath(n.path), zxid: n.zxid };
    if (n.detail?.stat) ev.stat = n.detail.stat;
    if (n.detail?.data !== undefined) ev.data = n.detail.data;
    for (const kind of TRIGGERS[type] ?? []) {
      const set = this.oneShot[kind].get(n.path);
      if (!set) continue;
      this.oneShot[kind].delete(n.path);
      for (const fire of set) fire(ev);
    }
    if (!persistentToo) return;
    const live = (w: PersistentWatch) => (!w.resumable || w.attached) && w.deliver(withoutData(ev, w));
    for (const w of this.persistent.persistent.get(n.path) ?? []) live(w);
    // Recursive watches match the path and its ancestors, and never get NodeChildrenChanged.
    if (type === 'nodeChildrenChanged') return;
    for (const p of selfAndAncestors(n.path)) {
      for (const w of this.persistent.persistentRecursive.get(p) ?? []) live(w);
    }
  }

  /** Resumable watches, which the client re-attaches itself instead of listing them in SetWatches. */
  resumables(): PersistentWatch[] {
    return Object.values(this.persistent).flatMap((t) => [...t.values()].flatMap((set) => [...set].filter((w) => w.resumable)));
  }

  /** Ends every one-shot watch with a `type: 'none'` state event (they can no longer fire). */
  endOneShots(state: KeeperStateName): void {
    for (const table of Object.values(this.oneShot)) {
      for (const [p, set] of table) for (const fire of set) fire({ type: 'none', state, path: this.toClientPath(p) });
      table.clear();
    }
  }

  /**
   * Persistent watches see connection changes as `type: 'none'` events, like Java watchers.
   * `exceptResumable`: resumable watches say syncConnected themselves, once re-attached.
   */
  notifyPersistent(state: KeeperStateName, exceptResumable = false): void {
    for (const table of Object.values(this.persistent)) {
      for (const [p, set] of table) {
        for (const w of set) if (!(exceptResumable && w.resumable)) w.stream.push({ type: 'none', state, path: this.toClientPath(p) });
      }
    }
  }

  /** Ends everything (client closed). */
  closeAll(): void {
    this.endOneShots('closed');
    for (const table of Object.values(this.persistent)) {
      for (const set of table.values()) for (const w of set) w.stream.end();
      table.clear();
    }
  }

  /**
   * What to re-arm after a reconnect (server paths). Paths held only by resumable watches are left
   * out when the server resumes them (`resumeSeparately`): they are re-attached from their position.
   */
  setWatchesLists(resumeSeparately = false): SetWatchesLists {
    const persistentPaths = (t: Map<string, Set<PersistentWatch>>) =>
      [...t].filter(([, set]) => !resumeSeparately || [...set].some((w) => !w.resumable)).map(([p]) => p);
    return {
      dataWatches: [...this.oneShot.data.keys()],
      existWatches: [...this.oneShot.exist.keys()],
      childWatches: [...this.oneShot.child.keys()],
      persistentWatches: persistentPaths(this.persistent.persistent),
      persistentRecursiveWatches: persistentPaths(this.persistent.persistentRecursive),
    };
  }

  /**
   * Local side of removeWatches: removed one-shot watches resolve with dataWatchRemoved /
   * childWatchRemoved; persistent iterators get persistentWatchRemoved and end.
   */
  removeLocal(serverPath: string, type: WatcherTypeName): void {
    const path = this.toClientPath(serverPath);
    const what = REMOVES[type];
    for (const kind of what.oneShot) {
      const set = this.oneShot[kind].get(serverPath);
      this.oneShot[kind].delete(serverPath);
      for (const fire of set ?? []) fire({ type: REMOVED_EVENT[kind], state: 'syncConnected', path });
    }
    for (const mode of what.persistent) {
      const set = this.persistent[mode].get(serverPath);
      this.persistent[mode].delete(serverPath);
      for (const w of set ?? []) {
        w.stream.push({ type: 'persistentWatchRemoved', state: 'syncConnected', path });
        w.stream.end();
      }
    }
  }
}
