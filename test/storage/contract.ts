import { StorageFatalError, type Failpoints, type LogEntry, type Store } from '../../src/storage';

/** Opens stores on one persistent "disk" (a temp dir, or a MemoryDisk); `open` again = restart. */
export interface StoreEnv {
  open(failpoints?: Failpoints): Store;
  dispose(): void;
}

export const z = (epoch: number, counter: number): bigint => (BigInt(epoch) << 32n) | BigInt(counter);
export const payload = (zxid: bigint): Buffer => Buffer.from(`txn@${zxid.toString(16)}`);
export const entry = (zxid: bigint): LogEntry => ({ zxid, data: payload(zxid) });
/** Entries for counters from..to (inclusive) in one epoch. */
export const run = (epoch: number, from: number, to: number): LogEntry[] => {
  const out: LogEntry[] = [];
  for (let c = from; c <= to; c++) out.push(entry(z(epoch, c)));
  return out;
};
const HS1 = { acceptedEpoch: 1, currentEpoch: 1 };

/** The behaviour every Store implementation must share. */
export function storeContract(name: string, makeEnv: () => StoreEnv): void {
  describe(`${name}: Store contract`, () => {
    let env: StoreEnv;
    let store: Store;
    beforeEach(() => {
      env = makeEnv();
      store = env.open();
    });
    afterEach(() => {
      store.close();
      env.dispose();
    });
    const reopen = (fp?: Failpoints): Store => {
      store.close();
      store = env.open(fp);
      return store;
    };

    test('a fresh store is empty', () => {
      expect(store.hardState()).toEqual({ acceptedEpoch: 0, currentEpoch: 0 });
      expect(store.lastZxid()).toBe(0n);
      expect(store.firstLogZxid()).toBeUndefined();
      expect(store.readLog(0n)).toEqual([]);
      expect(store.latestSnapshot()).toBeUndefined();
      expect(store.listSnapshots()).toEqual([]);
    });

    test('persist appends entries that readLog returns in order, paged', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 5) });
      store.persist({ entries: run(1, 6, 10) });
      expect(store.lastZxid()).toBe(z(1, 10));
      expect(store.firstLogZxid()).toBe(z(1, 1));
      expect(store.readLog(0n)).toEqual(run(1, 1, 10));
      expect(store.readLog(z(1, 3), 2)).toEqual(run(1, 4, 5));
      expect(store.readLog(z(1, 10))).toEqual([]);
      expect(store.readLog(z(1, 8), 100)).toEqual(run(1, 9, 10));
      const pages: bigint[] = [];
      for (let after = 0n; ; ) {
        const page = store.readLog(after, 3);
        if (page.length === 0) break;
        pages.push(...page.map((e) => e.zxid));
        after = page[page.length - 1].zxid;
      }
      expect(pages).toEqual(run(1, 1, 10).map((e) => e.zxid));
    });

    test('hard state is stored and returned by value', () => {
      store.persist({ hardState: { acceptedEpoch: 3, currentEpoch: 2 } });
      const hs = store.hardState();
      hs.acceptedEpoch = 99;
      expect(store.hardState()).toEqual({ acceptedEpoch: 3, currentEpoch: 2 });
      expect(reopen().hardState()).toEqual({ acceptedEpoch: 3, currentEpoch: 2 });
    });

    test('an epoch boundary restarts the counter at 1', () => {
      store.persist({ hardState: { acceptedEpoch: 3, currentEpoch: 3 }, entries: [...run(1, 1, 3), ...run(3, 1, 2)] });
      expect(store.lastZxid()).toBe(z(3, 2));
      expect(reopen().readLog(0n).map((e) => e.zxid)).toEqual([z(1, 1), z(1, 2), z(1, 3), z(3, 1), z(3, 2)]);
    });

    test.each([
      ['a duplicate', [z(1, 3)]],
      ['an older zxid', [z(1, 2)]],
      ['a hole within an epoch', [z(1, 5)]],
      ['a new epoch not starting at counter 1', [z(2, 2)]],
      ['a batch out of order', [z(1, 5), z(1, 4)]],
      ['a zxid that is not a bigint', [3 as unknown as bigint]],
    ])('rejects %s without writing anything', (_label, zxids) => {
      store.persist({ hardState: { acceptedEpoch: 2, currentEpoch: 2 }, entries: run(1, 1, 3) });
      expect(() => store.persist({ entries: zxids.map((x) => ({ zxid: x, data: Buffer.alloc(1) })), hardState: { acceptedEpoch: 7, currentEpoch: 7 } })).toThrow();
      expect(store.lastZxid()).toBe(z(1, 3));
      expect(store.hardState().acceptedEpoch).toBe(2);
      // A rejected batch is a caller bug, not an I/O failure: the store keeps working.
      store.persist({ entries: run(1, 4, 4) });
      expect(reopen().readLog(0n)).toEqual(run(1, 1, 4));
    });

    test('rejects an invalid hard state', () => {
      expect(() => store.persist({ hardState: { acceptedEpoch: -1, currentEpoch: 0 } })).toThrow();
      expect(() => store.persist({ hardState: { acceptedEpoch: 1.5, currentEpoch: 0 } })).toThrow();
      expect(store.hardState()).toEqual({ acceptedEpoch: 0, currentEpoch: 0 });
    });

    test('truncation, then entries, then hard state, in one batch', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 6) });
      store.persist({ truncateAfter: z(1, 3), entries: [entry(z(2, 1))], hardState: { acceptedEpoch: 2, currentEpoch: 2 } });
      const expected = [...run(1, 1, 3), entry(z(2, 1))];
      expect(store.readLog(0n)).toEqual(expected);
      expect(store.lastZxid()).toBe(z(2, 1));
      const again = reopen();
      expect(again.readLog(0n)).toEqual(expected);
      expect(again.hardState()).toEqual({ acceptedEpoch: 2, currentEpoch: 2 });
    });

    test('truncating to a point lets the log continue from it', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 6) });
      store.persist({ truncateAfter: z(1, 4) });
      expect(store.lastZxid()).toBe(z(1, 4));
      expect(() => store.persist({ entries: run(1, 6, 6) })).toThrow();
      store.persist({ entries: run(1, 5, 5) });
      expect(store.readLog(0n)).toEqual(run(1, 1, 5));
    });

    test('truncating everything empties the log', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      store.persist({ truncateAfter: 0n });
      expect(store.firstLogZxid()).toBeUndefined();
      expect(store.lastZxid()).toBe(0n);
      store.persist({ entries: run(1, 1, 1) });
      expect(store.firstLogZxid()).toBe(z(1, 1));
      expect(reopen().readLog(0n)).toEqual(run(1, 1, 1));
    });

    test('truncating above the log end is a no-op', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      store.persist({ truncateAfter: z(1, 9) });
      expect(store.readLog(0n)).toEqual(run(1, 1, 3));
    });

    test('refuses to truncate below the newest snapshot', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 6) });
      store.saveSnapshot(z(1, 4), Buffer.from('snap'), 1000);
      expect(() => store.persist({ truncateAfter: z(1, 3) })).toThrow(/snapshot/);
      expect(store.readLog(0n)).toEqual(run(1, 1, 6));
      store.persist({ truncateAfter: z(1, 4) });
      expect(store.lastZxid()).toBe(z(1, 4));
    });

    test('snapshots: save, latest, list, replace', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 6) });
      store.saveSnapshot(z(1, 2), Buffer.from('two'), 1000);
      store.saveSnapshot(z(1, 5), Buffer.from('five!'), 2000);
      expect(store.latestSnapshot()).toEqual({ zxid: z(1, 5), data: Buffer.from('five!'), createdAt: 2000 });
      expect(store.listSnapshots()).toEqual([
        { zxid: z(1, 2), bytes: 3, createdAt: 1000 },
        { zxid: z(1, 5), bytes: 5, createdAt: 2000 },
      ]);
      store.saveSnapshot(z(1, 5), Buffer.from('5'), 3000);
      expect(store.listSnapshots().length).toBe(2);
      expect(reopen().latestSnapshot()).toEqual({ zxid: z(1, 5), data: Buffer.from('5'), createdAt: 3000 });
      expect(store.lastZxid()).toBe(z(1, 6));
    });

    test('a snapshot beyond the log end replaces the log (SNAP sync)', () => {
      store.persist({ hardState: { acceptedEpoch: 2, currentEpoch: 2 }, entries: run(1, 1, 2) });
      store.saveSnapshot(z(2, 7), Buffer.from('snap'), 5);
      expect(store.lastZxid()).toBe(z(2, 7));
      expect(store.firstLogZxid()).toBeUndefined();
      expect(store.readLog(0n)).toEqual([]);
      expect(() => store.persist({ entries: run(1, 3, 3) })).toThrow();
      store.persist({ entries: run(2, 8, 9) });
      expect(reopen().lastZxid()).toBe(z(2, 9));
      expect(store.readLog(0n)).toEqual(run(2, 8, 9));
      expect(store.firstLogZxid()).toBe(z(2, 8));
    });

    test('a snapshot at the log end keeps the log', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      store.saveSnapshot(z(1, 3), Buffer.from('snap'), 5);
      expect(reopen().readLog(0n)).toEqual(run(1, 1, 3));
    });

    test('a snapshot on a fresh store stands in for an empty log', () => {
      store.persist({ hardState: HS1 });
      store.saveSnapshot(z(1, 10), Buffer.from('s'), 1);
      expect(reopen().lastZxid()).toBe(z(1, 10));
      expect(store.firstLogZxid()).toBeUndefined();
    });

    test('rejects invalid snapshot arguments', () => {
      expect(() => store.saveSnapshot(-1n, Buffer.from('x'), 1)).toThrow();
      expect(() => store.saveSnapshot(1n, 'x' as unknown as Buffer, 1)).toThrow();
      expect(() => store.saveSnapshot(1n, Buffer.from('x'), 1.5)).toThrow();
      expect(store.listSnapshots()).toEqual([]);
    });

    test('purge keeps at least 3 snapshots and the log after the oldest kept', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 60) });
      for (let i = 1; i <= 5; i++) store.saveSnapshot(z(1, i * 10), Buffer.from(`s${i}`), i);
      expect(store.purge(1)).toEqual({ snapshotsRemoved: 2, logEntriesRemoved: 30 });
      expect(store.listSnapshots().map((s) => s.zxid)).toEqual([z(1, 30), z(1, 40), z(1, 50)]);
      expect(store.firstLogZxid()).toBe(z(1, 31));
      expect(store.lastZxid()).toBe(z(1, 60));
      expect(store.readLog(0n)).toEqual(run(1, 31, 60));
      expect(store.purge(3)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 0 });
      const again = reopen();
      expect(again.firstLogZxid()).toBe(z(1, 31));
      expect(again.latestSnapshot()?.zxid).toBe(z(1, 50));
    });

    test('purge with equal retain count and snapshot count removes nothing', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 4) });
      for (let i = 1; i <= 4; i++) store.saveSnapshot(z(1, i), Buffer.from('s'), i);
      expect(store.purge(4)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 0 });
      expect(store.purge(3)).toEqual({ snapshotsRemoved: 1, logEntriesRemoved: 2 });
      expect(reopen().readLog(0n)).toEqual(run(1, 3, 4));
      expect(store.lastZxid()).toBe(z(1, 4));
    });

    test('reopen preserves everything', () => {
      store.persist({ hardState: { acceptedEpoch: 2, currentEpoch: 1 }, entries: run(1, 1, 20) });
      store.saveSnapshot(z(1, 15), Buffer.from([0, 1, 2, 255]), 123456789);
      const again = reopen();
      expect(again.hardState()).toEqual({ acceptedEpoch: 2, currentEpoch: 1 });
      expect(again.readLog(0n)).toEqual(run(1, 1, 20));
      expect(again.lastZxid()).toBe(z(1, 20));
      expect(again.firstLogZxid()).toBe(z(1, 1));
      expect(again.latestSnapshot()).toEqual({ zxid: z(1, 15), data: Buffer.from([0, 1, 2, 255]), createdAt: 123456789 });
    });

    test('durable bytes cannot be changed through the caller\'s buffers', () => {
      const data = Buffer.from('abc');
      store.persist({ hardState: HS1, entries: [{ zxid: z(1, 1), data }] });
      data[0] = 0x7a;
      expect(store.readLog(0n)[0].data.toString()).toBe('abc');
    });

    describe.each([
      ['beforeCommit throws', { beforeCommit: () => { throw new Error('boom'); } }],
      ['fsync fails', { failFsync: true }],
    ] as [string, Failpoints][])('when %s', (_label, fp) => {
      test('persist throws StorageFatalError and persists nothing of the batch', () => {
        store.persist({ hardState: HS1, entries: run(1, 1, 3) });
        store.saveSnapshot(z(1, 2), Buffer.from('s'), 1);
        const failing = reopen(fp);
        expect(() => failing.persist({ truncateAfter: z(1, 2), entries: run(1, 3, 9), hardState: { acceptedEpoch: 5, currentEpoch: 5 } })).toThrow(StorageFatalError);
        expect(failing.readLog(0n)).toEqual(run(1, 1, 3));
        expect(failing.lastZxid()).toBe(z(1, 3));
        expect(failing.hardState()).toEqual(HS1);
        // Fail-stop: no retry after a failed write.
        expect(() => failing.persist({ entries: run(1, 4, 4) })).toThrow(StorageFatalError);
        expect(() => failing.saveSnapshot(z(1, 3), Buffer.from('s'), 2)).toThrow(StorageFatalError);
        const after = reopen();
        expect(after.readLog(0n)).toEqual(run(1, 1, 3));
        expect(after.hardState()).toEqual(HS1);
        after.persist({ entries: run(1, 4, 4) });
        expect(after.lastZxid()).toBe(z(1, 4));
      });

      test('saveSnapshot throws StorageFatalError and saves nothing', () => {
        store.persist({ hardState: HS1, entries: run(1, 1, 3) });
        const failing = reopen(fp);
        expect(() => failing.saveSnapshot(z(1, 3), Buffer.from('s'), 1)).toThrow(StorageFatalError);
        expect(failing.latestSnapshot()).toBeUndefined();
        expect(reopen().listSnapshots()).toEqual([]);
      });
    });

    test('a closed store refuses use', () => {
      store.close();
      expect(() => store.readLog(0n)).toThrow(/closed/);
      expect(() => store.persist({ hardState: HS1 })).toThrow(/closed/);
      store = env.open();
    });
  });
}
