/** Proves multi is all-or-nothing with ZooKeeper's per-op result codes, and that its reply bytes match the fact sheet. */
import { CreateFlags, ErrorCode, EventType, OpCode } from '../../protocol/jute/constants';
import { readMultiResponse, type MultiOp } from '../../protocol/jute/multi';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import { opTable, type WriteOp } from '../../src/ops';
import type { ApplyResult } from '../../src/tree';
import { Harness, OPEN } from './harness';

const create = (path: string, type: number = OpCode.create, flags = 0): MultiOp => ({ type, request: { path, data: null, acl: OPEN, flags } } as MultiOp);
const del = (path: string, version = -1): MultiOp => ({ type: OpCode.delete, request: { path, version } });
const setData = (path: string, version = -1): MultiOp => ({ type: OpCode.setData, request: { path, data: Buffer.from('x'), version } });
const check = (path: string, version: number): MultiOp => ({ type: OpCode.check, request: { path, version } });

function replyBytes(result: ApplyResult): { err: number; hex: string } {
  const op = opTable.get(OpCode.multi) as WriteOp;
  const { err, body } = op.reply(result);
  const w = new JuteWriter();
  body?.(w);
  return { err, hex: w.toBuffer().toString('hex') };
}

describe('multi', () => {
  it('applies every op under one zxid; later ops see earlier ones', () => {
    const h = new Harness();
    h.create('/x');
    const r = h.write(OpCode.multi, [create('/m'), create('/m/c', OpCode.create2), setData('/m', 0), check('/m', 1), del('/x'), create('/m/s', OpCode.create, CreateFlags.persistentSequential)]);
    expect(r.txn.body.type).toBe('multi');
    expect(r.result.err).toBe(0);
    expect(r.result.results!.map((x) => x.type)).toEqual(['create', 'create', 'setData', 'check', 'delete', 'create']);
    expect(r.result.results![5]).toMatchObject({ path: '/m/s0000000001' });
    expect(h.db.tree.get('/m')!.stat).toMatchObject({ version: 1, numChildren: 2, cversion: 2, czxid: r.txn.zxid, mzxid: r.txn.zxid });
    expect(new Set(r.events.map((e) => e.zxid))).toEqual(new Set([r.txn.zxid]));
    expect(r.events).toContainEqual({ type: EventType.nodeDeleted, path: '/x', zxid: r.txn.zxid, acl: expect.anything() });
    // result types: create -> 1 (path), create2 -> 15 (path+stat)
    const parsed = readMultiResponse(new JuteReader(Buffer.from(replyBytes(r.result).hex, 'hex')));
    expect(parsed.map((p) => p.type)).toEqual([OpCode.create, OpCode.create2, OpCode.setData, OpCode.check, OpCode.delete, OpCode.create]);
  });

  it('a failing op rolls back everything: 0 before, its code, RuntimeInconsistency after', () => {
    const h = new Harness();
    h.create('/exists');
    const r = h.write(OpCode.multi, [create('/new'), create('/exists'), setData('/new')]);
    expect(r.txn.body).toEqual({ type: 'multiError', results: [0, ErrorCode.nodeExists, ErrorCode.runtimeInconsistency] });
    expect(r.events).toEqual([]);
    expect(h.db.tree.has('/new')).toBe(false);
    expect(h.db.lastProcessedZxid).toBe(r.txn.zxid);
    // Bytes observed on a real server (zk-wire-facts §8)
    const reply = replyBytes(r.result);
    expect(reply.err).toBe(0);
    expect(reply.hex).toBe('ffffffff0000000000' + '00000000' + 'ffffffff00ffffff92' + 'ffffff92' + 'ffffffff00fffffffe' + 'fffffffe' + 'ffffffff01ffffffff');
  });

  it('an in-flight failed multi leaves no trace in the overlay', () => {
    const h = new Harness();
    h.submit(OpCode.multi, [create('/a'), create('/a/b'), del('/missing')]);
    const next = h.submit(OpCode.create, { path: '/a', data: null, acl: OPEN, flags: 0 });
    expect(next.body.type).toBe('create');
    const seq = h.submit(OpCode.create, { path: '/s', data: null, acl: OPEN, flags: CreateFlags.persistentSequential });
    expect(seq.body).toMatchObject({ path: '/s0000000001' }); // only /a counted, not the rolled-back ops
    h.commitAll();
    expect(h.db.tree.getChildren('/a')).toEqual([]);
  });

  it('version checks: check fails with BadVersion, NoNode for missing paths', () => {
    const h = new Harness();
    h.create('/v');
    expect(h.write(OpCode.multi, [check('/v', 3)]).result.results).toEqual([{ type: 'error', err: ErrorCode.badVersion }]);
    expect(h.write(OpCode.multi, [check('/v', 0), check('/nope', 0)]).result.results).toEqual([
      { type: 'error', err: 0 }, { type: 'error', err: ErrorCode.noNode },
    ]);
  });

  it('empty multi succeeds with an empty result list and still takes a zxid', () => {
    const h = new Harness();
    const r = h.write(OpCode.multi, []);
    expect(r.result).toEqual({ err: 0, results: [] });
    expect(replyBytes(r.result).hex).toBe('ffffffff01ffffffff');
    expect(h.db.lastProcessedZxid).toBe(r.txn.zxid);
  });

  it('read sub-ops in a write multi are a MarshallingError', () => {
    const h = new Harness();
    const r = h.write(OpCode.multi, [create('/a'), { type: OpCode.getData, request: { path: '/a', watch: false } }]);
    expect(r.result.err).toBe(ErrorCode.marshallingError);
    expect(replyBytes(r.result)).toEqual({ err: ErrorCode.marshallingError, hex: '' });
  });

  it('multi can delete a node created in the same multi and recreate it', () => {
    const h = new Harness();
    const r = h.write(OpCode.multi, [create('/t'), del('/t'), create('/t')]);
    expect(r.result.results!.map((x) => x.type)).toEqual(['create', 'delete', 'create']);
    expect(h.db.tree.get('/')!.stat.cversion).toBe(2); // -1 + create + delete + create
  });
});
