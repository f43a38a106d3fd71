import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
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
 * SetWatches / SetWatches2 (xid -8 from Java clients), sent on reconnect: anything that changed after relativeZxid
 * fires at once, the rest is re-armed. The notifications go out before the -8 reply.
 */
function rearm(host: ConnOpHost, conn: ClientConnection, xid: number, opCode: number, lists: WatchLists): void {
  // The reply echoes the request's xid: Java clients use -8, node-zookeeper-client an ordinary xid.
  host.enqueue(conn, xid, opCode, (out) => {
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
        return info ? { exists: true, ...info } : { exists: false, mzxid: 0n, pzxid: 0n, acl: [] };
      },
      host.mayRead,
    );
    host.deliver(fired);
    writeReply(out, xid, host.lastZxid(), ErrorCode.ok);
  });
}

export const setWatches: ConnOp = {
  code: OpCode.setWatches,
  name: 'setWatches',
  handle(host, conn, xid, r) {
    rearm(host, conn, xid, OpCode.setWatches, readSetWatches(r));
  },
};

export const setWatches2: ConnOp = {
  code: OpCode.setWatches2,
  name: 'setWatches2',
  handle(host, conn, xid, r) {
    rearm(host, conn, xid, OpCode.setWatches2, readSetWatches2(r));
  },
};
