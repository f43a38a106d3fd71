import { ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import { readExistsRequest, writeExistsResponse, type ExistsRequest } from '../../protocol/jute/records';
import { checkAcl } from '../acl';
import { copyStat } from '../tree';
import type { ReadOp } from './types';

/**
 * exists (3): the one read that leaves a watch on a missing node (an "exist" watch, fired by
 * its creation). An existing node needs READ (3.9) and gets a data watch.
 */
export const existsOp: ReadOp = {
  code: OpCode.exists,
  name: 'exists',
  kind: 'read',
  decode: readExistsRequest,
  run: (db, req: ExistsRequest, caller) => {
    if (req.path.includes('\0')) return { err: ErrorCode.badArguments };
    const node = db.tree.get(req.path);
    if (!node) return { err: ErrorCode.noNode, watch: req.watch ? { path: req.path, kind: 'exist' } : undefined };
    if (!checkAcl(node.acl, Perms.read, caller.authIds)) return { err: ErrorCode.noAuth };
    const stat = copyStat(node);
    return {
      err: ErrorCode.ok,
      encode: (w) => writeExistsResponse(w, { stat }),
      watch: req.watch ? { path: req.path, kind: 'data' } : undefined,
    };
  },
};
