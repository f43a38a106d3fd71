import { OpCode } from '../../protocol/jute/constants';
import { readCheckVersionRequest } from '../../protocol/jute/records';
import type { StandaloneCheckOp } from './types';

/**
 * check (13) on its own. Only meaningful inside multi; ZooKeeper 3.9.3+ answers Unimplemented and
 * closes (older servers poison their log), which the server does for this kind.
 */
export const checkOp: StandaloneCheckOp = {
  code: OpCode.check,
  name: 'check',
  kind: 'standaloneCheck',
  decode: readCheckVersionRequest,
};
