/**
 * A distributed counter: one node holding a signed 64-bit big-endian value (the layout of
 * Curator's DistributedAtomicLong), updated by compare-and-set on the node version.
 *
 * `suspended`: an update in flight may or may not have been applied (ConnectionLoss); add() does
 * not retry a write whose outcome is unknown, it throws, because a retry could count twice.
 * Reads and CAS retries after BadVersion are safe. `lost` has no effect on the value (the node is
 * persistent).
 */
import { BadVersionError, NoNodeError, NodeExistsError, type ZkClient } from '../client';

function encode(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt.asIntN(64, v));
  return b;
}

function decode(data: Buffer | null): bigint {
  if (!data || data.length === 0) return 0n;
  if (data.length !== 8) throw new Error(`counter node holds ${data.length} bytes, expected 8`);
  return data.readBigInt64BE();
}

export interface CounterUpdate {
  preValue: bigint;
  postValue: bigint;
}

export class DistributedCounter {
  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    private readonly initial: bigint = 0n,
  ) {}

  /** The current value (the initial value if the node does not exist yet). */
  async get(): Promise<bigint> {
    try {
      return decode((await this.client.getData(this.path)).data);
    } catch (err) {
      if (err instanceof NoNodeError) return this.initial;
      throw err;
    }
  }

  /** Applies `fn` atomically (CAS loop on the version). */
  async update(fn: (current: bigint) => bigint, opts: { signal?: AbortSignal } = {}): Promise<CounterUpdate> {
    for (;;) {
      opts.signal?.throwIfAborted();
      let current: bigint;
      let version: number;
      try {
        const { data, stat } = await this.client.getData(this.path, opts);
        current = decode(data);
        version = stat.version;
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        const next = fn(this.initial);
        try {
          await this.client.create(this.path, encode(next), { createParents: true, ...opts });
          return { preValue: this.initial, postValue: next };
        } catch (e) {
          if (e instanceof NodeExistsError) continue;
          throw e;
        }
      }
      const next = fn(current);
      try {
        await this.client.setData(this.path, encode(next), { version, ...opts });
        return { preValue: current, postValue: next };
      } catch (err) {
        if (err instanceof BadVersionError || err instanceof NoNodeError) continue;
        throw err;
      }
    }
  }

  add(delta: bigint | number, opts: { signal?: AbortSignal } = {}): Promise<CounterUpdate> {
    const d = BigInt(delta);
    return this.update((v) => v + d, opts);
  }

  increment(opts: { signal?: AbortSignal } = {}): Promise<CounterUpdate> {
    return this.add(1n, opts);
  }

  decrement(opts: { signal?: AbortSignal } = {}): Promise<CounterUpdate> {
    return this.add(-1n, opts);
  }

  /** Sets the value only if it currently equals `expected`; false otherwise (nothing written). */
  async compareAndSet(expected: bigint, value: bigint): Promise<boolean> {
    for (;;) {
      let current: bigint;
      let version: number;
      try {
        const { data, stat } = await this.client.getData(this.path);
        current = decode(data);
        version = stat.version;
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
        if (expected !== this.initial) return false;
        try {
          await this.client.create(this.path, encode(value), { createParents: true });
          return true;
        } catch (e) {
          if (e instanceof NodeExistsError) continue;
          throw e;
        }
      }
      if (current !== expected) return false;
      try {
        await this.client.setData(this.path, encode(value), { version });
        return true;
      } catch (err) {
        if (err instanceof BadVersionError || err instanceof NoNodeError) continue;
        throw err;
      }
    }
  }
}
