import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { readExistsRequest, writeExistsResponse, type ExistsRequest } from '../../protocol/jute/records';
import { copyStat } from '../tree';
import type { ReadOp } from './types';

/**
 * exists (3): the one read that leaves a watch on a missing node (an "exist" watch, fired by its
 * creation); an existing node gets a data watch. Like ZooKeeper's FinalRequestProcessor it checks
 * no ACL (the Stat is not considered secret) and refuses only a path containing NUL.
 */
export const existsOp: ReadOp = {
  code: OpCode.exists,
  name: 'exists',
  kind: 'read',
  decode: readExistsRequest,
  run: (db, req: ExistsRequest) => {
    if (req.path.includes('\0')) return { err: ErrorCode.badArguments };
    const node = db.tree.get(req.path);
    if (!node) return { err: ErrorCode.noNode, watch: req.watch ? { path: req.path, kind: 'exist' } : undefined };
    const stat = copyStat(node);
    return {
      err: ErrorCode.ok,
      encode: (w) => writeExistsResponse(w, { stat }),
      watch: req.watch ? { path: req.path, kind: 'data' } : undefined,
    };
  },
};
