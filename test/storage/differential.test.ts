import fc from 'fast-check';
import { createMemoryStore, newMemoryDisk, openSqliteStore, readSnapshotBytes, writeSnapshotBytes, type Store } from '../../src/storage';
import { entry } from './contract';
import { tempDir } from './helpers';
import { nextZxid } from '../../src/util/zxid';

/*
 * Random operation sequences run against the SQLite store and the in-memory store side by side;
 * after every step both must show the same durable state. Ops are generated relative to the current
 * state so that most of them are valid; invalid ones must throw in both.
 */
type Op =
  | { kind: 'append'; n: number; newEpoch: boolean }
  | { kind: 'truncate'; back: number }
  /** `beyond` > 0: a SNAP install past the log end. */
  | { kind: 'snapshot'; back: number; beyond: number }
  | { kind: 'purge'; retain: number }
  | { kind: 'hardState'; bump: number }
  | { kind: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 0, max: 6 }), newEpoch: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), back: fc.integer({ min: 0, max: 5 }), beyond: fc.constantFrom(0, 0, 0, 3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('purge' as const), retain: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hardState' as const), bump: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

function view(s: Store) {
  return {
    hardState: s.hardState(),
    lastZxid: s.lastZxid(),
    first: s.firstLogZxid(),
    log: s.readLog(0n),
    snapshots: s.listSnapshots().map((x) => ({ zxid: x.zxid, bytes: x.bytes, createdAt: x.createdAt, body: readSnapshotBytes(s, x) })),
  };
}

/** Applies one op to a store; returns 'error' when the store rejected it. */
function apply(s: Store, op: Op, epochRef: { epoch: number }): string {
  try {
    const last = s.lastZxid();
    switch (op.kind) {
      case 'append': {
        if (op.newEpoch || last === 0n) epochRef.epoch += 1;
        let zxid = last;
        const entries = [];
        for (let i = 0; i < op.n; i++) entries.push(entry((zxid = nextZxid(zxid, epochRef.epoch)!)));
        s.persist({ hardState: { acceptedEpoch: epochRef.epoch, currentEpoch: epochRef.epoch }, entries });
        break;
      }
      case 'truncate': {
        const log = s.readLog(0n);
        const target = log.length > op.back ? log[log.length - 1 - op.back].zxid : 0n;
        s.persist({ truncateAfter: target });
        break;
      }
      case 'snapshot': {
        const log = s.readLog(0n);
        const base = log.length > op.back ? log[log.length - 1 - op.back].zxid : last;
        const info = writeSnapshotBytes(s, op.beyond ? last + BigInt(op.beyond) : base, Buffer.from(`snap-${base}`), Number(base & 0xffffn));
        if (op.beyond) s.persist({ snapshot: info });
        else s.saveSnapshot(info);
        break;
      }
      case 'purge':
        s.purge(op.retain);
        break;
      case 'hardState':
        s.persist({ hardState: { acceptedEpoch: epochRef.epoch + op.bump, currentEpoch: epochRef.epoch } });
        epochRef.epoch += op.bump;
        break;
      case 'reopen':
        break;
    }
    return 'ok';
  } catch (err) {
    return `error:${(err as Error).constructor.name}`;
  }
}

test('sqlite and memory stores agree on random histories', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
      const t = tempDir();
      const disk = newMemoryDisk();
      let sql = openSqliteStore({ dataDir: t.dir });
      let mem = createMemoryStore({ disk });
      const epochs = { sql: { epoch: 0 }, mem: { epoch: 0 } };
      try {
        for (const op of ops) {
          if (op.kind === 'reopen') {
            sql.close();
            mem.close();
            sql = openSqliteStore({ dataDir: t.dir });
            mem = createMemoryStore({ disk });
          }
          expect(apply(sql, op, epochs.sql)).toBe(apply(mem, op, epochs.mem));
          expect(view(sql)).toEqual(view(mem));
        }
        sql.close();
        sql = openSqliteStore({ dataDir: t.dir });
        expect(view(sql)).toEqual(view(mem));
      } finally {
        sql.close();
        mem.close();
        t.cleanup();
      }
    }),
    { numRuns: 40 },
  );
});
