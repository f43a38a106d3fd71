/**
 * Proves a snapshot taken while writes keep being applied is exactly the state at its zxid (the
 * copy-on-write scan), that the snapshot format decodes chunk by chunk (any prefix of a body is
 * usable as it streams), that a body with a path twice or an orphan is refused, that the loader's
 * node-count hint is read from the end record, and that the compact tree keeps its value memory
 * bounded under churn.
 */
import fc from 'fast-check';
import { CreateFlags, OpCode } from '../../protocol/jute/constants';
import { SnapshotDecoder, SnapshotEncoder, createDatabase, deserializeSnapshot, expectedNodes, serializeSnapshot, snapshotChunks, treeDigest, type NodeRow } from '../../src/tree';
import { makeZxid } from '../../src/util/zxid';
import { Harness, OPEN, SESSION } from './harness';

type Op = { kind: 'create' | 'delete' | 'set' | 'acl' | 'scan'; n: number; size: number };

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('create', 'create', 'delete', 'set', 'acl', 'scan'),
  n: fc.nat({ max: 40 }),
  size: fc.nat({ max: 300 }),
});

function seed(h: Harness, nodes: number): void {
  h.openSession();
  h.create('/d', { data: null });
  for (let i = 0; i < nodes; i++) h.create(`/d/n${i}`, { data: Buffer.alloc(i % 50, i) });
  h.create('/e', { flags: CreateFlags.ephemeral, data: Buffer.from('eph') });
  h.create('/c', { flags: CreateFlags.container, opCode: OpCode.createContainer });
  h.create('/c/x');
}

/** Applies one random write; paths are picked by number so most ops hit existing nodes. */
function write(h: Harness, op: Op): void {
  const path = `/d/n${op.n}`;
  const exists = h.db.tree.has(path);
  if (op.kind === 'create' && !exists) h.create(path, { data: Buffer.alloc(op.size, op.n) });
  else if (op.kind === 'delete' && exists) h.del(path);
  else if (op.kind === 'set' && exists) h.setData(path, op.size % 7 === 0 ? null : Buffer.alloc(op.size, 0x5a));
  else if (op.kind === 'acl' && exists) h.write(OpCode.setACL, { path, acl: op.size % 2 ? OPEN : [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }], version: -1 });
}

