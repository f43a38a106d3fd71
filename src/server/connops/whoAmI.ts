import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { writeWhoAmIResponse } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/** whoAmI (3.7+): one (scheme, user) per auth id; digest ids show only the user part. */
export const whoAmI: ConnOp = {
  code: OpCode.whoAmI,
  name: 'whoAmI',
  handle(host, conn, xid) {
    host.enqueue(conn, xid, OpCode.whoAmI, (out) => {
      const clientInfo = conn.authIds.map((id) => ({
        authScheme: id.scheme,
        user: id.scheme === 'digest' ? id.id.split(':')[0] : id.id,
      }));
      writeReply(out, xid, host.lastZxid(), ErrorCode.ok, (w) => writeWhoAmIResponse(w, { clientInfo }));
    });
  },
};
