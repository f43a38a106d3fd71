/**
 * Proves the tree's columns grow without losing or inventing data: elements kept, new ones zero,
 * for every column type, and that large columns grow in place (the same memory, no copy).
 */
import { grownColumn } from '../../src/tree/columns';

describe('grownColumn', () => {
  test.each([
    ['Int32Array', Int32Array, (i: number) => i * 7 - 3],
    ['BigInt64Array', BigInt64Array, (i: number) => BigInt(i) * 0x1_0000_0001n],
    ['Uint8Array', Uint8Array, (i: number) => i & 0xff],
  ] as const)('%s: kept, zero-filled, in place once large', (_name, Ctor, value) => {
    let col = new (Ctor as unknown as new (n: number) => Int32Array | BigInt64Array | Uint8Array)(0);
    let len = 0;
    for (let cap = 1024; cap <= 1 << 18; cap *= 2) {
      const before = col.buffer;
      col = grownColumn(Ctor as never, col, cap);
      expect(col.length).toBe(cap);
      for (let i = 0; i < len; i += 997) expect(col[i]).toBe(value(i));
      expect(col[len]).toBe(typeof col[0] === 'bigint' ? 0n : 0);
      expect(col[cap - 1]).toBe(typeof col[0] === 'bigint' ? 0n : 0);
      // Once a column has room, growing reuses the same memory.
      if (cap > 1 << 16) expect(col.buffer).toBe(before);
      for (let i = len; i < cap; i++) col[i] = value(i) as never;
      len = cap;
    }
  });
});
