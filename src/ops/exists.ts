import { ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import { checkAcl } from '../acl';
import { readExistsRequest, writeExistsResponse, type ExistsRequest } from '../../protocol/jute/records';
import { copyStat } from '../tree';
import type { ReadOp } from './types';

/**
 * exists (3): the one read that leaves a watch on a missing node (an "exist" watch, fired by its
 * creation); an existing node gets a data watch. A path containing NUL is BadArguments. As in
 * ZooKeeper >= 3.8.4 (ZOOKEEPER-2590) an existing node needs READ (its Stat tells when and how often
 * it changed); NoAuth leaves no watch. A missing node needs nothing: there is no ACL to check.
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
