/**
 * Leader latch and leader election.
 *
 * LeaderLatch (Curator LeaderLatch naming `<path>/_c_<uuid>-latch-<seq10>`, node data = the
 * participant id): the contender with the lowest sequence number leads; every other one watches
 * only its predecessor.
 *   - `suspended`: leadership is given up at once (`notLeader`), as Curator does: while cut off
 *     we cannot know whether our node still exists.
 *   - `reconnected` (same session): the node is still there; leadership is re-evaluated and usually
 *     comes straight back. After `lost` the node is gone, so a new one is created at the back of
 *     the queue.
 *
 * LeaderElection (Curator LeaderSelector style, on the Mutex): the leader runs a callback with an
 * AbortSignal that fires on `suspended`/`lost`/close; when the callback returns, leadership is
 * released and (with autoRequeue) the participant queues again.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { AbortError, ConnectionLossError, NoNodeError, type ConnectionState, type ZkClient } from '../client';
import { child, retryOnConnectionLoss, sortedBySequence, waitForEvent } from './common';
import { Mutex, type LockHandle } from './lock';

const LATCH = 'latch-';

export interface LeaderLatchOptions {
  /** Participant id stored in the latch node. Default: a random uuid. */
  id?: string;
}

export declare interface LeaderLatch {
  on(event: 'isLeader' | 'notLeader', listener: () => void): this;
  on(event: 'error', listener: (err: unknown) => void): this;
}

