/**
 * Model-based test: random sequences of create (plain/sequential/ephemeral), delete, setData and
 * closeSession, some left in flight (prepped, not yet applied) to exercise the overlay, checked
 * against a tiny Map model for error codes, sequence names and every stat field.
 */
import fc from 'fast-check';
import { CreateFlags, ErrorCode, OpCode } from '../../protocol/jute/constants';
import { copyStat, type Txn } from '../../src/tree';
import { Harness, OPEN } from './harness';

interface MNode {
  data: Buffer | null;
  version: number;
  cversion: number;
  numChildren: number;
  creates: number;
  czxid: bigint;
  mzxid: bigint;
  pzxid: bigint;
  ctime: bigint;
  mtime: bigint;
  owner: bigint;
}

class Model {
  nodes = new Map<string, MNode>();
  sessions: bigint[] = [0x10n, 0x11n];
  nextSession = 0x12n;

  constructor(h: Harness) {
    for (const [p, n] of h.db.tree.entries()) {
      const s = n.stat;
      this.nodes.set(p, { data: n.data, version: s.version, cversion: s.cversion, numChildren: s.numChildren, creates: 0, czxid: 0n, mzxid: 0n, pzxid: 0n, ctime: 0n, mtime: 0n, owner: 0n });
    }
  }

  pick(i: number): string {
    const paths = [...this.nodes.keys()].sort();
    return i < paths.length ? paths[i] : '/nope' + (i % 3);
  }

  static parentOf(p: string): string {
    const i = p.lastIndexOf('/');
    return i === 0 ? '/' : p.substring(0, i);
  }

  addChild(parent: string, z: bigint, delta: 1 | -1): void {
    const p = this.nodes.get(parent)!;
    p.cversion += 1;
    p.numChildren += delta;
    if (delta === 1) p.creates += 1;
    p.pzxid = z;
  }
}

interface Real {
  h: Harness;
}

const SPECIAL = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

function errOf(txn: Txn): number {
  return txn.body.type === 'error' ? txn.body.err : ErrorCode.ok;
}

/** Applies everything pending and compares the whole tree with the model. */
function settle(m: Model, r: Real): void {
  r.h.commitAll();
  expect(r.h.prep.outstandingChanges).toBe(0);
  expect([...r.h.db.tree.paths()].sort()).toEqual([...m.nodes.keys()].sort());
  for (const [p, e] of m.nodes) {
    const n = r.h.db.tree.get(p)!;
    const s = copyStat(n);
    // The write path's cheaper read gives the same Stat.
    expect(r.h.db.tree.statOf(p)).toEqual(s);
    expect({ p, ...s }).toEqual({
      p, czxid: e.czxid, mzxid: e.mzxid, pzxid: e.pzxid, ctime: e.ctime, mtime: e.mtime, version: e.version, cversion: e.cversion,
      aversion: 0, ephemeralOwner: e.owner, dataLength: e.data?.length ?? 0, numChildren: e.numChildren,
    });
    expect(n.data).toEqual(e.data);
  }
  for (const sid of m.sessions) {
    const mine = [...m.nodes].filter(([, n]) => n.owner === sid).map(([p]) => p).sort();
    expect(r.h.db.tree.getEphemerals(sid).sort()).toEqual(mine);
  }
}

abstract class Cmd implements fc.Command<Model, Real> {
  constructor(readonly defer: boolean) {}
  check(): boolean {
    return true;
  }
  abstract step(m: Model, r: Real): void;
  run(m: Model, r: Real): void {
    r.h.now += 1n;
    this.step(m, r);
    if (!this.defer) settle(m, r);
  }
  abstract toString(): string;
}

class CreateCmd extends Cmd {
  constructor(readonly parentIdx: number, readonly name: string, readonly flags: number, readonly slot: number, defer: boolean) {
    super(defer);
  }
  step(m: Model, r: Real): void {
    const parentPath = m.pick(this.parentIdx);
    const path = (parentPath === '/' ? '/' : parentPath + '/') + this.name;
    const sid = m.sessions[this.slot];
    const txn = r.h.submit(OpCode.create2, { path, data: Buffer.from(this.name), acl: OPEN, flags: this.flags }, { id: sid, authIds: [] });
    const parent = m.nodes.get(parentPath);
    const sequential = this.flags === CreateFlags.persistentSequential || this.flags === CreateFlags.ephemeralSequential;
    const ephemeral = this.flags === CreateFlags.ephemeral || this.flags === CreateFlags.ephemeralSequential;
    if (!parent) return void expect(errOf(txn)).toBe(ErrorCode.noNode);
    if (parentPath === '/zookeeper/config') return void expect(errOf(txn)).toBe(ErrorCode.noAuth);
    const finalPath = sequential ? path + String(parent.creates).padStart(10, '0') : path;
    if (m.nodes.has(finalPath)) return void expect(errOf(txn)).toBe(ErrorCode.nodeExists);
    if (parent.owner !== 0n) return void expect(errOf(txn)).toBe(ErrorCode.noChildrenForEphemerals);
    expect(errOf(txn)).toBe(0);
    expect(txn.body).toMatchObject({ type: 'create', path: finalPath });
    const z = txn.zxid;
    m.nodes.set(finalPath, {
      data: Buffer.from(this.name), version: 0, cversion: 0, numChildren: 0, creates: 0, czxid: z, mzxid: z, pzxid: z,
      ctime: r.h.now, mtime: r.h.now, owner: ephemeral ? sid : 0n,
    });
    m.addChild(parentPath, z, 1);
  }
  toString(): string {
    return `create(${this.parentIdx}, ${this.name}, flags=${this.flags}, slot=${this.slot}${this.defer ? ', defer' : ''})`;
  }
}

