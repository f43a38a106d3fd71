import { OpCode } from '../../protocol/jute/constants';
import { readCreateRequest, writeCreateResponse } from '../../protocol/jute/records';
import { okReply } from './common';
import type { WriteOp } from './types';

/** create (1): CreateRequest -> CreateResponse (the final path only). */
export const createOp: WriteOp = {
  code: OpCode.create,
  name: 'create',
  kind: 'write',
  decode: readCreateRequest,
  reply: (res) => okReply(res.err, (w) => writeCreateResponse(w, { path: res.path! })),
};
