import { OpCode } from '../../protocol/jute/constants';
import { readCreateRequest, writeCreate2Response } from '../../protocol/jute/records';
import type { ApplyResult } from '../tree';
import { okReply } from './common';
import type { WriteOp, WriteReply } from './types';

/** Create2Response (path + Stat), shared by create2, createContainer and createTTL. */
export function create2Reply(res: ApplyResult): WriteReply {
  return okReply(res.err, (w) => writeCreate2Response(w, { path: res.path!, stat: res.stat! }));
}

/** create2 (15): CreateRequest -> Create2Response. */
export const create2Op: WriteOp = {
  code: OpCode.create2,
  name: 'create2',
  kind: 'write',
  decode: readCreateRequest,
  reply: create2Reply,
};
