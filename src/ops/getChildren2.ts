import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { readGetChildren2Request, writeGetChildren2Response, type GetChildren2Request } from '../../protocol/jute/records';
import { getChildrenResult } from './getChildren';
import type { ReadOp } from './types';

/** getChildren2 (12): getChildren plus the parent's Stat. */
export const getChildren2Op: ReadOp = {
  code: OpCode.getChildren2,
  name: 'getChildren2',
  kind: 'read',
  decode: readGetChildren2Request,
  run: (db, req: GetChildren2Request, caller) => {
    const res = getChildrenResult(db, req.path, caller);
    if (!('children' in res)) return { err: res.err };
    return {
      err: ErrorCode.ok,
      encode: (w) => writeGetChildren2Response(w, { children: res.children, stat: res.stat }),
      watch: req.watch ? { path: req.path, kind: 'child' } : undefined,
    };
  },
};
