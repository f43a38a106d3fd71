import { AddWatchMode, ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { readAddWatchRequest, writeErrorResponse } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/** addWatch (3.6+): a persistent or persistent-recursive watch; works on missing paths; body is int 0. */
export const addWatch: ConnOp = {
  code: OpCode.addWatch,
  name: 'addWatch',
  handle(host, conn, xid, r) {
    const req = readAddWatchRequest(r);
    host.enqueue(conn, xid, OpCode.addWatch, (out) => {
      if (req.mode !== AddWatchMode.persistent && req.mode !== AddWatchMode.persistentRecursive) {
        writeReply(out, xid, host.lastZxid(), ErrorCode.badArguments);
        return;
      }
      host.watches.add(conn.id, req.path, req.mode === AddWatchMode.persistent ? 'persistent' : 'persistentRecursive');
      writeReply(out, xid, host.lastZxid(), ErrorCode.ok, (w) => writeErrorResponse(w, { err: 0 }));
    });
  },
};
