import { OpCode } from '../../protocol/jute/constants';
import { readCreateRequest } from '../../protocol/jute/records';
import { create2Reply } from './create2';
import type { WriteOp } from './types';

/** createContainer (19): CreateRequest with the container flag -> Create2Response. */
export const createContainerOp: WriteOp = {
  code: OpCode.createContainer,
  name: 'createContainer',
  kind: 'write',
  decode: readCreateRequest,
  reply: create2Reply,
};
