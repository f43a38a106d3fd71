import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import type { Stat } from '../../protocol/jute/data';
import { readGetDataRequest, writeGetDataResponse, type GetDataRequest } from '../../protocol/jute/records';
import { copyStat, type ZkDatabase } from '../tree';
import { isOutcome, readableNode } from './common';
import type { Caller, ReadOp } from './types';

/** The getData decision shared with multiRead: data + stat, or an error code. */
export function getDataResult(db: ZkDatabase, path: string, caller: Caller): { err: number } | { err: 0; data: Buffer | null; stat: Stat } {
  const node = readableNode(db, path, caller);
  if (isOutcome(node)) return { err: node.err };
  return { err: ErrorCode.ok, data: node.data, stat: copyStat(node) };
}

/** getData (4): needs READ; NoNode leaves no watch. */
export const getDataOp: ReadOp = {
  code: OpCode.getData,
  name: 'getData',
  kind: 'read',
  decode: readGetDataRequest,
  run: (db, req: GetDataRequest, caller) => {
    const res = getDataResult(db, req.path, caller);
    if (!('stat' in res)) return { err: res.err };
    return {
      err: ErrorCode.ok,
      encode: (w) => writeGetDataResponse(w, { data: res.data, stat: res.stat }),
      watch: req.watch ? { path: req.path, kind: 'data' } : undefined,
    };
  },
};
