/**
 * Locks: InterProcessMutex, a read-write lock and a counting semaphore, all on the
 * ephemeral-sequential pattern of Curator's LockInternals.
 *
 * Node names follow Curator: `<base>/_c_<uuid>-lock-<seq10>` (protection prefix `_c_<uuid>-`, so a
 * create whose reply was lost to a ConnectionLoss can be found again by its uuid instead of
 * leaving an orphan). Each waiter watches only the node it is waiting behind (no herd effect).
 * Whether a contender holds the lock is a pure function of the sorted children (`lockDecision`).
 *
 * Connection states while WAITING: `suspended` is ridden out (the client re-arms the watch on
 * reconnect); `lost` deletes our node server-side, so the wait starts over with a fresh node.
 * While HOLDING: on `lost` the lock is gone (the ephemeral was deleted); the handle's `signal`
 * aborts and `isHeld` turns false. On `suspended` the lock may or may not survive; with
 * `revokeOnSuspended: true` the handle's signal aborts then already (Curator's advice for work
 * that must never overlap). Not reentrant: each acquire() is a separate contender.
 */
import { NoNodeError, SessionExpiredError, type ConnectionState, type ZkClient } from '../client';
import { child, retryOnConnectionLoss, sequenceOf, waitForEvent } from './common';

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Give up after this long; acquire() then resolves to null (and our node is removed). */
  timeoutMs?: number;
}

export interface LockOptions {
  /** Abort the handle's signal on `suspended` as well as on `lost`. Default false. */
  revokeOnSuspended?: boolean;
  /** Data stored in the lock node (Curator stores the client's IP by default; we store nothing). */
  nodeData?: Buffer | string | null;
}

/** Outcome of the lock rule for one contender. */
export type LockDecision = { acquired: true } | { acquired: false; watch: string };

/** A lock rule: given all contenders in sequence order and our node's name, do we hold it? */
export type LockRule = (sorted: readonly string[], ours: string) => LockDecision;

/** The first `maxLeases` contenders hold it; the others watch the one `maxLeases` places ahead. */
export function leaseRule(maxLeases: number): LockRule {
  return (sorted, ours) => {
    const i = sorted.indexOf(ours);
    if (i < 0) throw new Error(`lock node ${ours} not among contenders`);
    if (i < maxLeases) return { acquired: true };
    return { acquired: false, watch: sorted[i - maxLeases]! };
  };
}

export const WRITE_MARKER = '__WRIT__';
export const READ_MARKER = '__READ__';

/** Readers share: a reader holds unless a writer is ahead of it, and then watches the last such writer. */
export const readRule: LockRule = (sorted, ours) => {
  const i = sorted.indexOf(ours);
  if (i < 0) throw new Error(`lock node ${ours} not among contenders`);
  for (let j = i - 1; j >= 0; j--) if (sorted[j]!.includes(WRITE_MARKER)) return { acquired: false, watch: sorted[j]! };
  return { acquired: true };
};

/** Sorts by the 10-digit suffix; the protection prefix does not take part in ordering. */
export function sortContenders(children: readonly string[], markers: readonly string[]): string[] {
  return children.filter((c) => markers.some((m) => c.includes(m))).sort((a, b) => sequenceOf(a) - sequenceOf(b));
}

/** A held lock. Release it exactly once (or use `await using`). */
export class LockHandle {
  private held = true;
  private readonly controller = new AbortController();
  private readonly onState: (s: ConnectionState) => void;

  constructor(
    private readonly client: ZkClient,
    /** Full path of our lock node. */
    readonly path: string,
    revokeOnSuspended: boolean,
  ) {
    this.onState = (s) => {
      if (s === 'lost' || s === 'closed' || (revokeOnSuspended && s === 'suspended')) {
        if (s !== 'suspended') this.held = false;
        this.controller.abort(new Error(`lock ${path}: connection ${s}`));
      }
    };
    client.on('state', this.onState);
  }

