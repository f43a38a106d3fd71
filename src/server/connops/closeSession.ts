import { OpCode } from '../../../protocol/jute/constants';
import type { ConnOp } from './types';

/** closeSession: a txn (removes the session's ephemerals); the reply is followed by closing the socket. */
export const closeSession: ConnOp = {
  code: OpCode.closeSession,
  name: 'closeSession',
  handle(host, conn, xid) {
    host.closeSession(conn, xid);
  },
};
