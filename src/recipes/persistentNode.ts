/**
 * PersistentNode, PersistentTtlNode and GroupMember (Curator's recipes of the same names).
 *
 * PersistentNode keeps a node of the given mode in existence for as long as it runs: it creates it
 * (protected, so a create whose reply was lost is found, not repeated), watches it, and creates it
 * again whenever it goes: deleted by someone, or gone with a `lost` session (an ephemeral). A node
 * that already exists with our path is taken over and given our data.
 *   - `suspended`: nothing to do (the node lives as long as the session); `reconnected` re-checks.
 *   - `lost`: the ephemeral is gone; it is created again in the new session, and for a sequential
 *     mode the path changes (`actualPath`, event 'created').
 *
 * PersistentTtlNode: a container node with a TTL child ("touch") refreshed every ttl/2 while the
 * process runs. When the process stops refreshing, the touch node expires, the container empties
 * and the server reaps it: a node that outlives a crash by about one TTL, not forever.
 *
 * GroupMember: this process's ephemeral member node under a group path, plus a live view of the
 * whole group (a TreeCache).
 */
import { EventEmitter } from 'node:events';
import { NoNodeError, NodeExistsError, type ConnectionState, type CreateMode, type Data, type ZkClient } from '../client';
import { child, retryOnConnectionLoss, waitForEvent } from './common';
import { TreeCache } from './treeCache';

export declare interface PersistentNode {
  on(event: 'created', listener: (path: string) => void): this;
  on(event: 'error', listener: (err: unknown) => void): this;
}

export class PersistentNode extends EventEmitter {
  private path: string | undefined;
  private data: Buffer | null;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly onState = (s: ConnectionState) => {
    if (s === 'reconnected' || s === 'lost') this.kick();
  };

  constructor(
    private readonly client: ZkClient,
    readonly basePath: string,
    readonly mode: CreateMode,
    data: Data,
    private readonly opts: { ttlMs?: number } = {},
  ) {
    super();
    this.data = data === null ? null : Buffer.from(typeof data === 'string' ? data : data);
  }

  /** The node's current path (differs from basePath for sequential modes); undefined until created. */
  get actualPath(): string | undefined {
    return this.path;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.client.on('state', this.onState);
    this.loop = this.run();
  }

  /** Resolves true once the node exists (false on timeout). */
  async waitForInitialCreate(timeoutMs: number): Promise<boolean> {
    if (this.path) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => (this.off('created', on), resolve(false)), timeoutMs);
      const on = () => (clearTimeout(t), resolve(true));
      this.once('created', on);
    });
  }

  /** Changes the data (written now if the node exists, and on every re-creation). */
  async setData(data: Data): Promise<void> {
    this.data = data === null ? null : Buffer.from(typeof data === 'string' ? data : data);
    if (this.path) await retryOnConnectionLoss(() => this.client.setData(this.path!, this.data));
  }

  /** Stops and deletes the node. */
  async close(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.client.off('state', this.onState);
    this.kick();
    await this.loop;
    const p = this.path;
    this.path = undefined;
    if (p && this.client.isConnected) await retryOnConnectionLoss(() => this.client.delete(p)).catch(() => undefined);
  }

  private kick(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.ensure();
        // Sleep until the node goes, the connection comes back, or close().
        const existing = this.path;
        if (existing) {
          const { stat, watch } = await this.client.exists(existing, { watch: true });
          if (!stat) continue;
          if (!this.running) return; // close() came while we were asking
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            void waitForEvent(watch).then(() => resolve());
          });
          this.wake = undefined;
        }
      } catch (err) {
        if (!this.running) return;
        if (this.listenerCount('error') > 0) this.emit('error', err);
        if (!this.running) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 500).unref();
        });
      }
    }
  }

  /** Creates the node if it is not there (or takes over an existing non-sequential one). */
  private async ensure(): Promise<void> {
    if (this.path && (await this.client.exists(this.path)).stat) return;
    const sequential = this.mode.includes('Sequential');
    try {
      const r = await this.client.create(this.basePath, this.data, {
        mode: this.mode,
        createParents: true,
        protected: sequential,
        ...(this.opts.ttlMs !== undefined ? { ttlMs: this.opts.ttlMs } : {}),
      });
      this.path = r.path;
      this.emit('created', r.path);
    } catch (err) {
      if (!(err instanceof NodeExistsError) || sequential) throw err;
      // Ours from before (or a persistent node we now own): keep it, with our data.
      await this.client.setData(this.basePath, this.data);
      this.path = this.basePath;
      this.emit('created', this.basePath);
    }
  }
}

/** A container kept alive by a TTL child refreshed every ttl/2 (Curator's PersistentTtlNode). */
export class PersistentTtlNode {
  private readonly node: PersistentNode;
  private timer: NodeJS.Timeout | undefined;
  readonly touchPath: string;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    private readonly ttlMs: number,
    data: Data = null,
  ) {
    if (!(ttlMs > 0)) throw new RangeError('ttlMs must be > 0');
    this.node = new PersistentNode(client, path, 'container', data);
    this.touchPath = child(path, 'touch');
  }

  start(): void {
    this.node.start();
    const touch = async () => {
      try {
        await this.client.setData(this.touchPath, null);
      } catch (err) {
        if (err instanceof NoNodeError) {
          await this.client.create(this.touchPath, null, { mode: 'persistentWithTTL', ttlMs: this.ttlMs }).catch((e: unknown) => {
            if (!(e instanceof NodeExistsError) && !(e instanceof NoNodeError)) throw e;
          });
        }
      }
    };
    void this.node.waitForInitialCreate(60_000).then(() => touch().catch(() => undefined));
    this.timer = setInterval(() => void touch().catch(() => undefined), Math.max(1, Math.floor(this.ttlMs / 2)));
    this.timer.unref();
  }

  waitForInitialCreate(timeoutMs: number): Promise<boolean> {
    return this.node.waitForInitialCreate(timeoutMs);
  }

  /** Stops refreshing and deletes the touch node and the container. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await retryOnConnectionLoss(() => this.client.delete(this.touchPath)).catch(() => undefined);
    await this.node.close();
  }
}

/** This process's membership in a group, and the group as a live map of member id -> data. */
export class GroupMember {
  private readonly node: PersistentNode;
  private readonly cache: TreeCache;

  constructor(
    client: ZkClient,
    readonly groupPath: string,
    readonly memberId: string,
    payload: Data = null,
  ) {
    if (memberId.includes('/')) throw new TypeError('memberId must not contain "/"');
    this.node = new PersistentNode(client, child(groupPath, memberId), 'ephemeral', payload);
    this.cache = new TreeCache(client, groupPath);
  }

  /** Joins (resolves once our node exists and the group view is loaded). */
  async start(timeoutMs = 30_000): Promise<void> {
    this.node.start();
    if (!(await this.node.waitForInitialCreate(timeoutMs))) throw new Error(`could not join ${this.groupPath} within ${timeoutMs} ms`);
    await this.cache.start();
  }

  /** Current members: id -> data. */
  currentMembers(): Map<string, Buffer | null> {
    return new Map(this.cache.children(this.groupPath).map((id) => [id, this.cache.get(child(this.groupPath, id))?.data ?? null]));
  }

  /** The group view's events ('created', 'changed', 'deleted'). */
  get events(): TreeCache {
    return this.cache;
  }

  setPayload(data: Data): Promise<void> {
    return this.node.setData(data);
  }

  async close(): Promise<void> {
    await this.cache.close();
    await this.node.close();
  }
}
