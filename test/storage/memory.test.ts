import { createMemoryStore, newMemoryDisk, StoreCorruptError, type MemoryDisk } from '../../src/storage';
import { storeContract, run, z } from './contract';

storeContract('memory', () => {
  const disk = newMemoryDisk();
  return { open: (failpoints) => createMemoryStore({ disk, failpoints }), dispose: () => undefined };
});

describe('memory store: refuses an inconsistent disk', () => {
  const hs = { acceptedEpoch: 1, currentEpoch: 1 };
  const snapAt = (zxid: bigint) => ({ zxid, id: 1, createdAt: 0, bytes: 1, chunks: 1, checksum: 0 });
  const bodies = () => new Map([[1, [{ crc: 0, data: Buffer.from('s') }]]]);
  const cases: [string, () => MemoryDisk, RegExp][] = [
    ['a hole in the log', () => ({ hardState: hs, log: [...run(1, 1, 2), ...run(1, 4, 5)], catalog: [], bodies: new Map() }), /hole/],
    ['a log not starting at counter 1 without a snapshot', () => ({ hardState: hs, log: run(1, 3, 5), catalog: [], bodies: new Map() }), /no snapshot/],
    ['a gap between snapshot and log', () => ({ hardState: hs, log: run(1, 7, 9), catalog: [snapAt(z(1, 4))], bodies: bodies() }), /missing/],
    ['epochs beyond acceptedEpoch', () => ({ hardState: { acceptedEpoch: 0, currentEpoch: 0 }, log: run(1, 1, 1), catalog: [], bodies: new Map() }), /acceptedEpoch/],
    ['a named snapshot whose body is gone', () => ({ hardState: hs, log: run(1, 1, 3), catalog: [snapAt(z(1, 2))], bodies: new Map() }), /chunks/],
  ];
  test.each(cases)('%s', (_label, make, message) => {
    expect(() => createMemoryStore({ disk: make() })).toThrow(StoreCorruptError);
    expect(() => createMemoryStore({ disk: make() })).toThrow(message);
  });

  test('an unnamed body (a crash before the naming commit) is ignored', () => {
    const disk = { hardState: hs, log: run(1, 1, 3), catalog: [], bodies: bodies() };
    const store = createMemoryStore({ disk });
    expect(store.listSnapshots()).toEqual([]);
    expect(store.readLog(0n)).toEqual(run(1, 1, 3));
    expect(store.purge(3).done).toBe(true);
    expect(disk.bodies.size).toBe(0);
  });

  test('a log continuing right after the snapshot is fine', () => {
    const disk = { hardState: hs, log: run(1, 3, 6), catalog: [snapAt(z(1, 4))], bodies: bodies() };
    expect(createMemoryStore({ disk }).lastZxid()).toBe(z(1, 6));
  });

  test('a damaged entry is refused when read', () => {
    const disk = newMemoryDisk();
    const store = createMemoryStore({ disk });
    store.persist({ hardState: hs, entries: run(1, 1, 3) });
    disk.log[1].data[2] ^= 0x40;
    expect(() => store.readLog(0n)).toThrow(/0x100000002 is damaged/);
  });
});
