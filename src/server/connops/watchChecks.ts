import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { readCheckWatchesRequest, readRemoveWatchesRequest } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/** checkWatches / removeWatches: NoWatcher when nothing of that type is registered on the path. */
export const checkWatches: ConnOp = {
  code: OpCode.checkWatches,
  name: 'checkWatches',
  handle(host, conn, xid, r) {
    const req = readCheckWatchesRequest(r);
    host.enqueue(conn, xid, OpCode.checkWatches, (out) => {
      const err = host.watches.has(conn.id, req.path, req.type as never) ? ErrorCode.ok : ErrorCode.noWatcher;
      writeReply(out, xid, host.lastZxid(), err);
    });
  },
};

export const removeWatches: ConnOp = {
  code: OpCode.removeWatches,
  name: 'removeWatches',
  handle(host, conn, xid, r) {
    const req = readRemoveWatchesRequest(r);
    host.enqueue(conn, xid, OpCode.removeWatches, (out) => {
      const err = host.watches.remove(conn.id, req.path, req.type as never) ? ErrorCode.ok : ErrorCode.noWatcher;
      writeReply(out, xid, host.lastZxid(), err);
    });
  },
};
