import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { readGetEphemeralsRequest, writeGetEphemeralsResponse, type GetEphemeralsRequest } from '../../protocol/jute/records';
import type { ReadOp } from './types';

/**
 * getEphemerals (103): the caller's own ephemerals. An empty/blank/"/" prefix means all; otherwise
 * a raw startsWith match, so "/a" also matches "/ab" (as ZooKeeper). Sorted for determinism.
 */
export const getEphemeralsOp: ReadOp = {
  code: OpCode.getEphemerals,
  name: 'getEphemerals',
  kind: 'read',
  decode: readGetEphemeralsRequest,
  run: (db, req: GetEphemeralsRequest, caller) => {
    const prefix = (req.prefixPath ?? '').trim();
    const all = db.tree.getEphemerals(caller.sessionId);
    const ephemerals = (prefix === '' || prefix === '/' ? all : all.filter((p) => p.startsWith(req.prefixPath))).sort();
    return { err: ErrorCode.ok, encode: (w) => writeGetEphemeralsResponse(w, { ephemerals }) };
  },
};
