import { ErrorCode, OpCode, Xid } from '../../../protocol/jute/constants';
import { readAuthPacket } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/**
 * auth (AuthPacket, xid -4): the new ids apply to every later request on this connection at once.
 * Reply zxid is 0. A failed or unknown scheme gets AuthFailed and the connection is closed, as
 * ZooKeeper does.
 */
export const auth: ConnOp = {
  code: OpCode.auth,
  name: 'auth',
  handle(host, conn, xid, r) {
    const packet = readAuthPacket(r);
    const ids = host.authenticate(packet.scheme, packet.auth);
    if (!ids) {
      host.enqueue(conn, Xid.auth, OpCode.auth, (out) => writeReply(out, Xid.auth, 0n, ErrorCode.authFailed), { closeAfter: true });
      return;
    }
    for (const id of ids) {
      if (!conn.authIds.some((have) => have.scheme === id.scheme && have.id === id.id)) conn.authIds.push(id);
    }
    host.enqueue(conn, Xid.auth, OpCode.auth, (out) => writeReply(out, Xid.auth, 0n, ErrorCode.ok));
  },
};
