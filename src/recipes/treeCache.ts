/**
 * TreeCache: a local mirror of a subtree, kept current by one persistent recursive watch (the
 * CuratorCache design of Curator 5, CURATOR-549).
 *
 * Events arrive in zxid order on one iterator and are applied one at a time, so the cache never
 * goes backwards (an event older than what a read already showed is ignored).
 *
 * On zabkeeper the watch is resumable: events carry the node's Stat and data, so nothing is read
 * per event, and after `suspended` -> `reconnected`, a move to another server or even `lost`, the
 * watch replays exactly what changed meanwhile: no re-read, and 'resynced' is emitted once caught
 * up. Only when the server's history no longer reaches back (a `resync` event) is the subtree
 * re-read. On Apache ZooKeeper persistent watches get no catch-up events, so after every
 * reconnect (and `lost`) the cache re-reads the whole subtree and emits the differences. Between
 * `suspended` and catching up the cache is stale but still readable. If the event buffer
 * overflows, the watch is re-added and the cache resyncs by re-reading.
 */
import { EventEmitter } from 'node:events';
import { NoNodeError, WatchOverflowError, type PersistentWatch, type Stat, type WatchedEvent, type ZkClient } from '../client';
import { child } from './common';

export interface TreeCacheEntry {
  path: string;
  data: Buffer | null;
  stat: Stat;
}

export interface TreeCacheOptions {
  /** Event buffer of the underlying watch. Default 4096. */
  bufferSize?: number;
}

export declare interface TreeCache {
  on(event: 'created' | 'changed', listener: (entry: TreeCacheEntry) => void): this;
  on(event: 'deleted', listener: (entry: TreeCacheEntry) => void): this;
  on(event: 'initialized' | 'resynced', listener: () => void): this;
  on(event: 'error', listener: (err: unknown) => void): this;
}

const isUnder = (root: string, p: string): boolean => p === root || p.startsWith(root === '/' ? '/' : root + '/');