  /** Aborts when the lock is (or may be) lost. Pass it to the work done under the lock. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** Deletes our node (tolerating connection loss and a node already gone). */
  async release(): Promise<void> {
    this.held = false;
    this.client.off('state', this.onState);
    if (this.client.state === 'closed') return; // the session is closed: its ephemerals are gone
    // Guaranteed: if the retries run out while cut off, the client keeps deleting in the background
    // (a node left behind would hold the lock for every later contender while the session lives).
    const deleted = retryOnConnectionLoss(() => this.client.delete(this.path, { guaranteed: true })).catch((err: unknown) => {
      // Already gone: deleted before, or the session expired and took the node with it.
      if (!(err instanceof NoNodeError) && !(err instanceof SessionExpiredError)) throw err;
    });
    // While cut off the delete is queued until the reconnect (or dropped if the session is lost,
    // which deletes the node anyway): do not make release() hang on it.
    if (this.client.isConnected) await deleted;
    else deleted.catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

/**
 * The shared engine: create a protected ephemeral-sequential node, then wait until `rule` says
 * we hold it, watching only the node we wait behind.
 */
export class LockInternals {
  constructor(
    private readonly client: ZkClient,
    readonly basePath: string,
    private readonly lockName: string,
    private readonly markers: readonly string[],
    private readonly rule: LockRule,
    private readonly opts: LockOptions = {},
  ) {}

  async acquire(opts: AcquireOptions = {}): Promise<LockHandle | null> {
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
    for (;;) {
      const ours = await this.createProtected(opts.signal);
      let outcome: 'acquired' | 'timeout' | 'vanished';
      try {
        outcome = await this.waitTurn(ours, deadline, opts.signal);
      } catch (err) {
        await this.deleteQuietly(ours);
        throw err;
      }
      if (outcome === 'acquired') return new LockHandle(this.client, ours, this.opts.revokeOnSuspended ?? false);
      if (outcome === 'timeout') {
        await this.deleteQuietly(ours);
        return null;
      }
      // 'vanished': the session was lost while we waited; start over with a new node.
    }
  }

  /** Current contenders in order (full names), e.g. for inspection or leader queries. */
  async contenders(): Promise<string[]> {
    try {
      const { children } = await this.client.getChildren(this.basePath);
      return sortContenders(children, this.markers);
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** Our ephemeral-sequential node, protected: a create whose reply was lost is found, not repeated. */
  private async createProtected(signal?: AbortSignal): Promise<string> {
    const r = await this.client.create(child(this.basePath, this.lockName), this.opts.nodeData ?? null, {
      mode: 'ephemeralSequential',
      createParents: true,
      protected: true,
      ...(signal ? { signal } : {}),
    });
    return r.path;
  }

  private async waitTurn(ours: string, deadline: number | undefined, signal?: AbortSignal): Promise<'acquired' | 'timeout' | 'vanished'> {
    const name = ours.slice(ours.lastIndexOf('/') + 1);
    for (;;) {
      const { children } = await retryOnConnectionLoss(() => this.client.getChildren(this.basePath, signal ? { signal } : {}), signal);
      const sorted = sortContenders(children, this.markers);
      if (!sorted.includes(name)) return 'vanished';
      const d = this.rule(sorted, name);
      if (d.acquired) return 'acquired';
      const left = deadline !== undefined ? deadline - Date.now() : undefined;
      if (left !== undefined && left <= 0) return 'timeout';
      let watch;
      try {
        // getData, not exists: a vanished predecessor must not leave an exists-watch behind.
        ({ watch } = await retryOnConnectionLoss(() => this.client.getData(child(this.basePath, d.watch), { watch: true, ...(signal ? { signal } : {}) }), signal));
      } catch (err) {
        if (err instanceof NoNodeError) continue;
        throw err;
      }
      if ((await waitForEvent(watch, signal, left)) === 'timeout') return 'timeout';
    }
  }

  private async deleteQuietly(path: string): Promise<void> {
    try {
      await retryOnConnectionLoss(() => this.client.delete(path, { guaranteed: true }));
    } catch {
      // NoNode (already gone) or a closed client: nothing left to clean.
    }
  }
}

/** Curator's InterProcessMutex naming: `_c_<uuid>-lock-<seq>`. */
export class Mutex {
  private readonly internals: LockInternals;

  constructor(client: ZkClient, readonly path: string, opts: LockOptions = {}) {
    this.internals = new LockInternals(client, path, 'lock-', ['lock-'], leaseRule(1), opts);
  }

  /** Waits for the lock. Resolves null only when `timeoutMs` passes first. */
  acquire(opts: AcquireOptions & { timeoutMs: number }): Promise<LockHandle | null>;
  acquire(opts?: AcquireOptions): Promise<LockHandle>;
  acquire(opts: AcquireOptions = {}): Promise<LockHandle | null> {
    return this.internals.acquire(opts);
  }

  /** Contender node names in lock order (the first holds it). */
  participants(): Promise<string[]> {
    return this.internals.contenders();
  }
}

/** At most `maxLeases` holders at a time (same engine, rule "first N hold"). Names `_c_<uuid>-lease-`. */
export class Semaphore {
  private readonly internals: LockInternals;

  constructor(client: ZkClient, readonly path: string, readonly maxLeases: number, opts: LockOptions = {}) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new RangeError('maxLeases must be a positive integer');
    this.internals = new LockInternals(client, path, 'lease-', ['lease-'], leaseRule(maxLeases), opts);
  }

  acquire(opts: AcquireOptions & { timeoutMs: number }): Promise<LockHandle | null>;
  acquire(opts?: AcquireOptions): Promise<LockHandle>;
  acquire(opts: AcquireOptions = {}): Promise<LockHandle | null> {
    return this.internals.acquire(opts);
  }
}

/**
 * Read-write lock (Curator's node names `__READ__` / `__WRIT__`): readers share the lock unless a
 * writer is queued ahead of them; a writer holds it when it is first among all contenders.
 */
export class ReadWriteLock {
  readonly readLock: { acquire(opts?: AcquireOptions): Promise<LockHandle | null> };
  readonly writeLock: { acquire(opts?: AcquireOptions): Promise<LockHandle | null> };

  constructor(client: ZkClient, readonly path: string, opts: LockOptions = {}) {
    const markers = [READ_MARKER, WRITE_MARKER];
    this.readLock = new LockInternals(client, path, READ_MARKER, markers, readRule, opts);
    this.writeLock = new LockInternals(client, path, WRITE_MARKER, markers, leaseRule(1), opts);
  }
}
