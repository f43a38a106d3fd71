import { OpCode } from '../../protocol/jute/constants';
import { readSetDataRequest, writeSetDataResponse } from '../../protocol/jute/records';
import { okReply } from './common';
import type { WriteOp } from './types';

/** setData (5): SetDataRequest -> SetDataResponse (new Stat). */
export const setDataOp: WriteOp = {
  code: OpCode.setData,
  name: 'setData',
  kind: 'write',
  decode: readSetDataRequest,
  reply: (res) => okReply(res.err, (w) => writeSetDataResponse(w, { stat: res.stat! })),
};
