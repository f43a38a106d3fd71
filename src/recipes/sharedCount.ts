/**
 * SharedCount (Curator's SharedCount): an int shared through one node (4 bytes, big-endian, as
 * Curator stores it), with compare-and-set on the node version and change notifications from a
 * resumable persistent watch (ConfigWatcher).
 *   - `suspended`: the last count stays readable (maybe stale); a trySetCount in flight may or may
 *     not have applied (ConnectionLoss is thrown, never retried: a retry could apply twice).
 *   - `lost`: nothing changes (the node is persistent); missed changes are replayed or re-read.
 */
import { EventEmitter } from 'node:events';
import { BadVersionError, NodeExistsError, type ZkClient } from '../client';
import { ConfigWatcher } from './config';

export interface VersionedCount {
  count: number;
  /** The node version this count was read at (for trySetCount). */
  version: number;
}

function encode(n: number): Buffer {
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new RangeError(`count must be a 32-bit integer, got ${n}`);
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function decode(data: Buffer | null): number {
  if (!data || data.length !== 4) throw new Error(`shared count node holds ${data?.length ?? 0} bytes, expected 4`);
  return data.readInt32BE();
}

export declare interface SharedCount {
  on(event: 'countChanged', listener: (count: number) => void): this;
}

export class SharedCount extends EventEmitter {
  private readonly watcher: ConfigWatcher<number>;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    private readonly seed: number,
  ) {
    super();
    this.watcher = new ConfigWatcher<number>(client, path, { parse: decode });
    this.watcher.on('change', (v) => v !== undefined && this.emit('countChanged', v));
  }

  /** Creates the node with the seed if it does not exist, then follows it. */
  async start(): Promise<void> {
    await this.client.create(this.path, encode(this.seed), { createParents: true }).catch((err: unknown) => {
      if (!(err instanceof NodeExistsError)) throw err;
    });
    await this.watcher.start();
  }

  /** The last count seen (kept current by the watch). */
  get count(): number {
    return this.watcher.value ?? this.seed;
  }

  /** Reads the count and its version from the server (for trySetCount). */
  async getVersionedValue(): Promise<VersionedCount> {
    const { data, stat } = await this.client.getData(this.path);
    return { count: decode(data), version: stat.version };
  }

  /** Sets the count unconditionally. */
  async setCount(n: number): Promise<void> {
    await this.client.setData(this.path, encode(n));
  }

  /** Sets the count only if nobody changed it since `previous` was read; false if someone did. */
  async trySetCount(previous: VersionedCount, n: number): Promise<boolean> {
    try {
      await this.client.setData(this.path, encode(n), { version: previous.version });
      return true;
    } catch (err) {
      if (err instanceof BadVersionError) return false;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}
