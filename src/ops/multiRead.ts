import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { MULTI_READ_OP_TYPES, readMultiRequest, writeMultiResponse, type MultiOp, type OpResult } from '../../protocol/jute/multi';
import type { ZkDatabase } from '../tree';
import { getChildrenResult } from './getChildren';
import { getDataResult } from './getData';
import type { Caller, ReadOp } from './types';

function readOne(db: ZkDatabase, op: MultiOp, caller: Caller): OpResult {
  if (op.type === OpCode.getData) {
    const r = getDataResult(db, op.request.path, caller);
    return 'stat' in r ? { type: OpCode.getData, data: r.data, stat: r.stat } : { type: OpCode.error, err: r.err };
  }
  if (op.type === OpCode.getChildren) {
    const r = getChildrenResult(db, op.request.path, caller);
    return 'children' in r ? { type: OpCode.getChildren, children: r.children } : { type: OpCode.error, err: r.err };
  }
  return { type: OpCode.error, err: ErrorCode.marshallingError };
}

/**
 * multiRead (22): getData / getChildren sub-ops, each answered on its own (per-op ErrorResult),
 * reply header err 0. Watch flags are ignored. A write sub-op makes the whole request a
 * MarshallingError, as mixing is refused by ZooKeeper.
 */
export const multiReadOp: ReadOp = {
  code: OpCode.multiRead,
  name: 'multiRead',
  kind: 'read',
  decode: readMultiRequest,
  run: (db, ops: MultiOp[], caller) => {
    if (ops.some((op) => !MULTI_READ_OP_TYPES.has(op.type))) return { err: ErrorCode.marshallingError };
    const results = ops.map((op) => readOne(db, op, caller));
    return { err: ErrorCode.ok, encode: (w) => writeMultiResponse(w, results) };
  },
};
