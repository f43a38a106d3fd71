/**
 * Service registry and discovery in the layout of Curator's x-discovery:
 * `<base>/<serviceName>/<instanceId>`, an ephemeral node holding the instance as JSON with
 * Curator's field names (name, id, address, port, sslPort, payload, registrationTimeUTC,
 * serviceType, uriSpec), so Java services and ours can find each other.
 *
 * Registry: `suspended` changes nothing (the nodes live as long as the session). After `lost` the
 * ephemerals are gone; on the next `reconnected` every registered instance is created again.
 * Discovery: `instances()` reads on demand; `cache()` keeps a live view on a TreeCache (see its
 * header for suspended/lost behaviour: stale but readable, resynced on reconnect).
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { NoNodeError, NodeExistsError, type ConnectionState, type ZkClient } from '../client';
import { child, retryOnConnectionLoss } from './common';
import { TreeCache } from './treeCache';

export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string;
  port: number | null;
  sslPort: number | null;
  payload: P | null;
  registrationTimeUTC: number;
  serviceType: 'DYNAMIC' | 'STATIC' | 'PERMANENT';
  uriSpec: unknown;
}

export type NewServiceInstance<P = unknown> = Partial<Omit<ServiceInstance<P>, 'name' | 'address'>> & { name: string; address: string };

export function encodeInstance(i: ServiceInstance<unknown>): Buffer {
  return Buffer.from(JSON.stringify(i), 'utf8');
}

export function decodeInstance<P>(data: Buffer | null): ServiceInstance<P> | undefined {
  if (!data) return undefined;
  try {
    const v = JSON.parse(data.toString('utf8')) as ServiceInstance<P>;
    return typeof v === 'object' && v !== null && typeof v.id === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export class ServiceRegistry {
  private readonly registered = new Map<string, ServiceInstance<unknown>>();
  private readonly onState = (s: ConnectionState) => {
    if (s === 'reconnected') void this.reregisterAll();
  };

  constructor(
    private readonly client: ZkClient,
    readonly basePath = '/services',
  ) {
    client.on('state', this.onState);
  }

  private pathOf(i: { name: string; id: string }): string {
    return child(child(this.basePath, i.name), i.id);
  }

  /** Registers an instance (ephemeral node); returns the full record. */
  async register<P>(instance: NewServiceInstance<P>): Promise<ServiceInstance<P>> {
    const full: ServiceInstance<P> = {
      id: randomUUID(),
      port: null,
      sslPort: null,
      payload: null,
      registrationTimeUTC: Date.now(),
      serviceType: 'DYNAMIC',
      uriSpec: null,
      ...instance,
    };
    this.registered.set(`${full.name}/${full.id}`, full);
    await this.write(full);
    return full;
  }

  async unregister(instance: { name: string; id: string }): Promise<void> {
    this.registered.delete(`${instance.name}/${instance.id}`);
    try {
      await retryOnConnectionLoss(() => this.client.delete(this.pathOf(instance)));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  /** Unregisters everything and stops re-registering. */
  async close(): Promise<void> {
    this.client.off('state', this.onState);
    const all = [...this.registered.values()];
    this.registered.clear();
    if (this.client.state === 'closed') return;
    await Promise.all(all.map((i) => this.unregister(i).catch(() => undefined)));
  }

  private async write(i: ServiceInstance<unknown>): Promise<void> {
    const path = this.pathOf(i);
    await retryOnConnectionLoss(async () => {
      try {
        await this.client.create(path, encodeInstance(i), { mode: 'ephemeral', createParents: true });
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
        // Ours from this session (a retried create that landed): keep it. Another session's
        // leftover (it has not expired yet): replace it.
        const { stat } = await this.client.exists(path);
        if (stat && stat.ephemeralOwner === this.client.sessionId) {
          await this.client.setData(path, encodeInstance(i));
          return;
        }
        await this.client.delete(path).catch(() => undefined);
        await this.client.create(path, encodeInstance(i), { mode: 'ephemeral', createParents: true });
      }
    });
  }

  private async reregisterAll(): Promise<void> {
    for (const i of this.registered.values()) {
      await this.write(i).catch(() => undefined);
    }
  }
}

export class ServiceDiscovery {
  constructor(
    private readonly client: ZkClient,
    readonly basePath = '/services',
  ) {}

  async serviceNames(): Promise<string[]> {
    try {
      return (await this.client.getChildren(this.basePath)).children.sort();
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  async instances<P = unknown>(name: string): Promise<ServiceInstance<P>[]> {
    const dir = child(this.basePath, name);
    let ids: string[];
    try {
      ids = (await this.client.getChildren(dir)).children;
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
    const out: ServiceInstance<P>[] = [];
    for (const id of ids.sort()) {
      try {
        const inst = decodeInstance<P>((await this.client.getData(child(dir, id))).data);
        if (inst) out.push(inst);
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    }
    return out;
  }

  /** A live view of one service's instances. */
  async cache<P = unknown>(name: string): Promise<ServiceCache<P>> {
    const c = new ServiceCache<P>(new TreeCache(this.client, child(this.basePath, name)));
    await c.start();
    return c;
  }
}

export declare interface ServiceCache<P> {
  on(event: 'change', listener: (instances: ServiceInstance<P>[]) => void): this;
}

export class ServiceCache<P = unknown> extends EventEmitter {
  constructor(private readonly tree: TreeCache) {
    super();
    const changed = (e: { path: string }) => {
      if (e.path !== tree.root) this.emit('change', this.instances());
    };
    tree.on('created', changed);
    tree.on('changed', changed);
    tree.on('deleted', changed);
  }

  async start(): Promise<void> {
    await this.tree.start();
  }

  instances(): ServiceInstance<P>[] {
    const out: ServiceInstance<P>[] = [];
    for (const name of this.tree.children(this.tree.root)) {
      const inst = decodeInstance<P>(this.tree.get(child(this.tree.root, name))?.data ?? null);
      if (inst) out.push(inst);
    }
    return out;
  }

  close(): Promise<void> {
    return this.tree.close();
  }
}
