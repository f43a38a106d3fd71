import { ErrorCode, OpCode, Xid } from '../../../protocol/jute/constants';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/** ping: answered in request order with the server's last zxid; the arrival already touched the session. */
export const ping: ConnOp = {
  code: OpCode.ping,
  name: 'ping',
  handle(host, conn) {
    host.enqueue(conn, Xid.ping, OpCode.ping, (out) => writeReply(out, Xid.ping, host.lastZxid(), ErrorCode.ok));
  },
};
