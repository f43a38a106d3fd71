/**
 * What the two simulators share (coresim.ts: the pure core; sim.ts: the whole server): the shape of
 * a seed's result, and the checks of what a member's memory store made durable. Both put each
 * member on a persistent MemoryDisk (src/storage/memory.ts), so these read that disk directly:
 * it is exactly what would survive a crash at this instant. Each check returns the problem (or
 * undefined); the caller names the member and fails the seed its own way.
 */
import type { PeerMessage } from '../../../protocol/peer/messages';
import type { RoleEvent } from '../../../src/quorum/core';
import type { MemoryDisk } from '../../../src/storage/memory';
import type { HardState, Store } from '../../../src/storage/types';
import { zxidHex } from '../../../src/util/zxid';

export interface SimResult<Stats> {
  ok: boolean;
  seed: number;
  failure?: string;
  trace: string[];
  stats: Stats;
}

/** The store with some of its methods replaced (to check or fault what goes through them); the rest run on the store itself. */
export function overriding<T extends object = Store>(store: T, methods: Partial<T>): T {
  return new Proxy(store, {
    get: (target, key: keyof T & string) => {
      const own = methods[key];
      if (own !== undefined) return own;
      const v = target[key];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The highest durable zxid: the last logged txn or the latest snapshot, whichever is higher. */
export function durableLast(d: MemoryDisk): bigint {
  const last = d.log.at(-1)?.zxid ?? 0n;
  const snap = d.catalog.at(-1)?.zxid ?? 0n;
  return last > snap ? last : snap;
}

/** zxids logged after the latest snapshot that are known to be committed. */
export function committedOnDisk(d: MemoryDisk, isCommitted: (zxid: bigint) => boolean): bigint[] {
  const snap = d.catalog.at(-1)?.zxid ?? 0n;
  return d.log.filter((e) => e.zxid > snap && isCommitted(e.zxid)).map((e) => e.zxid);
}

/** Z11: of the committed txns the disk held before a TRUNC or SNAP install, one it holds no more (not even in its snapshot). */
export function committedLost(d: MemoryDisk, before: readonly bigint[]): bigint | undefined {
  const snap = d.catalog.at(-1)?.zxid ?? 0n;
  const have = new Set(d.log.map((e) => e.zxid));
  return before.find((z) => z > snap && !have.has(z));
}

/** Z2: epochs never go backwards, and currentEpoch never passes acceptedEpoch. */
export function epochsProblem(was: HardState, now: HardState): string | undefined {
  if (now.acceptedEpoch < was.acceptedEpoch || now.currentEpoch < was.currentEpoch) {
    return `epochs went backwards (${was.acceptedEpoch},${was.currentEpoch}) -> (${now.acceptedEpoch},${now.currentEpoch}) (Z2)`;
  }
  if (now.currentEpoch > now.acceptedEpoch) return `currentEpoch ${now.currentEpoch} > acceptedEpoch ${now.acceptedEpoch} (Z2)`;
  return undefined;
}

/**
 * Z9: an ACK means "durable": the acked history is on disk, and for a NEWLEADER ACK so is the
 * currentEpoch of `epoch` (the epoch the sender is syncing into, when known).
 */
export function ackProblem(d: MemoryDisk, msg: PeerMessage, epoch: number | undefined): string | undefined {
  if (msg.type !== 'ack') return undefined;
  const durable = durableLast(d);
  if (durable < msg.zxid) return `ACK ${zxidHex(msg.zxid)} sent while only ${zxidHex(durable)} is durable (Z9 persist-before-ACK)`;
  if (msg.newLeader && epoch !== undefined && d.hardState.currentEpoch < epoch) return `NEWLEADER ACK for epoch ${epoch} sent before currentEpoch was durable (Z9)`;
  return undefined;
}

/**
 * Stability, once the ensemble is healthy and quiet: nobody looks for another leader. A learner
 * finishing its sync with the quiet leader is progress, not flapping.
 */
export function flappingProblem(quietLeader: { id: number; epoch: number } | undefined, ev: RoleEvent): string | undefined {
  const q = quietLeader;
  if (q && ev.role !== 'looking' && ev.leader === q.id && ev.epoch === q.epoch) return undefined;
  return `went ${ev.role}/${ev.phase} epoch ${ev.epoch} with a healthy network (leader was n${q?.id ?? '?'} epoch ${q?.epoch ?? '?'})`;
}
