import { ErrorCode, OpCode, Xid } from '../../../protocol/jute/constants';
import { readSetWatches, readSetWatches2 } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp, ConnOpHost } from './types';
import type { ClientConnection } from '../connection';

interface WatchLists {
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches?: string[];
  persistentRecursiveWatches?: string[];
}

/**
 * SetWatches / SetWatches2 (xid -8), sent on reconnect: anything that changed after relativeZxid
 * fires at once, the rest is re-armed. The notifications go out before the -8 reply.
 */
function rearm(host: ConnOpHost, conn: ClientConnection, opCode: number, lists: WatchLists): void {
  host.enqueue(conn, Xid.setWatches, opCode, (out) => {
    const fired = host.watches.setWatches(
      conn.id,
      lists.relativeZxid,
      {
        data: lists.dataWatches,
        exist: lists.existWatches,
        child: lists.childWatches,
        persistent: lists.persistentWatches ?? [],
        persistentRecursive: lists.persistentRecursiveWatches ?? [],
      },
      (path) => {
        const info = host.nodeVersionInfo(path);
        return info ? { exists: true, mzxid: info.mzxid, pzxid: info.pzxid } : { exists: false, mzxid: 0n, pzxid: 0n };
      },
    );
    host.deliver(fired);
    writeReply(out, Xid.setWatches, host.lastZxid(), ErrorCode.ok);
  });
}

export const setWatches: ConnOp = {
  code: OpCode.setWatches,
  name: 'setWatches',
  handle(host, conn, _xid, r) {
    rearm(host, conn, OpCode.setWatches, readSetWatches(r));
  },
};

export const setWatches2: ConnOp = {
  code: OpCode.setWatches2,
  name: 'setWatches2',
  handle(host, conn, _xid, r) {
    rearm(host, conn, OpCode.setWatches2, readSetWatches2(r));
  },
};
