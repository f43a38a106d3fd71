/**
 * ConfigWatcher: a typed value stored in one znode, hot-reloaded through a persistent watch on
 * that node.
 *
 * The value is parsed with the caller's `parse` (JSON by default). A value that fails to parse
 * does not replace the current one: an 'invalid' event reports it and the last good value stays.
 * A deleted node falls back to `defaultValue`.
 * `suspended`: the last value stays readable (it may be stale). On zabkeeper the watch is
 * resumable and its events carry the new data: after a reconnect, a move or `lost` the changes
 * made meanwhile are replayed (each value in order), with no read. On Apache ZooKeeper persistent
 * watches get no catch-up events, so on reconnect (and after `lost`) the node is read again and a
 * 'change' is emitted if it moved meanwhile.
 */
import { EventEmitter } from 'node:events';
import { NoNodeError, type PersistentWatch, type ZkClient } from '../client';

export interface ConfigWatcherOptions<T> {
  parse?: (data: Buffer | null) => T;
  defaultValue?: T;
}

export declare interface ConfigWatcher<T> {
  on(event: 'change', listener: (value: T | undefined, previous: T | undefined) => void): this;
  on(event: 'invalid', listener: (err: unknown, raw: Buffer | null) => void): this;
  on(event: 'error', listener: (err: unknown) => void): this;
}

const jsonParse = (data: Buffer | null): unknown => (data === null || data.length === 0 ? undefined : JSON.parse(data.toString('utf8')));

export class ConfigWatcher<T = unknown> extends EventEmitter {
  private current: T | undefined;
  /** mzxid of the version we hold (-1n: node absent), to drop duplicate reads. */
  private seenMzxid = -2n;
  private watch: PersistentWatch | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;
  private readonly parse: (data: Buffer | null) => T;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    private readonly opts: ConfigWatcherOptions<T> = {},
  ) {
    super();
    this.parse = opts.parse ?? (jsonParse as (d: Buffer | null) => T);
    this.current = opts.defaultValue;
  }

  get value(): T | undefined {
    return this.current;
  }

  /** Watches, reads the current value, and resolves with it. */
  async start(): Promise<T | undefined> {
    this.watch = await this.client.addWatch(this.path, { mode: 'persistent', resumable: true, includeData: true, overflow: 'dropOldest', bufferSize: 64 });
    await this.reload();
    this.loop = this.consume();
    return this.current;
  }

  /** Resolves with the next value that differs from the current one. */
  next(opts: { signal?: AbortSignal } = {}): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      const on = (v: T | undefined) => {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = () => {
        this.off('change', on);
        reject(opts.signal?.reason);
      };
      this.once('change', on);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watch?.close();
    await this.loop;
  }

  private async consume(): Promise<void> {
    let stale = false;
    for await (const ev of this.watch!) {
      if (this.closed) return;
      if (ev.type === 'none') {
        if (ev.state === 'disconnected' || ev.state === 'expired') stale = !this.watch!.resumable;
        const reread = ev.resync || (ev.state === 'syncConnected' && stale);
        if (!reread) continue;
        stale = false;
      } else if (ev.type === 'nodeDeleted' && ev.zxid !== undefined && ev.zxid > 0n) {
        this.absent(ev.zxid);
        continue;
      } else if (ev.stat && ev.data !== undefined) {
        this.adopt(ev.data, ev.stat.mzxid);
        continue;
      }
      await this.reload().catch((err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err);
      });
    }
  }

  private async reload(): Promise<void> {
    let r;
    try {
      r = await this.client.getData(this.path);
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      return this.absent();
    }
    this.adopt(r.data, r.stat.mzxid);
  }

  /** The node is gone (at `zxid`, when an event says so: ignored if we hold a later version). */
  private absent(zxid?: bigint): void {
    if (this.seenMzxid === -1n || (zxid !== undefined && this.seenMzxid > zxid)) return;
    this.seenMzxid = -1n;
    this.set(this.opts.defaultValue);
  }

  /** A version of the node; older than or equal to the one we hold (an earlier read) is ignored. */
  private adopt(data: Buffer | null, mzxid: bigint): void {
    if (mzxid <= this.seenMzxid) return;
    this.seenMzxid = mzxid;
    let value: T;
    try {
      value = this.parse(data);
    } catch (err) {
      this.emit('invalid', err, data);
      return;
    }
    this.set(value);
  }

  private set(value: T | undefined): void {
    const previous = this.current;
    this.current = value;
    this.emit('change', value, previous);
  }
}
