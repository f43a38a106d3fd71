/**
 * zxid arithmetic, in one place for the quorum core, the stores and the server (ZAB):
 * zxid = epoch << 32 | counter. Kept as bigint: a 64-bit value does not fit in a double.
 */
export const COUNTER_MAX = 0xffffffffn;

/** zxids are stored as SQLite INTEGER (signed 64-bit), like ZooKeeper's Java long. */
export const ZXID_MAX = (1n << 63n) - 1n;

export function makeZxid(epoch: number, counter: bigint): bigint {
  return (BigInt(epoch) << 32n) | counter;
}

export function epochOf(zxid: bigint): number {
  return Number(zxid >> 32n);
}

export function counterOf(zxid: bigint): bigint {
  return zxid & COUNTER_MAX;
}

export function zxidHex(zxid: bigint): string {
  return '0x' + zxid.toString(16);
}

/**
 * The successor rule (ZAB Z4): `next` may follow `last` in a log only if it is greater and, within
 * one epoch, the counters are contiguous; a new epoch's history starts at counter 1. `last` 0n
 * means nothing before it. Rejecting holes is ZOOKEEPER-4925's lesson.
 */
export function isSuccessor(last: bigint, next: bigint): boolean {
  if (next <= last) return false;
  if (epochOf(next) === epochOf(last)) return counterOf(next) === counterOf(last) + 1n;
  return counterOf(next) === 1n;
}

/**
 * The zxid a leader of `epoch` gives its next proposal when its log ends at `last`, or undefined
 * when the counter would pass `counterMax` (the leader must start a new epoch: ZOOKEEPER-1277).
 */
export function nextZxid(last: bigint, epoch: number, counterMax = COUNTER_MAX): bigint | undefined {
  // Called twice per write: the usual case (same epoch) makes three bigints, not six.
  if (epochOf(last) === epoch) return counterOf(last) >= counterMax ? undefined : last + 1n;
  return counterMax < 1n ? undefined : makeZxid(epoch, 1n);
}
