import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { readReconfigRequest } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/** reconfig: dynamic reconfiguration is not supported yet; ZooKeeper's answer when it is off. */
export const reconfig: ConnOp = {
  code: OpCode.reconfig,
  name: 'reconfig',
  handle(host, conn, xid, r) {
    readReconfigRequest(r);
    host.enqueue(conn, xid, OpCode.reconfig, (out) => writeReply(out, xid, host.lastZxid(), ErrorCode.reconfigDisabled));
  },
};
