import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { readGetAllChildrenNumberRequest, writeGetAllChildrenNumberResponse, type GetAllChildrenNumberRequest } from '../../protocol/jute/records';
import { isOutcome, readableNode } from './common';
import type { ReadOp } from './types';

/** getAllChildrenNumber (104): every descendant (not the node itself); needs READ. */
export const getAllChildrenNumberOp: ReadOp = {
  code: OpCode.getAllChildrenNumber,
  name: 'getAllChildrenNumber',
  kind: 'read',
  decode: readGetAllChildrenNumberRequest,
  run: (db, req: GetAllChildrenNumberRequest, caller) => {
    const node = readableNode(db, req.path, caller);
    if (isOutcome(node)) return node;
    const totalNumber = db.tree.countDescendants(req.path);
    return { err: ErrorCode.ok, encode: (w) => writeGetAllChildrenNumberResponse(w, { totalNumber }) };
  },
};
