import { ErrorCode, OpCode } from '../../protocol/jute/constants';
import { readMultiRequest, writeMultiResponse, type OpResult } from '../../protocol/jute/multi';
import type { SubResult } from '../tree';
import type { WriteOp } from './types';

/** Create sub-ops answer with type 15 + Stat except plain create (1), which sends the path only. */
function toOpResult(r: SubResult): OpResult {
  switch (r.type) {
    case 'create':
      return r.opCode === OpCode.create
        ? { type: OpCode.create, path: r.path }
        : { type: OpCode.create2, path: r.path, stat: r.stat };
    case 'delete':
      return { type: OpCode.delete };
    case 'setData':
      return { type: OpCode.setData, stat: r.stat };
    case 'check':
      return { type: OpCode.check };
    case 'error':
      return { type: OpCode.error, err: r.err };
  }
}

/**
 * multi (14): the reply header says OK even when the multi failed; the per-op results carry the
 * codes. A multi whose body could not be decoded (or mixes reads in) is a plain error reply.
 */
export const multiOp: WriteOp = {
  code: OpCode.multi,
  name: 'multi',
  kind: 'write',
  decode: readMultiRequest,
  reply: (res) => {
    if (!res.results) return { err: res.err };
    const results = res.results.map(toOpResult);
    return { err: ErrorCode.ok, body: (w) => writeMultiResponse(w, results) };
  },
};
