/**
 * TreeCache: a local mirror of a subtree, kept current by one persistent recursive watch (the
 * CuratorCache design of Curator 5, CURATOR-549).
 *
 * Events arrive in zxid order on one iterator and are applied one at a time, so the cache never
 * goes backwards. Persistent watches get no catch-up events for changes made while the
 * connection was down, so after `suspended` -> `reconnected` (and after `lost`) the cache re-reads
 * the whole subtree and emits the differences. Between `suspended` and that resync the cache is
 * stale but still readable. If the event buffer overflows, the watch is re-added and the cache
 * resyncs the same way.
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
    this.watch = await this.client.addWatch(this.root, { mode: 'persistentRecursive', bufferSize: this.opts.bufferSize ?? 4096, overflow: 'error' });
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
        if (ev.state === 'disconnected' || ev.state === 'expired') this.needResync = true;
        else if (ev.state === 'syncConnected' && this.needResync) {
          this.needResync = false;
          await this.retry(() => this.resync());
          this.emit('resynced');
        }
        return;
      case 'nodeCreated':
      case 'nodeDataChanged':
        return this.retry(() => this.refresh(ev.path));
      case 'nodeDeleted':
        return this.removeSubtree(ev.path);
      default:
        return;
    }
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

  private removeSubtree(path: string): void {
    const gone = [...this.nodes.keys()].filter((p) => isUnder(path, p)).sort((a, b) => b.length - a.length);
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
