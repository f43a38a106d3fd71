/**
 * Proves a snapshot's body is made durable off the event loop: while its fsync is outstanding the
 * tree keeps changing and nothing names the body; the snapshot is named once the store reports it
 * durable, holds exactly the state at its zxid, and is never named if a SNAP replaced the database
 * meanwhile.
 */
import pino from 'pino';
import { snapshotChunks, treeDigest, type ZkDatabase } from '../../src/tree';
import { createMemoryStore, type SnapshotWriter, type Store } from '../../src/storage';
import { loadSnapshot, SnapshotTaker, type SnapshotHost } from '../../src/server/snapshots';
import { systemClock, type Clock } from '../../src/util/clock';
import { sealEntry } from '../../src/util/checksum';
import { Harness } from '../core/harness';
import { overriding } from '../sim/lib/checks';

/** A memory store whose snapshot bodies report durable only when the test releases them. */
function holdingStore(): { store: Store; held: Array<() => void> } {
  const inner = createMemoryStore();
  const held: Array<() => void> = [];
  const hold = (w: SnapshotWriter): SnapshotWriter =>
    overriding(w, { finishWritten: (zxid, at, durable) => w.finishWritten(zxid, at, (err, info) => held.push(() => durable(err, info))) });
  return { store: overriding(inner, { beginSnapshot: () => hold(inner.beginSnapshot()) }), held };
}

/** Logs every txn the harness applied so far (a snapshot must be of state in the log). */
function logUpTo(store: Store, h: Harness): void {
  const from = store.lastZxid() + 1n;
  const entries = [];
  for (let z = from; z <= h.zxid; z++) entries.push({ zxid: z, data: sealEntry(z, Buffer.from('t')) });
  store.persist({ hardState: { acceptedEpoch: 0, currentEpoch: 0 }, entries });
}

/** Resolves once the held list has an entry (the taker reached its fsync), bounded. */
async function untilHeld(held: unknown[], what: string): Promise<void> {
  for (let i = 0; i < 2000 && held.length === 0; i++) await new Promise((r) => setImmediate(r));
  if (held.length === 0) throw new Error(`timed out waiting for ${what}`);
}

function setup(): { h: Harness; store: Store; held: Array<() => void>; host: { db: ZkDatabase } & SnapshotHost } {
  const h = new Harness();
  h.openSession();
  for (let i = 0; i < 500; i++) h.create(`/n${i}`, { data: Buffer.alloc(50, i) });
  const { store, held } = holdingStore();
  logUpTo(store, h);
  const host = { db: h.db, store, logger: pino({ level: 'silent' }), clock: systemClock };
  return { h, store, held, host };
}

describe('SnapshotTaker: the body fsync off the event loop', () => {
  test('nothing is named until the body is durable; then the snapshot is the state at its zxid', async () => {
    const { h, store, held, host } = setup();
    const at = h.zxid;
    const digest = treeDigest(h.db);
    const run = new SnapshotTaker(host).take()!;
    await untilHeld(held, 'the snapshot body to reach its fsync');
    // The fsync is outstanding: the server keeps applying writes, and there is no snapshot yet.
    for (let i = 0; i < 50; i++) h.create(`/later${i}`);
    logUpTo(store, h);
    expect(store.listSnapshots()).toEqual([]);
    held.shift()!();
    const info = await run;
    expect(info?.zxid).toBe(at);
    expect(store.listSnapshots().map((s) => s.zxid)).toEqual([at]);
    expect(treeDigest(loadSnapshot(store, store.latestSnapshot()!))).toBe(digest);
  });

  test('a graceful stop waits for a body whose fsync runs, then names it; no snapshot starts after', async () => {
    const { held, host, store } = setup();
    const taker = new SnapshotTaker(host);
    const run = taker.take()!;
    await untilHeld(held, 'the snapshot body to reach its fsync');
    let stopped = false;
    const stopping = taker.stop().then(() => (stopped = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    held.shift()!();
    await stopping;
    const info = await run;
    expect(store.listSnapshots()).toEqual([info]);
    expect(taker.take()).toBeUndefined();
  });

  test('a snapshot whose database was replaced (a SNAP install) during its fsync is never named', async () => {
    const { held, host, store } = setup();
    const run = new SnapshotTaker(host).take()!;
    await untilHeld(held, 'the snapshot body to reach its fsync');
    host.db = new Harness().db;
    held.shift()!();
    expect(await run).toBeUndefined();
    expect(store.listSnapshots()).toEqual([]);
  });
});

describe('SnapshotTaker: slices', () => {
  test("a slice's budget covers writing chunks too: a slow store spreads the writes over turns", async () => {
    const h = new Harness();
    h.openSession();
    for (let i = 0; i < 3000; i++) h.create(`/n${i}`, { data: Buffer.alloc(1000, i) });
    // A clock that stands still while encoding (the whole scan fits one slice) and advances 5 ms
    // per chunk written, as a busy disk does; turns are counted where the taker yields.
    let now = 0;
    let writes = 0;
    const perTurn: number[] = [];
    const clock: Clock = {
      ...systemClock,
      now: () => now,
      setImmediate: (fn) => {
        perTurn.push(writes);
        writes = 0;
        setImmediate(fn);
      },
    };
    const inner = createMemoryStore();
    const slow = (w: SnapshotWriter): SnapshotWriter =>
      overriding(w, {
        append: (chunk) => {
          now += 5;
          writes++;
          w.append(chunk);
        },
      });
    const store = overriding(inner, { beginSnapshot: () => slow(inner.beginSnapshot()) });
    logUpTo(store, h);
    const info = await new SnapshotTaker({ db: h.db, store, logger: pino({ level: 'silent' }), clock }).take()!;
    perTurn.push(writes);
    expect(info?.chunks).toBeGreaterThan(10);
    // 8 ms a slice, 5 ms a write: at most two writes in a turn (all of them in one before).
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(2);
    expect(perTurn.length).toBeGreaterThanOrEqual(5);
    expect(treeDigest(loadSnapshot(store, store.latestSnapshot()!))).toBe(treeDigest(h.db));
  });
});

describe('loadSnapshot', () => {
  test('a body whose chunks are each intact but out of order fails the whole-body checksum', () => {
    const h = new Harness();
    h.openSession();
    for (let i = 0; i < 12000; i++) h.create(`/n${i}`, { data: Buffer.alloc(60, i) });
    const store = createMemoryStore();
    logUpTo(store, h);
    const w = store.beginSnapshot();
    for (const c of snapshotChunks(h.db)) w.append(c);
    const info = w.finish(h.zxid, 1);
    store.saveSnapshot(info);
    expect(info.chunks).toBeGreaterThan(3); // the end record stays last
    expect(treeDigest(loadSnapshot(store, info))).toBe(treeDigest(h.db));
    // Chunks 1 and 2 swapped, each with its own (correct) CRC, as a misfiled body would read back.
    const swapped = overriding(store, {
      readSnapshotChunks: (i, from, count, crcs) => {
        const order = (seq: number) => (seq === 1 ? 2 : seq === 2 ? 1 : seq);
        const out: Buffer[] = [];
        for (let seq = from; seq < Math.min(i.chunks, from + count); seq++) out.push(...store.readSnapshotChunks(i, order(seq), 1, crcs));
        return out;
      },
    });
    expect(() => loadSnapshot(swapped, info)).toThrow(/whole-body checksum/);
  });
});
