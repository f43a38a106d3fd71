/** Proves txns and snapshots survive encoding exactly (bigints, Buffers, nulls) and that replay and snapshots agree on the tree digest. */
import fc from 'fast-check';
import { CreateFlags, OpCode } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';
import { applyTxn, createDatabase, decodeTxn, deserializeSnapshot, encodeTxn, serializeSnapshot, treeDigest, type Txn, type TxnBody } from '../../src/tree';
import { Harness, OPEN, SESSION } from './harness';

const int64 = fc.bigInt(-(1n << 63n), (1n << 63n) - 1n);
const uint64 = fc.bigInt(0n, (1n << 64n) - 1n);
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const buf = fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u));
const path = fc.stringMatching(/^(\/[a-z0-9]{1,5}){1,3}$/);
const aclArb: fc.Arbitrary<ACL[]> = fc.array(fc.record({ perms: fc.integer({ min: 0, max: 31 }), id: fc.record({ scheme: fc.string(), id: fc.string() }) }), { maxLength: 3 });

const leaf: fc.Arbitrary<TxnBody> = fc.oneof(
  fc.record({ type: fc.constant('create' as const), path, data: fc.option(buf, { nil: null }), acl: aclArb, ephemeralOwner: uint64, parentCVersion: int32, kind: fc.constantFrom('persistent' as const, 'ephemeral' as const, 'container' as const), opCode: fc.constantFrom(1, 15, 19) }),
  fc.record({ type: fc.constant('create' as const), path, data: fc.option(buf, { nil: null }), acl: aclArb, ephemeralOwner: uint64, parentCVersion: int32, kind: fc.constant('ttl' as const), ttl: fc.bigInt(1n, 0xffffffffffn), opCode: fc.constant(21) }),
  fc.record({ type: fc.constant('delete' as const), path }),
  fc.record({ type: fc.constant('setData' as const), path, data: fc.option(buf, { nil: null }), version: int32 }),
  fc.record({ type: fc.constant('setACL' as const), path, acl: aclArb, aversion: int32 }),
  fc.record({ type: fc.constant('check' as const), path, version: int32 }),
  fc.record({ type: fc.constant('error' as const), err: int32 }),
  fc.record({ type: fc.constant('multiError' as const), results: fc.array(int32, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('createSession' as const), timeoutMs: fc.nat(), passwd: buf }),
  fc.record({ type: fc.constant('closeSession' as const) }),
);
const body: fc.Arbitrary<TxnBody> = fc.oneof(leaf, fc.record({ type: fc.constant('multi' as const), ops: fc.array(leaf, { maxLength: 4 }) }));
const txnArb: fc.Arbitrary<Txn> = fc.record({ zxid: int64, sessionId: int64, cxid: int32, time: int64, body });

describe('txn codec', () => {
  it('decode(encode(txn)) deep-equals txn', () => {
    fc.assert(fc.property(txnArb, (t) => {
      const back = decodeTxn(encodeTxn(t));
      expect(back).toEqual(t);
      expect(typeof back.zxid).toBe('bigint');
    }), { numRuns: 300 });
  });

  it('buffers come back as Buffers and null data stays null', () => {
    const t: Txn = { zxid: 5n, sessionId: 0n, cxid: 1, time: 1n, body: { type: 'setData', path: '/a', data: null, version: 1 } };
    expect(decodeTxn(encodeTxn(t)).body).toEqual({ type: 'setData', path: '/a', data: null, version: 1 });
    const s = decodeTxn(encodeTxn({ ...t, body: { type: 'createSession', timeoutMs: 1, passwd: Buffer.from([1, 2]) } }));
    expect(Buffer.isBuffer((s.body as { passwd: Buffer }).passwd)).toBe(true);
  });

  it('rejects garbage', () => {
    expect(() => decodeTxn(Buffer.from([0xc0]))).toThrow();
    expect(() => decodeTxn(encodeTxn({ zxid: 1n, sessionId: 1n, cxid: 0, time: 0n, body: { type: 'nope' } as unknown as TxnBody }))).toThrow();
  });
});

function busyHarness(): Harness {
  const h = new Harness();
  h.openSession();
  h.openSession(SESSION + 1n);
  h.create('/a', { data: Buffer.from('x') });
  h.create('/a/s', { flags: CreateFlags.persistentSequential });
  h.create('/a/e', { flags: CreateFlags.ephemeral });
  h.create('/c', { flags: CreateFlags.container, opCode: OpCode.createContainer });
  h.create('/c/x', { data: null });
  h.create('/t', { flags: CreateFlags.persistentWithTTL, opCode: OpCode.createTTL, ttl: 1000n });
  h.setData('/a', Buffer.from('yy'));
  h.write(OpCode.setACL, { path: '/t', acl: OPEN, version: -1 });
  h.del('/c/x');
  h.create('/bad/x');
  return h;
}

describe('snapshot', () => {
  it('round trip preserves digest, stats, indexes, sessions and zxid', () => {
    const h = busyHarness();
    const copy = deserializeSnapshot(serializeSnapshot(h.db));
    expect(treeDigest(copy)).toBe(treeDigest(h.db));
    expect(copy.lastProcessedZxid).toBe(h.db.lastProcessedZxid);
    expect(copy.sessions).toEqual(h.db.sessions);
    expect(copy.tree.getEphemerals(SESSION)).toEqual(['/a/e']);
    expect([...copy.tree.containers]).toEqual(['/c']);
    expect([...copy.tree.ttls]).toEqual(['/t']);
    expect(copy.tree.nodeCount).toBe(h.db.tree.nodeCount);
    expect(copy.tree.approximateDataSize).toBe(h.db.tree.approximateDataSize);
    for (const [p, n] of h.db.tree.entries()) {
      const m = copy.tree.get(p)!;
      expect(m.stat).toEqual(n.stat);
      expect(m.data).toEqual(n.data);
      expect(m.acl).toEqual(n.acl);
      expect(copy.tree.getChildren(p)).toEqual(h.db.tree.getChildren(p));
      expect(m.ttl).toEqual(n.ttl);
    }
  });

  it('snapshot + replay of the rest equals full replay (digest)', () => {
    const h = new Harness();
    h.openSession();
    const txns: Txn[] = [];
    for (let i = 0; i < 30; i++) {
      const r = i % 5 === 4 ? h.del(`/n${i - 1}`) : h.create(`/n${i}`, { flags: i % 3 === 0 ? CreateFlags.ephemeral : CreateFlags.persistentSequential });
      txns.push(r.txn);
    }
    const full = createDatabase();
    const sessionTxn: Txn = { zxid: 1n, sessionId: SESSION, cxid: 0, time: 1000n, body: { type: 'createSession', timeoutMs: 30000, passwd: Buffer.alloc(16, 1) } };
    applyTxn(full, decodeTxn(encodeTxn(sessionTxn)));
    let snapshot: Buffer | undefined;
    txns.forEach((t, i) => {
      applyTxn(full, decodeTxn(encodeTxn(t)));
      if (i === 14) snapshot = serializeSnapshot(full);
    });
    expect(treeDigest(full)).toBe(treeDigest(h.db));
    const restored = deserializeSnapshot(snapshot!);
    for (const t of txns.slice(15)) applyTxn(restored, t);
    expect(treeDigest(restored)).toBe(treeDigest(h.db));
    expect(restored.lastProcessedZxid).toBe(h.db.lastProcessedZxid);
  });

  it('digest is order-independent but sees every field', () => {
    const a = new Harness();
    a.create('/x');
    a.create('/y');
    const b = new Harness();
    b.create('/y');
    b.create('/x');
    // different zxids -> different digests; same history -> same digest
    expect(treeDigest(a.db)).not.toBe(treeDigest(b.db));
    const c = new Harness();
    c.create('/x');
    c.create('/y');
    expect(treeDigest(c.db)).toBe(treeDigest(a.db));
    c.setData('/x', Buffer.from('d'));
    expect(treeDigest(c.db)).not.toBe(treeDigest(a.db));
  });

  it('rejects an unknown format', () => {
    expect(() => deserializeSnapshot(encodeTxn({ zxid: 1n, sessionId: 1n, cxid: 0, time: 0n, body: { type: 'closeSession' } }))).toThrow();
  });
});
