import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import type { Stat } from '../../protocol/jute/data';
import { readGetChildrenRequest, writeGetChildrenResponse, type GetChildrenRequest } from '../../protocol/jute/records';
import { copyStat, type ZkDatabase } from '../tree';
import { isOutcome, readableNode } from './common';
import type { Caller, ReadOp } from './types';

/**
 * getChildren decision shared with getChildren2 and multiRead. Names come back sorted: ZooKeeper
 * promises no order (it uses a HashSet), and sorted is deterministic.
 */
export function getChildrenResult(db: ZkDatabase, path: string, caller: Caller): { err: number } | { err: 0; children: string[]; stat: Stat } {
  const node = readableNode(db, path, caller);
  if (isOutcome(node)) return { err: node.err };
  return { err: ErrorCode.ok, children: db.tree.getChildren(path)!, stat: copyStat(node) };
}

/** getChildren (8): needs READ; child watch; NoNode leaves no watch. */
export const getChildrenOp: ReadOp = {
  code: OpCode.getChildren,
  name: 'getChildren',
  kind: 'read',
  decode: readGetChildrenRequest,
  run: (db, req: GetChildrenRequest, caller) => {
    const res = getChildrenResult(db, req.path, caller);
    if (!('children' in res)) return { err: res.err };
    return {
      err: ErrorCode.ok,
      encode: (w) => writeGetChildrenResponse(w, { children: res.children }),
      watch: req.watch ? { path: req.path, kind: 'child' } : undefined,
    };
  },
};
