import { OpCode } from '../../protocol/jute/constants';
import { readDeleteRequest } from '../../protocol/jute/records';
import type { WriteOp } from './types';

/** delete (2): DeleteRequest -> no body. */
export const deleteOp: WriteOp = {
  code: OpCode.delete,
  name: 'delete',
  kind: 'write',
  decode: readDeleteRequest,
  reply: (res) => ({ err: res.err }),
};
