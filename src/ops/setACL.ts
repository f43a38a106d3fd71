import { OpCode } from '../../protocol/jute/constants';
import { readSetACLRequest, writeSetACLResponse } from '../../protocol/jute/records';
import { okReply } from './common';
import type { WriteOp } from './types';

/** setACL (7): SetACLRequest (version checked against aversion) -> SetACLResponse (Stat). */
export const setACLOp: WriteOp = {
  code: OpCode.setACL,
  name: 'setACL',
  kind: 'write',
  decode: readSetACLRequest,
  reply: (res) => okReply(res.err, (w) => writeSetACLResponse(w, { stat: res.stat! })),
};
