/**
 * DistributedQueue: FIFO items as persistent-sequential children `<path>/qn-<seq10>`. take()
 * claims the lowest item by deleting it: exactly one consumer's delete succeeds, the others move
 * on to the next item. An item is removed before take() returns it, so a consumer that crashes
 * right after take() loses that item (at-most-once delivery, like kazoo's Queue).
 *
 * `suspended`: put() may throw ConnectionLoss with its outcome unknown (the item may or may not
 * be queued: sequential creates are never retried blindly). take() retries reads and re-waits
 * across reconnects. `lost` has no effect on queued items (they are persistent).
 */
import { NoNodeError, type WatchedEvent, type ZkClient } from '../client';
import { child, retryOnConnectionLoss, sortedBySequence, waitForEvent } from './common';

const PREFIX = 'qn-';

export class DistributedQueue {
  constructor(
    private readonly client: ZkClient,
    readonly path: string,
  ) {}

  /** Appends an item; returns its node path. */
  async put(data: Buffer | string): Promise<string> {
    return (await this.client.create(child(this.path, PREFIX), data, { mode: 'persistentSequential', createParents: true })).path;
  }

  async size(): Promise<number> {
    try {
      return sortedBySequence((await this.client.getChildren(this.path)).children, PREFIX).length;
    } catch (err) {
      if (err instanceof NoNodeError) return 0;
      throw err;
    }
  }

  /** Removes and returns the head item, or undefined if the queue is empty. */
  async poll(): Promise<Buffer | undefined> {
    const r = await this.claim(false);
    return r.item;
  }

  /** Waits for an item, removes and returns it. Undefined only on timeout. */
  async take(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Buffer | undefined> {
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
    for (;;) {
      const r = await this.claim(true, opts.signal);
      if (r.item) return r.item;
      const left = deadline !== undefined ? deadline - Date.now() : undefined;
      if (left !== undefined && left <= 0) return undefined;
      if (r.watch && (await waitForEvent(r.watch, opts.signal, left)) === 'timeout') return undefined;
    }
  }

  private async claim(watch: boolean, signal?: AbortSignal): Promise<{ item: Buffer | undefined; watch: Promise<WatchedEvent> | undefined }> {
    let children: string[];
    let w: Promise<WatchedEvent> | undefined;
    try {
      if (watch) {
        const r = await retryOnConnectionLoss(() => this.client.getChildren(this.path, { watch: true }), signal);
        children = r.children;
        w = r.watch;
      } else {
        children = (await retryOnConnectionLoss(() => this.client.getChildren(this.path), signal)).children;
      }
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      await this.client.ensurePath(this.path);
      return { item: undefined, watch: undefined };
    }
    for (const name of sortedBySequence(children, PREFIX)) {
      const p = child(this.path, name);
      try {
        const { data, stat } = await retryOnConnectionLoss(() => this.client.getData(p), signal);
        await this.client.delete(p, { version: stat.version });
        return { item: data ?? Buffer.alloc(0), watch: w };
      } catch (err) {
        if (err instanceof NoNodeError) continue; // another consumer claimed it
        throw err;
      }
    }
    return { item: undefined, watch: w };
  }
}