export class LeaderLatch extends EventEmitter {
  readonly id: string;
  private ourPath: string | undefined;
  /** The create of our node while it is in flight: there is only ever one (see createNode). */
  private creating: Promise<void> | undefined;
  private leader = false;
  private started = false;
  private closed = false;
  private checking = false;
  private dirty = false;
  private readonly onState = (s: ConnectionState) => this.stateChanged(s);

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    opts: LeaderLatchOptions = {},
  ) {
    super();
    this.id = opts.id ?? randomUUID();
  }

  get hasLeadership(): boolean {
    return this.leader;
  }

  /** Joins the election. Resolves once our node exists (not when we lead: see await()). */
  async start(): Promise<void> {
    if (this.started) throw new Error('LeaderLatch already started');
    this.started = true;
    this.client.on('state', this.onState);
    await this.createNode();
    this.kick();
  }

  /** Resolves true once we lead, false if the timeout passes or the latch closes first. */
  await(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<boolean> {
    if (this.leader) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      const t = opts.timeoutMs !== undefined ? setTimeout(() => finish(false), opts.timeoutMs) : undefined;
      const onLeader = () => finish(true);
      const onAbort = () => {
        cleanup();
        reject(new AbortError(opts.signal?.reason));
      };
      const cleanup = () => {
        clearTimeout(t);
        this.off('isLeader', onLeader);
        this.off('closed', onClosed);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onClosed = () => finish(false);
      const finish = (v: boolean) => {
        cleanup();
        resolve(v);
      };
      this.on('isLeader', onLeader);
      this.once('closed', onClosed);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Participants in queue order; the first leads. */
  async participants(): Promise<{ id: string; path: string; isLeader: boolean }[]> {
    const { children } = await this.client.getChildren(this.path);
    const sorted = sortedBySequence(children, LATCH);
    const out: { id: string; path: string; isLeader: boolean }[] = [];
    for (const [i, name] of sorted.entries()) {
      try {
        const { data } = await this.client.getData(child(this.path, name));
        out.push({ id: data?.toString('utf8') ?? '', path: child(this.path, name), isLeader: i === 0 });
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    }
    return out;
  }

  /** Leaves the election: deletes our node and gives up leadership. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.off('state', this.onState);
    this.setLeader(false);
    this.emit('closed');
    const p = this.ourPath;
    this.ourPath = undefined;
    if (p) await this.deleteQuietly(p);
  }

  private stateChanged(s: ConnectionState): void {
    if (this.closed) return;
    if (s === 'suspended' || s === 'lost') this.setLeader(false);
    if (s === 'reconnected' || s === 'connected') this.kick();
  }

  private setLeader(v: boolean): void {
    if (this.leader === v) return;
    this.leader = v;
    this.emit(v ? 'isLeader' : 'notLeader');
  }

  /**
   * Creates our node, once: a check kicked while the create is in flight (a reconnect during
   * start()) waits for it instead of creating a second node, which would be an orphan ahead of us
   * for the session's lifetime. A node whose create finishes after close() is deleted at once.
   */
  private createNode(): Promise<void> {
    this.creating ??= (async () => {
      try {
        // Protected (Curator's `_c_<uuid>-` prefix): after a ConnectionLoss the client finds our node.
        const r = await this.client.create(child(this.path, LATCH), this.id, { mode: 'ephemeralSequential', createParents: true, protected: true });
        if (this.closed) await this.deleteQuietly(r.path);
        else this.ourPath = r.path;
      } finally {
        this.creating = undefined;
      }
    })();
    return this.creating;
  }

  private async deleteQuietly(p: string): Promise<void> {
    if (this.client.state === 'closed') return;
    // Guaranteed: retried in the background past the retries below while the client is open, so
    // a node given up while cut off cannot stay ahead of every later participant.
    const deleted = retryOnConnectionLoss(() => this.client.delete(p, { guaranteed: true })).catch(() => undefined);
    // Cut off, the delete waits for a reconnect that may never come: do not hang on it (if the
    // session is lost, the node goes with it anyway).
    if (this.client.isConnected) await deleted;
  }

  /** Runs the leadership check; overlapping requests collapse into one more pass. */
  private kick(): void {
    if (this.closed || !this.started) return;
    if (this.checking) {
      this.dirty = true;
      return;
    }
    this.checking = true;
    void (async () => {
      try {
        do {
          this.dirty = false;
          await this.checkOnce().catch((err) => this.failed(err));
        } while (this.dirty && !this.closed);
      } finally {
        this.checking = false;
      }
    })();
  }

  private failed(err: unknown): void {
    // Connection trouble is handled by the state listener (a reconnect kicks a new check).
    if (err instanceof ConnectionLossError || (err as Error)?.name === 'SessionExpiredError' || (err as Error)?.name === 'ClientClosedError') return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private async checkOnce(): Promise<void> {
    if (this.closed) return;
    const { children } = await this.client.getChildren(this.path);
    const sorted = sortedBySequence(children, LATCH);
    const ours = this.ourPath?.slice(this.ourPath.lastIndexOf('/') + 1);
    if (this.creating) {
      // start() (or an earlier pass) is still creating our node: check again once it exists.
      await this.creating;
      this.dirty = true;
      return;
    }
    if (!ours || !sorted.includes(ours)) {
      // Our node went with a lost session: queue again at the back.
      this.setLeader(false);
      await this.createNode();
      this.dirty = true;
      return;
    }
    const i = sorted.indexOf(ours);
    if (i === 0) {
      if (this.client.isConnected) this.setLeader(true);
      return;
    }
    this.setLeader(false);
    try {
      const { watch } = await this.client.getData(child(this.path, sorted[i - 1]!), { watch: true });
      void waitForEvent(watch).then(() => this.kick());
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      this.dirty = true;
    }
  }
}

export interface LeaderElectionOptions {
  /** Queue again after leadership ends. Default true. */
  autoRequeue?: boolean;
}

/**
 * LeaderSelector-style election: `leader(signal)` runs while we lead; return (or throw) to give
 * leadership up. The signal aborts on `suspended`, `lost` and close(): stop leader work then.
 */
export class LeaderElection {
  private readonly mutex: Mutex;
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private leading = false;

  constructor(
    client: ZkClient,
    readonly path: string,
    private readonly leader: (signal: AbortSignal) => Promise<void>,
    private readonly opts: LeaderElectionOptions = {},
  ) {
    this.mutex = new Mutex(client, path, { revokeOnSuspended: true });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.loop) throw new Error('LeaderElection already started');
    this.loop = this.run();
  }

  async close(): Promise<void> {
    this.stop.abort(new Error('election closed'));
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      let handle: LockHandle;
      try {
        handle = await this.mutex.acquire({ signal: this.stop.signal });
      } catch {
        if (this.stop.signal.aborted) return;
        continue; // connection trouble while queueing: queue again
      }
      this.leading = true;
      try {
        await this.leader(AbortSignal.any([handle.signal, this.stop.signal]));
      } catch {
        // A failing leader callback gives up leadership like a returning one.
      } finally {
        this.leading = false;
        await handle.release().catch(() => undefined);
      }
      if (this.opts.autoRequeue === false) return;
    }
  }
}
