import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { writeSetSASLResponse } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/** sasl without SASL configured: ZooKeeper answers err 0 with a null token. */
export const sasl: ConnOp = {
  code: OpCode.sasl,
  name: 'sasl',
  handle(host, conn, xid) {
    host.enqueue(conn, xid, OpCode.sasl, (out) =>
      writeReply(out, xid, host.lastZxid(), ErrorCode.ok, (w) => writeSetSASLResponse(w, { token: null })),
    );
  },
};
