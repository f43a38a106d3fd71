import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { readSyncRequest, writeSyncResponse } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/**
 * sync: answers once every txn proposed before it has committed, so a read after it sees every
 * write acknowledged before the sync was sent. Echoes the path even if it does not exist.
 */
export const sync: ConnOp = {
  code: OpCode.sync,
  name: 'sync',
  handle(host, conn, xid, r) {
    const req = readSyncRequest(r);
    host.sync(conn, xid, (out) => writeReply(out, xid, host.lastZxid(), ErrorCode.ok, (w) => writeSyncResponse(w, { path: req.path })));
  },
};
