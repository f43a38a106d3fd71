import { OpCode } from '../../protocol/jute/constants';
import { readCreateTTLRequest } from '../../protocol/jute/records';
import { create2Reply } from './create2';
import type { WriteOp } from './types';

/** createTTL (21): CreateTTLRequest -> Create2Response. */
export const createTTLOp: WriteOp = {
  code: OpCode.createTTL,
  name: 'createTTL',
  kind: 'write',
  decode: readCreateTTLRequest,
  reply: create2Reply,
};
