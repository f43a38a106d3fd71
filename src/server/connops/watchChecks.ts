import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { readCheckWatchesRequest, readRemoveWatchesRequest } from '../../../protocol/jute/records';
import type { JuteReader } from '../../../protocol/jute/reader';
import type { WatchManager } from '../../watch';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/**
 * checkWatches / removeWatches: both name a path and a watcher type and answer NoWatcher when
 * nothing of that type is registered there; they differ only in whether the watch goes away.
 */
function watchOp(code: number, name: string, read: (r: JuteReader) => { path: string; type: number }, act: (w: WatchManager, conn: number, path: string, type: number) => boolean): ConnOp {
  return {
    code,
    name,
    handle(host, conn, xid, r) {
      const req = read(r);
      host.enqueue(conn, xid, code, (out) => {
        const err = act(host.watches, conn.id, req.path, req.type) ? ErrorCode.ok : ErrorCode.noWatcher;
        writeReply(out, xid, host.lastZxid(), err);
      });
    },
  };
}

export const checkWatches = watchOp(OpCode.checkWatches, 'checkWatches', readCheckWatchesRequest, (w, c, p, t) => w.has(c, p, t));
export const removeWatches = watchOp(OpCode.removeWatches, 'removeWatches', readRemoveWatchesRequest, (w, c, p, t) => w.remove(c, p, t));
