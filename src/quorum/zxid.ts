/**
 * zxid = epoch << 32 | counter (ZAB). Kept as bigint: a 64-bit value does not fit in a double.
 */
export const COUNTER_MAX = 0xffffffffn;

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