export class TreeCache extends EventEmitter {
  private readonly nodes = new Map<string, TreeCacheEntry>();
  private watch: PersistentWatch | undefined;
  private closed = false;
  private needResync = false;
  /** Disconnected since the last catch-up (resumable watches need no re-read, just the replay). */
  private interrupted = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly client: ZkClient,
    readonly root: string,
    private readonly opts: TreeCacheOptions = {},
  ) {
    super();
  }

  /** Adds the watch, loads the subtree and resolves once the cache is initialized. */
  async start(): Promise<void> {
    await this.rewatch();
    await this.resync();
    this.emit('initialized');
    this.loop = this.consume();
  }

  get(path: string): TreeCacheEntry | undefined {
    return this.nodes.get(path);
  }

  /** Names of the cached children of path, sorted. */
  children(path: string): string[] {
    const prefix = path === '/' ? '/' : path + '/';
    const out: string[] = [];
    for (const p of this.nodes.keys()) {
      if (p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) out.push(p.slice(prefix.length));
    }
    return out.sort();
  }

  entries(): IterableIterator<TreeCacheEntry> {
    return this.nodes.values();
  }

  get size(): number {
    return this.nodes.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watch?.close();
    await this.loop;
  }

  private async rewatch(): Promise<void> {
    await this.watch?.close();
    this.watch = await this.client.addWatch(this.root, {
      mode: 'persistentRecursive',
      resumable: true,
      includeData: true,
      bufferSize: this.opts.bufferSize ?? 4096,
      overflow: 'error',
    });
  }

  private async consume(): Promise<void> {
    while (!this.closed) {
      try {
        for await (const ev of this.watch!) {
          if (this.closed) return;
          await this.apply(ev);
        }
        return; // watch closed (by close() or removeWatches)
      } catch (err) {
        if (this.closed) return;
        if (!(err instanceof WatchOverflowError)) this.fail(err);
        await this.retry(async () => {
          await this.rewatch();
          await this.resync();
        });
      }
    }
  }

  private async retry(fn: () => Promise<void>): Promise<void> {
    for (let i = 0; !this.closed; i++) {
      try {
        return await fn();
      } catch (err) {
        if (this.closed) return;
        this.fail(err);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** i)));
      }
    }
  }

  private fail(err: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private async apply(ev: WatchedEvent): Promise<void> {
    switch (ev.type) {
      case 'none':
        return this.connectionEvent(ev);
      case 'nodeCreated':
      case 'nodeDataChanged':
        // Resumable watches bring the node with the event; otherwise (or when too big) read it.
        if (ev.stat && ev.data !== undefined) return this.putNewer({ path: ev.path, data: ev.data, stat: ev.stat });
        return this.retry(() => this.refresh(ev.path));
      case 'nodeDeleted':
        return this.removeSubtree(ev.path, ev.zxid);
      default:
        return;
    }
  }

  private async connectionEvent(ev: WatchedEvent): Promise<void> {
    if (ev.resync) {
      await this.retry(() => this.resync());
      this.emit('resynced');
      return;
    }
    if (ev.state === 'disconnected' || ev.state === 'expired') {
      this.interrupted = true;
      if (!this.watch?.resumable) this.needResync = true;
      return;
    }
    if (ev.state !== 'syncConnected' || !this.interrupted) return;
    this.interrupted = false;
    if (this.needResync) {
      this.needResync = false;
      await this.retry(() => this.resync());
    }
    this.emit('resynced');
  }

  /** put(), unless the cache already holds this node at a later state (from a read). */
  private putNewer(entry: TreeCacheEntry): void {
    const old = this.nodes.get(entry.path)?.stat;
    if (old && (old.czxid > entry.stat.czxid || (old.czxid === entry.stat.czxid && old.mzxid > entry.stat.mzxid))) return;
    this.put(entry);
  }

  private async refresh(path: string): Promise<void> {
    try {
      const { data, stat } = await this.client.getData(path);
      this.put({ path, data, stat });
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      this.removeSubtree(path);
    }
  }

  private put(entry: TreeCacheEntry): void {
    const old = this.nodes.get(entry.path);
    if (old && old.stat.mzxid === entry.stat.mzxid && old.stat.czxid === entry.stat.czxid && old.stat.pzxid === entry.stat.pzxid) return;
    this.nodes.set(entry.path, entry);
    if (!old || old.stat.czxid !== entry.stat.czxid) this.emit('created', entry);
    else if (old.stat.mzxid !== entry.stat.mzxid) this.emit('changed', entry);
  }

  /** Removes path and below; with a delete's zxid, only nodes created before it (later ones are newer). */
  private removeSubtree(path: string, deletedAt?: bigint): void {
    const before = (p: string) => deletedAt === undefined || deletedAt < 0n || this.nodes.get(p)!.stat.czxid < deletedAt;
    const gone = [...this.nodes.keys()].filter((p) => isUnder(path, p) && before(p)).sort((a, b) => b.length - a.length);
    for (const p of gone) {
      const e = this.nodes.get(p)!;
      this.nodes.delete(p);
      this.emit('deleted', e);
    }
  }

  /** Re-reads the whole subtree and applies the differences as events. */
  private async resync(): Promise<void> {
    const fresh = new Map<string, TreeCacheEntry>();
    const walk = async (path: string): Promise<void> => {
      let entry: TreeCacheEntry;
      let children: string[];
      try {
        const { data, stat } = await this.client.getData(path);
        entry = { path, data, stat };
        ({ children } = await this.client.getChildren(path));
      } catch (err) {
        if (err instanceof NoNodeError) return;
        throw err;
      }
      fresh.set(path, entry);
      await Promise.all(children.map((c) => walk(child(path, c))));
    };
    await walk(this.root);
    for (const p of [...this.nodes.keys()]) {
      if (!fresh.has(p)) this.removeSubtree(p);
    }
    for (const e of [...fresh.values()].sort((a, b) => a.path.length - b.path.length)) this.put(e);
  }
}