class DeleteCmd extends Cmd {
  constructor(readonly idx: number, readonly version: number, defer: boolean) {
    super(defer);
  }
  step(m: Model, r: Real): void {
    const path = m.pick(this.idx);
    const node = m.nodes.get(path);
    const version = this.version < 0 ? -1 : node ? node.version + (this.version % 2) : 0;
    const txn = r.h.submit(OpCode.delete, { path, version });
    if (SPECIAL.has(path)) return void expect(errOf(txn)).toBe(ErrorCode.badArguments);
    if (!node) return void expect(errOf(txn)).toBe(ErrorCode.noNode);
    if (version !== -1 && version !== node.version) return void expect(errOf(txn)).toBe(ErrorCode.badVersion);
    if (node.numChildren > 0) return void expect(errOf(txn)).toBe(ErrorCode.notEmpty);
    expect(errOf(txn)).toBe(0);
    m.nodes.delete(path);
    m.addChild(Model.parentOf(path), txn.zxid, -1);
  }
  toString(): string {
    return `delete(${this.idx}, v=${this.version}${this.defer ? ', defer' : ''})`;
  }
}

class SetDataCmd extends Cmd {
  constructor(readonly idx: number, readonly version: number, readonly data: Buffer | null, defer: boolean) {
    super(defer);
  }
  step(m: Model, r: Real): void {
    const path = m.pick(this.idx);
    const node = m.nodes.get(path);
    const version = this.version < 0 ? -1 : node ? node.version + (this.version % 2) : 0;
    const txn = r.h.submit(OpCode.setData, { path, data: this.data, version });
    if (!node) return void expect(errOf(txn)).toBe(ErrorCode.noNode);
    // the built-in config node is world:read only
    if (path === '/zookeeper/config') return void expect(errOf(txn)).toBe(ErrorCode.noAuth);
    if (version !== -1 && version !== node.version) return void expect(errOf(txn)).toBe(ErrorCode.badVersion);
    expect(errOf(txn)).toBe(0);
    node.version += 1;
    node.data = this.data;
    node.mzxid = txn.zxid;
    node.mtime = r.h.now;
  }
  toString(): string {
    return `setData(${this.idx}, v=${this.version}, ${this.data?.length ?? 'null'}${this.defer ? ', defer' : ''})`;
  }
}

class CloseSessionCmd extends Cmd {
  constructor(readonly slot: number, defer: boolean) {
    super(defer);
  }
  step(m: Model, r: Real): void {
    const sid = m.sessions[this.slot];
    const close = r.h.prep.prepCloseSession(sid, { zxid: ++r.h.zxid, now: r.h.now });
    r.h.queue.push(close);
    for (const [p, n] of [...m.nodes]) {
      if (n.owner !== sid) continue;
      m.nodes.delete(p);
      m.addChild(Model.parentOf(p), close.zxid, -1);
    }
    const fresh = m.nextSession++;
    m.sessions[this.slot] = fresh;
    r.h.queue.push(r.h.prep.prepCreateSession({ sessionId: fresh, timeoutMs: 1000, passwd: Buffer.alloc(16) }, { zxid: ++r.h.zxid, now: r.h.now }));
  }
  toString(): string {
    return `closeSession(${this.slot}${this.defer ? ', defer' : ''})`;
  }
}

const idx = fc.nat({ max: 5 });
const defer = fc.boolean();
const commands = [
  fc.tuple(idx, fc.constantFrom('a', 'b'), fc.constantFrom(0, 1, 2, 3), fc.nat({ max: 1 }), defer).map(([i, n, f, s, d]) => new CreateCmd(i, n, f, s, d)),
  fc.tuple(idx, fc.integer({ min: -1, max: 3 }), defer).map(([i, v, d]) => new DeleteCmd(i, v, d)),
  fc.tuple(idx, fc.integer({ min: -1, max: 3 }), fc.option(fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u)), { nil: null }), defer).map(([i, v, b, d]) => new SetDataCmd(i, v, b, d)),
  fc.tuple(fc.nat({ max: 1 }), defer).map(([s, d]) => new CloseSessionCmd(s, d)),
];

describe('data tree model', () => {
  it('prep + apply agree with a Map model on codes, names and stats', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80, size: 'medium' }), (cmds) => {
        const h = new Harness();
        h.openSession(0x10n);
        h.openSession(0x11n);
        const model = new Model(h);
        const real: Real = { h };
        fc.modelRun(() => ({ model, real }), cmds);
        settle(model, real);
      }),
      { numRuns: 150 },
    );
  });
});
