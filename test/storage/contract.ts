import { readSnapshotBytes, StorageFatalError, writeSnapshotBytes, type Failpoints, type LogEntry, type SnapshotInfo, type Store } from '../../src/storage';
import { crc32, sealEntry } from '../../src/util/checksum';
import { makeZxid } from '../../src/util/zxid';

/** Opens stores on one persistent "disk" (a temp dir, or a MemoryDisk); `open` again = restart. */
export interface StoreEnv {
  open(failpoints?: Failpoints): Store;
  dispose(): void;
}

export const z = (epoch: number, counter: number): bigint => makeZxid(epoch, BigInt(counter));
/** Sealed like every real log entry (payload + CRC). */
export const payload = (zxid: bigint): Buffer => sealEntry(zxid, Buffer.from(`txn@${zxid.toString(16)}`));
export const entry = (zxid: bigint): LogEntry => ({ zxid, data: payload(zxid) });
/** Entries for counters from..to (inclusive) in one epoch. */
export const run = (epoch: number, from: number, to: number): LogEntry[] => {
  const out: LogEntry[] = [];
  for (let c = from; c <= to; c++) out.push(entry(z(epoch, c)));
  return out;
};
const HS1 = { acceptedEpoch: 1, currentEpoch: 1 };

/** Writes a finished body (not yet a snapshot). */
export const body = (store: Store, zxid: bigint, data: string | Buffer, createdAt = 1): SnapshotInfo =>
  writeSnapshotBytes(store, zxid, Buffer.isBuffer(data) ? data : Buffer.from(data), createdAt);
