/** Raw jute socket and hand-built frames (shared with scripts/capture-fixtures.ts). */
export { Writer, RawConn, parseReply, connectRequest, request, ops } from '../../scripts/lib/rawclient';
export type { ReplyHeader, ConnectOpts } from '../../scripts/lib/rawclient';
