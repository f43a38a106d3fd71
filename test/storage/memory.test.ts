import { createMemoryStore, newMemoryDisk, StoreCorruptError, type MemoryDisk } from '../../src/storage';
import { storeContract, run, z } from './contract';

storeContract('memory', () => {
  const disk = newMemoryDisk();
  return { open: (failpoints) => createMemoryStore({ disk, failpoints }), dispose: () => undefined };
});

describe('memory store: refuses an inconsistent disk', () => {
  const hs = { acceptedEpoch: 1, currentEpoch: 1 };
  const cases: [string, () => MemoryDisk, RegExp][] = [
    ['a hole in the log', () => ({ hardState: hs, log: [...run(1, 1, 2), ...run(1, 4, 5)], snapshots: [] }), /hole/],
    ['a log not starting at counter 1 without a snapshot', () => ({ hardState: hs, log: run(1, 3, 5), snapshots: [] }), /no snapshot/],
    ['a gap between snapshot and log', () => ({ hardState: hs, log: run(1, 7, 9), snapshots: [{ zxid: z(1, 4), data: Buffer.from('s'), createdAt: 0 }] }), /missing/],
    ['epochs beyond acceptedEpoch', () => ({ hardState: { acceptedEpoch: 0, currentEpoch: 0 }, log: run(1, 1, 1), snapshots: [] }), /acceptedEpoch/],
  ];
  test.each(cases)('%s', (_label, make, message) => {
    expect(() => createMemoryStore({ disk: make() })).toThrow(StoreCorruptError);
    expect(() => createMemoryStore({ disk: make() })).toThrow(message);
  });

  test('an interrupted snapshot install is finished: the superseded log is dropped', () => {
    const disk = { hardState: hs, log: run(1, 1, 3), snapshots: [{ zxid: z(1, 9), data: Buffer.from('s'), createdAt: 0 }] };
    const store = createMemoryStore({ disk });
    expect(store.readLog(0n)).toEqual([]);
    expect(store.lastZxid()).toBe(z(1, 9));
  });

  test('a log continuing right after the snapshot is fine', () => {
    const disk = { hardState: hs, log: run(1, 3, 6), snapshots: [{ zxid: z(1, 4), data: Buffer.from('s'), createdAt: 0 }] };
    expect(createMemoryStore({ disk }).lastZxid()).toBe(z(1, 6));
  });
});
