/**
 * Barriers.
 *
 * Barrier (Curator DistributedBarrier): a node that exists while the barrier is up; waiters block
 * until it is deleted. The node is persistent, so `suspended` and `lost` do not change it:
 * waiters keep waiting across reconnects (their watch is re-armed, or re-set after `lost`).
 *
 * DoubleBarrier (Curator DistributedDoubleBarrier): `memberQty` participants enter (each an
 * ephemeral child) and start together once all are in (a `ready` node is created); they leave
 * together. The membership nodes are ephemeral: a participant whose session is `lost` drops out,
 * which can stall the others until their timeout. `suspended` is ridden out.
 */
import { randomUUID } from 'node:crypto';
import { NoNodeError, NodeExistsError, type WatchedEvent, type ZkClient } from '../client';
import { child, retryOnConnectionLoss, waitForEvent } from './common';

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up after this long: the call resolves false. */
  timeoutMs?: number;
}

const remaining = (deadline: number | undefined): number | undefined => (deadline === undefined ? undefined : deadline - Date.now());

export class Barrier {
  constructor(
    private readonly client: ZkClient,
    readonly path: string,
  ) {}

  /** Raises the barrier (idempotent). */
  async set(): Promise<void> {
    try {
      await retryOnConnectionLoss(() => this.client.create(this.path, null, { createParents: true }));
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
  }

  /** Lowers the barrier, releasing every waiter (idempotent). */
  async remove(): Promise<void> {
    try {
      await retryOnConnectionLoss(() => this.client.delete(this.path));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  /** Resolves true once the barrier is down, false on timeout. */
  async wait(opts: WaitOptions = {}): Promise<boolean> {
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
    for (;;) {
      const { stat, watch } = await retryOnConnectionLoss(() => this.client.exists(this.path, { watch: true }), opts.signal);
      // (An exists-watch left on the missing node fires harmlessly when the barrier is set again.)
      if (!stat) return true;
      const left = remaining(deadline);
      if (left !== undefined && left <= 0) return false;
      if ((await waitForEvent(watch, opts.signal, left)) === 'timeout') return false;
    }
  }
}

const READY = 'ready';

export class DoubleBarrier {
  private readonly ourName: string;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    readonly memberQty: number,
    id: string = randomUUID(),
  ) {
    this.ourName = id;
  }

  private get readyPath(): string {
    return child(this.path, READY);
  }

  private async members(): Promise<string[]> {
    try {
      const { children } = await retryOnConnectionLoss(() => this.client.getChildren(this.path));
      return children.filter((c) => c !== READY).sort();
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** Joins and waits until memberQty participants are in. False on timeout (we leave again). */
  async enter(opts: WaitOptions = {}): Promise<boolean> {
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
    const ours = child(this.path, this.ourName);
    try {
      await retryOnConnectionLoss(() => this.client.create(ours, null, { mode: 'ephemeral', createParents: true }), opts.signal);
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
    }
    for (;;) {
      const { stat, watch } = await retryOnConnectionLoss(() => this.client.exists(this.readyPath, { watch: true }), opts.signal);
      if (stat) return true;
      if ((await this.members()).length >= this.memberQty) {
        try {
          await retryOnConnectionLoss(() => this.client.create(this.readyPath));
        } catch (err) {
          if (!(err instanceof NodeExistsError)) throw err;
        }
        return true;
      }
      const left = remaining(deadline);
      if ((left !== undefined && left <= 0) || (await waitForEvent(watch, opts.signal, left)) === 'timeout') {
        await this.client.delete(ours).catch(() => undefined);
        return false;
      }
    }
  }

  /** Leaves and waits until every participant has left. False on timeout. */
  async leave(opts: WaitOptions = {}): Promise<boolean> {
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : undefined;
    for (;;) {
      const members = await this.members();
      const present = members.includes(this.ourName);
      let watch: Promise<WatchedEvent> | undefined;
      if (members.length === 0 || (members.length === 1 && present)) {
        if (present) await this.deleteOurs();
        await this.client.delete(this.readyPath).catch(() => undefined);
        return true;
      }
      if (!present && members.length > 0) {
        // We are out; wait for the lowest remaining member to go.
        watch = (await this.watchMember(members[0]!))?.watch;
      } else if (members[0] === this.ourName) {
        // The lowest stays last and watches the highest (Curator's scheme: no herd).
        watch = (await this.watchMember(members[members.length - 1]!))?.watch;
      } else {
        await this.deleteOurs();
        watch = (await this.watchMember(members[0]!))?.watch;
      }
      if (!watch) continue;
      const left = remaining(deadline);
      if ((left !== undefined && left <= 0) || (await waitForEvent(watch, opts.signal, left)) === 'timeout') return false;
    }
  }

  private async deleteOurs(): Promise<void> {
    try {
      await retryOnConnectionLoss(() => this.client.delete(child(this.path, this.ourName)));
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
  }

  /** getData watch on a member (undefined if it is already gone). */
  private async watchMember(name: string): Promise<{ watch: Promise<WatchedEvent> } | undefined> {
    try {
      const { watch } = await retryOnConnectionLoss(() => this.client.getData(child(this.path, name), { watch: true }));
      return { watch };
    } catch (err) {
      if (err instanceof NoNodeError) return undefined;
      throw err;
    }
  }
}
