/** Proves the read ops answer from the tree with ZooKeeper's ACL checks, watch rules and reply records, without mutating anything. */
import { CreateFlags, ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import type { Id } from '../../protocol/jute/data';
import { readMultiResponse } from '../../protocol/jute/multi';
import { JuteReader } from '../../protocol/jute/reader';
import * as rec from '../../protocol/jute/records';
import { JuteWriter } from '../../protocol/jute/writer';
import { generateDigest } from '../../src/acl';
import { opTable, type ReadOp } from '../../src/ops';
import { treeDigest } from '../../src/tree';
import { Harness, OPEN, SESSION } from './harness';

function run(h: Harness, opCode: number, req: unknown, authIds: readonly Id[] = [], sessionId = SESSION) {
  const op = opTable.get(opCode) as ReadOp;
  expect(op.kind).toBe('read');
  const before = treeDigest(h.db);
  const out = op.run(h.db, req, { sessionId, authIds });
  expect(treeDigest(h.db)).toBe(before);
  const w = new JuteWriter();
  out.encode?.(w);
  return { ...out, reader: new JuteReader(w.toBuffer()) };
}

function setup(): Harness {
  const h = new Harness();
  h.openSession();
  h.create('/a', { data: Buffer.from('A') });
  h.create('/a/b');
  h.create('/a/c', { data: null });
  h.create('/secret', { acl: [{ perms: Perms.all, id: { scheme: 'digest', id: generateDigest('bob:pw') } }] });
  h.create('/adminonly', { acl: [{ perms: Perms.admin, id: { scheme: 'world', id: 'anyone' } }] });
  h.create('/a/e1', { flags: CreateFlags.ephemeral });
  h.create('/ab', { flags: CreateFlags.ephemeral });
  return h;
}

const bob = [{ scheme: 'digest', id: generateDigest('bob:pw') }];

describe('exists', () => {
  it('stat + data watch when present, exist watch on NoNode, no ACL check', () => {
    const h = setup();
    const r = run(h, OpCode.exists, { path: '/a', watch: true });
    expect(r.err).toBe(0);
    expect(rec.readExistsResponse(r.reader).stat).toEqual(h.db.tree.get('/a')!.stat);
    expect(r.watch).toEqual({ path: '/a', kind: 'data' });
    expect(run(h, OpCode.exists, { path: '/zz', watch: true })).toMatchObject({ err: ErrorCode.noNode, watch: { path: '/zz', kind: 'exist' } });
    expect(run(h, OpCode.exists, { path: '/zz', watch: false }).watch).toBeUndefined();
    // 3.8.4+ (ZOOKEEPER-2590): an existing node needs READ; NoAuth leaves no watch
    const denied = run(h, OpCode.exists, { path: '/secret', watch: true });
    expect(denied.err).toBe(ErrorCode.noAuth);
    expect(denied.watch).toBeUndefined();
    expect(run(h, OpCode.exists, { path: '/a\u0000', watch: true }).err).toBe(ErrorCode.badArguments);
  });
});

describe('getData', () => {
  it('returns data (null as null) and stat; NoNode leaves no watch', () => {
    const h = setup();
    const r = run(h, OpCode.getData, { path: '/a', watch: true });
    expect(rec.readGetDataResponse(r.reader)).toEqual({ data: Buffer.from('A'), stat: h.db.tree.get('/a')!.stat });
    expect(r.watch).toEqual({ path: '/a', kind: 'data' });
    expect(rec.readGetDataResponse(run(h, OpCode.getData, { path: '/a/c', watch: false }).reader).data).toBeNull();
    const missing = run(h, OpCode.getData, { path: '/zz', watch: true });
    expect([missing.err, missing.watch]).toEqual([ErrorCode.noNode, undefined]);
    expect(run(h, OpCode.getData, { path: '/secret', watch: false }).err).toBe(ErrorCode.noAuth);
    expect(run(h, OpCode.getData, { path: '/secret', watch: false }, bob).err).toBe(0);
    expect(run(h, OpCode.getData, { path: '/secret', watch: false }, [{ scheme: 'super', id: '' }]).err).toBe(0);
    expect(run(h, OpCode.getData, { path: 'invalid', watch: false }).err).toBe(ErrorCode.noNode);
  });
});

describe('getChildren / getChildren2', () => {
  it('sorted names, child watch, stat for getChildren2', () => {
    const h = setup();
    const r = run(h, OpCode.getChildren, { path: '/a', watch: true });
    expect(rec.readGetChildrenResponse(r.reader).children).toEqual(['b', 'c', 'e1']);
    expect(r.watch).toEqual({ path: '/a', kind: 'child' });
    const r2 = run(h, OpCode.getChildren2, { path: '/', watch: false });
    const body = rec.readGetChildren2Response(r2.reader);
    expect(body.children).toEqual(['a', 'ab', 'adminonly', 'secret', 'zookeeper']);
    expect(body.stat.numChildren).toBe(5);
    expect(r2.watch).toBeUndefined();
    const missing = run(h, OpCode.getChildren, { path: '/zz', watch: true });
    expect([missing.err, missing.watch]).toEqual([ErrorCode.noNode, undefined]);
    expect(run(h, OpCode.getChildren2, { path: '/secret', watch: true }).err).toBe(ErrorCode.noAuth);
  });
});

describe('getACL', () => {
  it('needs READ or ADMIN; redacts digests without ADMIN', () => {
    const h = setup();
    const r = run(h, OpCode.getACL, { path: '/adminonly' });
    expect(r.err).toBe(0);
    expect(rec.readGetACLResponse(r.reader).acl).toEqual([{ perms: Perms.admin, id: { scheme: 'world', id: 'anyone' } }]);
    expect(run(h, OpCode.getACL, { path: '/secret' }).err).toBe(ErrorCode.noAuth);
    const full = rec.readGetACLResponse(run(h, OpCode.getACL, { path: '/secret' }, bob).reader);
    expect(full.acl[0].id.id).toBe(generateDigest('bob:pw'));
    h.write(OpCode.setACL, { path: '/a', acl: [{ perms: Perms.read, id: { scheme: 'world', id: 'anyone' } }, { perms: Perms.admin, id: bob[0] }], version: -1 });
    const redacted = rec.readGetACLResponse(run(h, OpCode.getACL, { path: '/a' }).reader);
    expect(redacted.acl[1].id).toEqual({ scheme: 'digest', id: 'bob:x' });
    expect(redacted.stat.aversion).toBe(1);
    expect(run(h, OpCode.getACL, { path: '/zz' }).err).toBe(ErrorCode.noNode);
  });
});

describe('getEphemerals / getAllChildrenNumber', () => {
  it('lists the caller session ephemerals with raw prefix matching', () => {
    const h = setup();
    const list = (prefixPath: string, sid = SESSION) => rec.readGetEphemeralsResponse(run(h, OpCode.getEphemerals, { prefixPath }, [], sid).reader).ephemerals;
    expect(list('/')).toEqual(['/a/e1', '/ab']);
    expect(list('')).toEqual(['/a/e1', '/ab']);
    expect(list(' / ')).toEqual(['/a/e1', '/ab']);
    expect(list('/a')).toEqual(['/a/e1', '/ab']);
    expect(list('/a/')).toEqual(['/a/e1']);
    expect(list('/', 999n)).toEqual([]);
  });

  it('counts all descendants; fresh server root is 3', () => {
    const h = new Harness();
    const count = (path: string) => rec.readGetAllChildrenNumberResponse(run(h, OpCode.getAllChildrenNumber, { path }).reader).totalNumber;
    expect(count('/')).toBe(3);
    h.create('/a');
    h.create('/a/b');
    h.create('/a/b/c');
    h.create('/d');
    expect(count('/')).toBe(7);
    expect(count('/a')).toBe(2);
    expect(run(h, OpCode.getAllChildrenNumber, { path: '/zz' }).err).toBe(ErrorCode.noNode);
  });
});

describe('multiRead', () => {
  it('answers each op on its own with header err 0', () => {
    const h = setup();
    const r = run(h, OpCode.multiRead, [
      { type: OpCode.getData, request: { path: '/a', watch: true } },
      { type: OpCode.getChildren, request: { path: '/zz', watch: false } },
      { type: OpCode.getChildren, request: { path: '/a', watch: true } },
      { type: OpCode.getData, request: { path: '/secret', watch: false } },
    ]);
    expect(r.err).toBe(0);
    expect(r.watch).toBeUndefined();
    expect(readMultiResponse(r.reader)).toEqual([
      { type: OpCode.getData, data: Buffer.from('A'), stat: h.db.tree.get('/a')!.stat },
      { type: OpCode.error, err: ErrorCode.noNode },
      { type: OpCode.getChildren, children: ['b', 'c', 'e1'] },
      { type: OpCode.error, err: ErrorCode.noAuth },
    ]);
    expect(run(h, OpCode.multiRead, [{ type: OpCode.delete, request: { path: '/a', version: -1 } }]).err).toBe(ErrorCode.marshallingError);
  });
});

describe('op table', () => {
  it('has every client data opcode with its kind, and no deleteContainer', () => {
    const kinds = Object.fromEntries([...opTable.values()].map((op) => [op.name, op.kind]));
    expect(kinds).toEqual({
      create: 'write', create2: 'write', createContainer: 'write', createTTL: 'write', delete: 'write', setData: 'write', setACL: 'write', multi: 'write',
      exists: 'read', getData: 'read', getACL: 'read', getChildren: 'read', getChildren2: 'read', multiRead: 'read', getEphemerals: 'read', getAllChildrenNumber: 'read',
      check: 'standaloneCheck',
    });
    expect(opTable.has(OpCode.deleteContainer)).toBe(false);
    for (const [code, op] of opTable) expect(op.code).toBe(code);
  });

  it('write replies: create -> path, create2 -> path+stat, delete -> nothing, errors -> no body', () => {
    const h = new Harness();
    const reply = (opCode: number, res: Parameters<Extract<ReturnType<typeof opTable.get>, { kind: 'write' }>['reply']>[0]) => {
      const op = opTable.get(opCode)!;
      if (op.kind !== 'write') throw new Error('not a write');
      const { err, body } = op.reply(res);
      const w = new JuteWriter();
      body?.(w);
      return { err, r: new JuteReader(w.toBuffer()), len: w.length };
    };
    const c = h.create('/x', { opCode: OpCode.create });
    expect(rec.readCreateResponse(reply(OpCode.create, c.result).r)).toEqual({ path: '/x' });
    const c2 = h.create('/y', { opCode: OpCode.create2 });
    expect(rec.readCreate2Response(reply(OpCode.create2, c2.result).r)).toEqual({ path: '/y', stat: h.db.tree.get('/y')!.stat });
    expect(reply(OpCode.delete, h.del('/x').result)).toMatchObject({ err: 0, len: 0 });
    const s = h.setData('/y', Buffer.from('q'));
    expect(rec.readSetDataResponse(reply(OpCode.setData, s.result).r).stat.version).toBe(1);
    const a = h.write(OpCode.setACL, { path: '/y', acl: OPEN, version: -1 });
    expect(rec.readSetACLResponse(reply(OpCode.setACL, a.result).r).stat.aversion).toBe(1);
    expect(reply(OpCode.create, h.create('/y').result)).toMatchObject({ err: ErrorCode.nodeExists, len: 0 });
  });
});
