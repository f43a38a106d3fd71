import { ErrorCode, OpCode } from '../../../protocol/jute/constants';
import { readGetSASLRequest, writeReplyHeader, writeSetSASLResponse } from '../../../protocol/jute/records';
import { writeReply } from '../replies';
import type { ConnOp } from './types';

/**
 * sasl (102): one round of the SASL exchange (DIGEST-MD5 with the JAAS Server section). The ids
 * are granted as the packet arrives, like addauth, so requests behind it see them. Reply zxid 0,
 * body SetSASLResponse. A failure answers AuthFailed (or -124 under enforce.auth with sasl) with a
 * null token, then closes, as ZooKeeperServer.processSasl does. Without SASL configured the token
 * is null and nothing changes.
 */
export const sasl: ConnOp = {
  code: OpCode.sasl,
  name: 'sasl',
  handle(host, conn, xid, r) {
    const { token } = readGetSASLRequest(r);
    const step = host.clientSecurity.saslStep(conn, token);
    if (!step.ok) {
      // Unlike other errors this one carries a body (a null token): the Java client reads it and
      // turns the failed evaluation into its AuthFailed event. Without it, it sees a broken stream.
      const fail = (out: Parameters<typeof writeReply>[0]): void => {
        out.beginFrame();
        writeReplyHeader(out, { xid, zxid: 0n, err: step.err });
        writeSetSASLResponse(out, { token: null });
        out.endFrame();
      };
      host.enqueue(conn, xid, OpCode.sasl, fail, { closeAfter: true });
      return;
    }
    for (const id of step.ids) if (!conn.authIds.some((have) => have.scheme === id.scheme && have.id === id.id)) conn.authIds.push(id);
    host.enqueue(conn, xid, OpCode.sasl, (out) => writeReply(out, xid, 0n, ErrorCode.ok, (w) => writeSetSASLResponse(w, { token: step.token })));
  },
};