/** A regular snapshot of state already in the log. */
export const save = (store: Store, zxid: bigint, data: string | Buffer, createdAt = 1): SnapshotInfo => {
  const info = body(store, zxid, data, createdAt);
  store.saveSnapshot(info);
  return info;
};
const key = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
const bytesOf = (store: Store, info: SnapshotInfo | undefined): string | undefined => info && readSnapshotBytes(store, info).toString();

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
      save(store, z(1, 4), 'snap', 1000);
      expect(() => store.persist({ truncateAfter: z(1, 3) })).toThrow(/snapshot/);
      expect(store.readLog(0n)).toEqual(run(1, 1, 6));
      store.persist({ truncateAfter: z(1, 4) });
      expect(store.lastZxid()).toBe(z(1, 4));
    });

    test('snapshots: save, latest, list, replace, read back', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 6) });
      save(store, z(1, 2), 'two', 1000);
      const five = save(store, z(1, 5), 'five!', 2000);
      expect(store.latestSnapshot()).toEqual(five);
      expect(bytesOf(store, store.latestSnapshot())).toBe('five!');
      expect(store.listSnapshots().map((s) => [s.zxid, s.bytes, s.createdAt])).toEqual([[z(1, 2), 3, 1000], [z(1, 5), 5, 2000]]);
      save(store, z(1, 5), '5', 3000);
      expect(store.listSnapshots().length).toBe(2);
      const again = reopen();
      expect(bytesOf(again, again.latestSnapshot())).toBe('5');
      expect(again.latestSnapshot()!.createdAt).toBe(3000);
      expect(again.lastZxid()).toBe(z(1, 6));
    });

    test('a big body is stored in CRC-checked chunks and read back in ranges', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 2) });
      const w = store.beginSnapshot();
      const parts = [Buffer.alloc(10, 1), Buffer.alloc(3, 2), Buffer.alloc(7, 3)];
      for (const part of parts) w.append(part);
      expect([w.chunks, w.bytes]).toEqual([3, 20]);
      const info = w.finish(z(1, 2), 5);
      store.saveSnapshot(info);
      expect(info).toMatchObject({ zxid: z(1, 2), chunks: 3, bytes: 20 });
      expect(reopen().readSnapshotChunks(info, 1, 5)).toEqual(parts.slice(1));
      expect(store.readSnapshotChunks(info, 0, 1)).toEqual(parts.slice(0, 1));
      // The CRCs it verified, for a loader's whole-body checksum.
      const crcs: number[] = [7];
      expect(store.readSnapshotChunks(info, 0, 3, crcs)).toEqual(parts);
      expect(crcs).toEqual([7, ...parts.map((p) => crc32(p))]);
    });

    test('a snapshot must be of state in the log: a later one goes through a SNAP install', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      expect(() => save(store, z(1, 4), 'ahead')).toThrow(/SNAP install/);
      expect(store.listSnapshots()).toEqual([]);
    });

    test('a SNAP install replaces log and snapshots, with its entries and epochs, in one batch', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 8) });
      save(store, z(1, 6), 'old');
      const snap = body(store, z(2, 3), 'leader-state', 7);
      store.persist({ snapshot: snap, entries: run(2, 4, 5), hardState: { acceptedEpoch: 3, currentEpoch: 3 } });
      const check = (s: Store) => {
        expect(s.listSnapshots()).toEqual([snap]);
        expect(bytesOf(s, s.latestSnapshot())).toBe('leader-state');
        expect(s.readLog(0n)).toEqual(run(2, 4, 5));
        expect(s.firstLogZxid()).toBe(z(2, 4));
        expect(s.lastZxid()).toBe(z(2, 5));
        expect(s.hardState()).toEqual({ acceptedEpoch: 3, currentEpoch: 3 });
      };
      check(store);
      check(reopen());
      expect(() => store.persist({ entries: run(2, 7, 7) })).toThrow();
      store.persist({ entries: run(2, 6, 6) });
      expect(reopen().lastZxid()).toBe(z(2, 6));
    });

    test('a SNAP install below what was logged keeps the synced entries (nothing acknowledged is lost)', () => {
      store.persist({ hardState: { acceptedEpoch: 2, currentEpoch: 2 }, entries: [...run(1, 1, 2), ...run(2, 1, 3)] });
      // The leader's snapshot is at (2,2) and it resends (2,3): the follower had already acked it.
      store.persist({ snapshot: body(store, z(2, 2), 's'), entries: run(2, 3, 3), hardState: { acceptedEpoch: 3, currentEpoch: 3 } });
      expect(reopen().readLog(0n)).toEqual(run(2, 3, 3));
      expect(store.lastZxid()).toBe(z(2, 3));
    });

    test('a SNAP install on a fresh store stands in for an empty log', () => {
      store.persist({ snapshot: body(store, z(1, 10), 's'), hardState: HS1 });
      expect(reopen().lastZxid()).toBe(z(1, 10));
      expect(store.firstLogZxid()).toBeUndefined();
      store.persist({ entries: run(1, 11, 11) });
      expect(reopen().readLog(0n)).toEqual(run(1, 11, 11));
    });

    test('a crash at any commit of a SNAP install leaves the old state or the new one, whole', () => {
      const before = (s: Store) => ({ log: s.readLog(0n), snaps: s.listSnapshots().map((x) => x.zxid), hs: s.hardState() });
      store.persist({ hardState: { acceptedEpoch: 2, currentEpoch: 2 }, entries: [...run(1, 1, 2), ...run(2, 1, 3)] });
      save(store, z(2, 1), 'mine');
      const old = before(store);
      const installed = { log: run(2, 3, 4), snaps: [z(2, 2)], hs: { acceptedEpoch: 3, currentEpoch: 3 } };
      const outcomes = new Set<string>();
      for (let crashAt = 0; ; crashAt++) {
        let commits = 0;
        const s = reopen({ beforeCommit: () => {
          if (commits++ === crashAt) throw new Error('crash');
        } });
        let crashed = false;
        try {
          const w = s.beginSnapshot();
          w.append(Buffer.from('leader'));
          w.append(Buffer.from('-state'));
          s.persist({ snapshot: w.finish(z(2, 2), 9), entries: run(2, 3, 4), hardState: installed.hs });
        } catch (err) {
          expect(err).toBeInstanceOf(StorageFatalError);
          crashed = true;
        }
        const after = key(before(reopen()));
        expect([key(old), key(installed)]).toContain(after);
        outcomes.add(after === key(old) ? 'old' : 'new');
        if (!crashed) break;
        // Unnamed bodies from the crashed attempts are dropped.
        expect(store.purge(3).done).toBe(true);
      }
      expect([...outcomes].sort()).toEqual(['new', 'old']);
      expect(bytesOf(store, store.latestSnapshot())).toBe('leader-state');
    });

    test('a body nobody names is not a snapshot and is dropped by purge', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      const w = store.beginSnapshot();
      w.append(Buffer.alloc(100));
      w.finish(z(1, 3), 1);
      const aborted = store.beginSnapshot();
      aborted.append(Buffer.alloc(50));
      aborted.abort();
      expect(store.listSnapshots()).toEqual([]);
      const again = reopen();
      expect(again.listSnapshots()).toEqual([]);
      expect(again.lastZxid()).toBe(z(1, 3));
      expect(again.purge(3)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 0, done: true });
      expect(again.sizes().dataBytes).toBeLessThan(again.sizes().logBytes + 1_000_000);
    });

    test('only a finished body of this store can be named', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      const w = store.beginSnapshot();
      w.append(Buffer.from('x'));
      expect(() => store.saveSnapshot({ zxid: z(1, 1), id: w.id, createdAt: 1, bytes: 1, chunks: 1, checksum: 0 })).toThrow(/finished/);
      expect(() => store.persist({ snapshot: { zxid: z(1, 1), id: 999, createdAt: 1, bytes: 1, chunks: 1, checksum: 0 } })).toThrow(/finished/);
      const info = w.finish(z(1, 3), 1);
      store.saveSnapshot(info);
      expect(() => store.saveSnapshot(info)).toThrow(/finished/);
    });

    test('rejects invalid snapshot arguments', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 1) });
      expect(() => body(store, -1n, 'x')).toThrow();
      expect(() => body(store, z(1, 1), 'x', 1.5)).toThrow();
      expect(store.listSnapshots()).toEqual([]);
    });

    test('persist refuses a damaged entry (verify on write)', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 1) });
      const bad = entry(z(1, 2));
      bad.data[0] ^= 0x01;
      expect(() => store.persist({ entries: [bad] })).toThrow(/checksum/);
      const misfiled = { zxid: z(1, 2), data: payload(z(1, 3)) };
      expect(() => store.persist({ entries: [misfiled] })).toThrow(/checksum/);
      expect(reopen().readLog(0n)).toEqual(run(1, 1, 1));
    });

    test('purge keeps at least 3 snapshots and the log after the oldest kept', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 60) });
      for (let i = 1; i <= 5; i++) save(store, z(1, i * 10), `s${i}`, i);
      expect(store.purge(1)).toEqual({ snapshotsRemoved: 2, logEntriesRemoved: 30, done: true });
      expect(store.listSnapshots().map((s) => s.zxid)).toEqual([z(1, 30), z(1, 40), z(1, 50)]);
      expect(store.firstLogZxid()).toBe(z(1, 31));
      expect(store.lastZxid()).toBe(z(1, 60));
      expect(store.readLog(0n)).toEqual(run(1, 31, 60));
      expect(store.purge(3)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 0, done: true });
      const again = reopen();
      expect(again.firstLogZxid()).toBe(z(1, 31));
      expect(again.latestSnapshot()?.zxid).toBe(z(1, 50));
    });

    test('purge in bounded steps reaches the same end', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 60) });
      for (let i = 1; i <= 5; i++) save(store, z(1, i * 10), Buffer.alloc(10 * i), i);
      let steps = 0;
      let removed = 0;
      for (let r = store.purge(1, 7); ; r = store.purge(1, 7)) {
        steps++;
        removed += r.logEntriesRemoved;
        if (r.done) break;
        expect(steps).toBeLessThan(20);
      }
      expect(steps).toBeGreaterThan(3);
      expect(removed).toBe(30);
      expect(reopen().readLog(0n)).toEqual(run(1, 31, 60));
      expect(store.listSnapshots().map((s) => s.zxid)).toEqual([z(1, 30), z(1, 40), z(1, 50)]);
    });

    test('purge with equal retain count and snapshot count only trims the log below the oldest', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 4) });
      for (let i = 1; i <= 4; i++) save(store, z(1, i), 's', i);
      expect(store.purge(5)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 0, done: true });
      expect(store.purge(4)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 1, done: true });
      expect(store.purge(3)).toEqual({ snapshotsRemoved: 1, logEntriesRemoved: 1, done: true });
      expect(reopen().readLog(0n)).toEqual(run(1, 3, 4));
      expect(store.lastZxid()).toBe(z(1, 4));
    });

    test('reopen preserves everything', () => {
      store.persist({ hardState: { acceptedEpoch: 2, currentEpoch: 1 }, entries: run(1, 1, 20) });
      const snap = save(store, z(1, 15), Buffer.from([0, 1, 2, 255]), 123456789);
      const again = reopen();
      expect(again.hardState()).toEqual({ acceptedEpoch: 2, currentEpoch: 1 });
      expect(again.readLog(0n)).toEqual(run(1, 1, 20));
      expect(again.lastZxid()).toBe(z(1, 20));
      expect(again.firstLogZxid()).toBe(z(1, 1));
      expect(again.latestSnapshot()).toEqual(snap);
      expect(readSnapshotBytes(again, snap)).toEqual(Buffer.from([0, 1, 2, 255]));
    });

    test('persistWritten: readable when it returns, durable callbacks in call order, kept across a reopen', async () => {
      store.persist({ hardState: HS1 });
      const order: number[] = [];
      const durable = [1, 2, 3].map(
        (i) =>
          new Promise<void>((resolve, reject) => {
            store.persistWritten({ entries: run(1, i * 10 - 9, i * 10) }, (err) => {
              if (err) return reject(err);
              order.push(i);
              resolve();
            });
            expect(store.lastZxid()).toBe(z(1, i * 10));
          }),
      );
      expect(store.readLog(0n)).toEqual(run(1, 1, 30));
      await Promise.all(durable);
      expect(order).toEqual([1, 2, 3]);
      expect(reopen().readLog(0n)).toEqual(run(1, 1, 30));
    });

    test('finishWritten: the body is complete at once, finished and nameable only once durable, kept across a reopen', async () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      const w = store.beginSnapshot();
      w.append(Buffer.from('snap-'));
      w.append(Buffer.from('body'));
      const info = await new Promise<SnapshotInfo>((resolve, reject) => {
        w.finishWritten(z(1, 3), 7, (err, done) => (err ? reject(err) : resolve(done)));
        // Nothing more may go into a body whose fsync has started.
        expect(() => w.append(Buffer.from('late'))).toThrow(/not being written/);
      });
      expect(info).toMatchObject({ zxid: z(1, 3), id: w.id, createdAt: 7, bytes: 9, chunks: 2 });
      store.saveSnapshot(info);
      expect(bytesOf(reopen(), store.latestSnapshot())).toBe('snap-body');
    });

    test('finishWritten: a body aborted while its fsync runs is never named', async () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      const w = store.beginSnapshot();
      w.append(Buffer.from('x'));
      const info = await new Promise<SnapshotInfo>((resolve, reject) => {
        w.finishWritten(z(1, 3), 1, (err, done) => (err ? reject(err) : resolve(done)));
        w.abort();
      });
      expect(() => store.saveSnapshot(info)).toThrow(/finished/);
      expect(reopen().purge(3)).toEqual({ snapshotsRemoved: 0, logEntriesRemoved: 0, done: true });
    });

    test('finishWritten whose commit fails throws StorageFatalError, finishes nothing and never reports durable', () => {
      store.persist({ hardState: HS1, entries: run(1, 1, 3) });
      const failing = reopen({ beforeCommit: (what) => { if (what === 'snapshotFinish') throw new Error('boom'); } });
      const w = failing.beginSnapshot();
      w.append(Buffer.from('x'));
      const durable = jest.fn();
      expect(() => w.finishWritten(z(1, 3), 1, durable)).toThrow(StorageFatalError);
      expect(durable).not.toHaveBeenCalled();
      expect(() => failing.beginSnapshot()).toThrow(StorageFatalError);
      expect(reopen().listSnapshots()).toEqual([]);
    });

    test('durable bytes cannot be changed through the caller\'s buffers', () => {
      const data = payload(z(1, 1));
      store.persist({ hardState: HS1, entries: [{ zxid: z(1, 1), data }] });
      data[0] = 0x7a;
      expect(store.readLog(0n)[0].data).toEqual(payload(z(1, 1)));
    });

    describe.each([
      ['beforeCommit throws', { beforeCommit: () => { throw new Error('boom'); } }],
      ['fsync fails', { failFsync: true }],
    ] as [string, Failpoints][])('when %s', (_label, fp) => {
      test('persist throws StorageFatalError and persists nothing of the batch', () => {
        store.persist({ hardState: HS1, entries: run(1, 1, 3) });
        save(store, z(1, 2), 's');
        const failing = reopen(fp);
        expect(() => failing.persist({ truncateAfter: z(1, 2), entries: run(1, 3, 9), hardState: { acceptedEpoch: 5, currentEpoch: 5 } })).toThrow(StorageFatalError);
        expect(failing.readLog(0n)).toEqual(run(1, 1, 3));
        expect(failing.lastZxid()).toBe(z(1, 3));
        expect(failing.hardState()).toEqual(HS1);
        // Fail-stop: no retry after a failed write.
        expect(() => failing.persist({ entries: run(1, 4, 4) })).toThrow(StorageFatalError);
        expect(() => save(failing, z(1, 3), 's')).toThrow(StorageFatalError);
        const after = reopen();
        expect(after.readLog(0n)).toEqual(run(1, 1, 3));
        expect(after.hardState()).toEqual(HS1);
        after.persist({ entries: run(1, 4, 4) });
        expect(after.lastZxid()).toBe(z(1, 4));
      });

      test('persistWritten throws StorageFatalError, persists nothing and never reports durable', () => {
        store.persist({ hardState: HS1, entries: run(1, 1, 3) });
        const failing = reopen(fp);
        const durable = jest.fn();
        expect(() => failing.persistWritten({ entries: run(1, 4, 9) }, durable)).toThrow(StorageFatalError);
        expect(durable).not.toHaveBeenCalled();
        expect(failing.lastZxid()).toBe(z(1, 3));
        expect(() => failing.persistWritten({ entries: run(1, 4, 4) }, durable)).toThrow(StorageFatalError);
        expect(reopen().readLog(0n)).toEqual(run(1, 1, 3));
      });

      test('saveSnapshot throws StorageFatalError and saves nothing', () => {
        store.persist({ hardState: HS1, entries: run(1, 1, 3) });
        const info = body(store, z(1, 3), 's');
        const failing = reopen(fp);
        expect(() => save(failing, z(1, 3), 's')).toThrow(StorageFatalError);
        expect(failing.latestSnapshot()).toBeUndefined();
        expect(reopen().listSnapshots()).toEqual([]);
        expect(() => store.saveSnapshot(info)).toThrow(/finished/); // that body belonged to a closed store
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
