import { AddWatchMode, ErrorCode } from '../../../protocol/jute/constants';
import {
  ExtErrorCode,
  ExtOpCode,
  Feature,
  RESUME_FROM_NOW,
  ResumeFlags,
  readResumeWatchRequest,
  writeResumeWatchResponse,
} from '../../../protocol/jute/extensions';
import { writeReply } from '../replies';
import { hasFeature } from '../resumable';
import type { ConnOp } from './types';

/** One reply page stays far below any client's frame limit. */
const PAGE_BYTES_MAX = 512 * 1024;

const MODES: Readonly<Record<number, 'persistent' | 'persistentRecursive'>> = {
  [AddWatchMode.persistent]: 'persistent',
  [AddWatchMode.persistentRecursive]: 'persistentRecursive',
};

/**
 * resumeWatch (zabkeeper extension, protocol/README.md): replays the history after the client's
 * position and, on the last page, registers the watch, all in one step at the head of the
 * connection's queue, so no event falls between the replay and the live watch and none is told
 * twice. Only for connections that negotiated the feature; for others it is an unknown opcode.
 */
export const resumeWatch: ConnOp = {
  code: ExtOpCode.resumeWatch,
  name: 'resumeWatch',
  handle(host, conn, xid, r) {
    if (!hasFeature(conn.features, Feature.resumableWatches)) {
      host.enqueue(conn, xid, ExtOpCode.resumeWatch, (out) => writeReply(out, xid, -1n, ErrorCode.unimplemented), { closeAfter: true });
      return;
    }
    const req = readResumeWatchRequest(r);
    host.enqueue(conn, xid, ExtOpCode.resumeWatch, (out) => {
      const mode = MODES[req.mode];
      if (!mode || !req.path.startsWith('/')) {
        writeReply(out, xid, host.lastZxid(), ErrorCode.badArguments);
        return;
      }
      const page =
        req.afterZxid === RESUME_FROM_NOW
          ? { events: [], more: false }
          : host.history.replay({
              path: req.path,
              mode,
              after: { zxid: req.afterZxid, seen: req.afterSeen },
              maxBytes: req.maxBytes > 0 ? Math.min(req.maxBytes, PAGE_BYTES_MAX) : PAGE_BYTES_MAX,
              includeData: (req.flags & ResumeFlags.includeData) !== 0,
              mayRead: (acl) => host.mayRead(conn.id, acl),
            });
      if (page === 'purged') {
        writeReply(out, xid, host.lastZxid(), ExtErrorCode.historyPurged);
        return;
      }
      if (!page.more) host.watches.add(conn.id, req.path, mode);
      writeReply(out, xid, host.lastZxid(), ErrorCode.ok, (w) => writeResumeWatchResponse(w, page));
    });
  },
};