describe('copy-on-write snapshot scan', () => {
  test('rows produced while writes continue are exactly the state at the scan zxid', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 17 }), (ops, step) => {
        const h = new Harness();
        seed(h, 30);
        const expected = serializeSnapshot(h.db);
        const digest = treeDigest(deserializeSnapshot(expected));
        const enc = new SnapshotEncoder(h.db.lastProcessedZxid, h.db.sessions);
        const chunks: Buffer[] = [];
        h.db.tree.beginScan(h.db.lastProcessedZxid);
        let done = false;
        for (const op of ops) {
          if (op.kind === 'scan' && !done) done = h.db.tree.scanEach(step, (r: NodeRow) => enc.addRow(r));
          else write(h, op);
        }
        while (!done) done = h.db.tree.scanEach(step, (r: NodeRow) => enc.addRow(r));
        h.db.tree.endScan();
        chunks.push(...enc.takeChunks(), ...enc.finish());
        const d = new SnapshotDecoder();
        for (const c of chunks) d.push(c);
        expect(treeDigest(d.finish())).toBe(digest);
      }),
      { numRuns: 150 },
    );
  });

  test('live rows (64-bit fields as int32 words) encode to the same bytes as pre-image rows (bigints)', () => {
    const h = new Harness();
    h.now = (1n << 40n) + 12345n; // times with a high word
    const other = { id: -0x7edcba9876543210n, authIds: [] }; // a session id with the top bit set
    h.openSession();
    h.openSession(other.id);
    h.create('/p', { data: Buffer.from('parent') });
    for (let i = 0; i < 40; i++) h.create(`/p/n${i}`, { data: i % 5 === 0 ? null : Buffer.alloc(i * 7, i) });
    for (let i = 0; i < 10; i++) h.create(`/p/e${i}`, { flags: CreateFlags.ephemeral, session: i % 2 ? other : undefined });
    h.create('/c', { flags: CreateFlags.container, opCode: OpCode.createContainer });
    h.create('/c/x');
    h.create('/t', { flags: CreateFlags.persistentWithTTL, opCode: OpCode.createTTL, ttl: 500n });
    h.now += 77n;
    for (let i = 0; i < 40; i += 3) h.setData(`/p/n${i}`, Buffer.from(`v${i}`)); // mzxid, mtime differ
    const zxid = h.db.lastProcessedZxid;
    const encode = (during: () => void): Buffer => {
      const enc = new SnapshotEncoder(zxid, h.db.sessions);
      h.db.tree.beginScan(zxid);
      during();
      while (!h.db.tree.scanEach(7, (r: NodeRow) => enc.addRow(r)));
      h.db.tree.endScan();
      return Buffer.concat([...enc.takeChunks(), ...enc.finish()]);
    };
    const live = encode(() => undefined);
    // Every node changed before the scan reaches it: each is emitted from its bigint pre-image.
    const paths = [...h.db.tree.paths()].filter((p) => p.startsWith('/p') || p.startsWith('/c') || p === '/t');
    const preimages = encode(() => paths.forEach((p) => h.setData(p, Buffer.from('changed'))));
    expect(paths.length).toBe(54);
    expect(preimages.equals(live)).toBe(true);
  });

  test('the scan skips nodes created after its zxid, comparing 64-bit zxids by words (low words past 2^31 too)', () => {
    const db = createDatabase();
    const at = (counter: number) => makeZxid(3, BigInt(counter));
    const init = (zxid: bigint) => ({ data: null, acl: OPEN, zxid, time: 1n, ephemeralOwner: 0n, kind: 'persistent' as const });
    db.tree.create('/before-lo', init(at(0x7fffffff)));
    db.tree.create('/before-hi', init(at(0x80000005)));
    db.tree.create('/after', init(at(0x80000009)));
    db.tree.create('/next-epoch', init(makeZxid(4, 1n)));
    const seen: string[] = [];
    db.tree.beginScan(at(0x80000007));
    while (!db.tree.scanEach(2, (r: NodeRow) => seen.push(r.pathRef ? r.pathRef.buf.toString('utf8', r.pathRef.start, r.pathRef.start + r.pathRef.len) : r.path)));
    db.tree.endScan();
    expect(seen.filter((p) => !p.startsWith('/zookeeper') && p !== '/').sort()).toEqual(['/before-hi', '/before-lo']);
  });

  test('a big body is cut into record-aligned chunks that decode one at a time', () => {
    const h = new Harness();
    seed(h, 6000);
    const chunks = snapshotChunks(h.db);
    expect(chunks.length).toBeGreaterThan(1);
    const d = new SnapshotDecoder();
    for (const c of chunks) d.push(c); // each push decodes whole records only
    const db = d.finish();
    expect(treeDigest(db)).toBe(treeDigest(h.db));
    expect(db.sessions.get(SESSION)).toEqual(h.db.sessions.get(SESSION));
    expect(db.tree.getEphemerals(SESSION)).toEqual(['/e']);
  });

  test('a truncated or damaged body is refused, not half-loaded', () => {
    const h = new Harness();
    seed(h, 3000);
    const chunks = snapshotChunks(h.db);
    const truncated = new SnapshotDecoder();
    for (const c of chunks.slice(0, -1)) truncated.push(c);
    expect(() => truncated.finish()).toThrow(/truncated/);
    const cut = Buffer.concat(chunks).subarray(0, 5000);
    expect(() => new SnapshotDecoder().push(cut)).toThrow(/runs past the end/);
  });

  test('a body holding a path twice, or a node without its parent, is refused at the end of the load', () => {
    const body = (paths: string[]) => {
      const enc = new SnapshotEncoder(5n);
      for (const path of paths) {
        enc.addRow({ path, data: null, acl: OPEN, kind: 'persistent', ttl: undefined, czxid: 1n, mzxid: 1n, pzxid: 1n, ctime: 1n, mtime: 1n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n });
      }
      return Buffer.concat(enc.finish());
    };
    expect(treeDigest(deserializeSnapshot(body(['/a/b', '/', '/a'])))).toBe(treeDigest(deserializeSnapshot(body(['/', '/a', '/a/b']))));
    // Loaded from disk (indexed at the end) and streamed as a SNAP (indexed per chunk).
    const streamed = (b: Buffer) => {
      const d = new SnapshotDecoder();
      d.push(b);
      return d.finish();
    };
    for (const load of [deserializeSnapshot, streamed]) {
      expect(() => load(body(['/', '/a', '/b', '/a']))).toThrow('snapshot holds /a twice');
      expect(() => load(body(['/', '/a', '/b/c']))).toThrow('snapshot holds /b/c but not its parent');
    }
  });

  test('the node count for sizing the tree is read from the end record, bounded by the body size', () => {
    const h = new Harness();
    seed(h, 3000);
    const chunks = snapshotChunks(h.db);
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    expect(expectedNodes(chunks.at(-1)!, bytes)).toBe(h.db.tree.nodeCount);
    expect(expectedNodes(chunks.at(-1)!, 24 * 100)).toBe(100); // a count the body cannot hold
    expect(expectedNodes(Buffer.from([0x04, 0x05, 0x06]), bytes)).toBeUndefined(); // no end tag before the two varints
    expect(expectedNodes(Buffer.from([0x7f, 0x05, 0x86]), bytes)).toBeUndefined(); // ends inside a varint
    expect(expectedNodes(Buffer.alloc(0), bytes)).toBeUndefined();
    const d = new SnapshotDecoder(expectedNodes(chunks.at(-1)!, bytes));
    for (const c of chunks) d.push(c);
    expect(treeDigest(d.finish())).toBe(treeDigest(h.db));
  });

  test('deleting and overwriting values returns their memory after compaction', () => {
    const h = new Harness();
    h.openSession();
    h.create('/v', { data: null });
    for (let i = 0; i < 4000; i++) h.create(`/v/n${i}`, { data: Buffer.alloc(200, i) });
    const held = h.db.tree.valueBytesHeld;
    for (let i = 0; i < 4000; i++) if (i % 10 !== 0) h.del(`/v/n${i}`);
    expect(h.db.tree.valueBytesHeld).toBe(held); // holes, not yet returned
    const before = treeDigest(h.db);
    let cursor = 0;
    const sparse = h.db.tree.sparseSlabs();
    do cursor = h.db.tree.compactValues(cursor, 1000, sparse);
    while (cursor !== 0);
    expect(h.db.tree.valueBytesHeld).toBeLessThan(held / 2);
    expect(h.db.tree.getChildren('/v')).toHaveLength(400);
    expect(treeDigest(h.db)).toBe(before);
  });
});
