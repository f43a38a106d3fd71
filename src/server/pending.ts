import type { JuteWriter } from '../../protocol/jute/writer';
import type { AuditRequest } from './audit';

/**
 * One request waiting in a connection's FIFO. ZooKeeper answers every connection's requests in
 * request order, and a read must observe the session's earlier writes, so each request takes a
 * slot here on arrival and replies leave strictly from the head.
 *
 *  - `exec`    : runs when it reaches the head (reads, pings, watch ops, auth). It writes its reply.
 *  - `waiting` : a write (or a handshake that creates a session) waiting for commit; the commit
 *                path calls `resolve` with the reply encoder.
 *  - `barrier` : sync; ready once every txn proposed before it has committed.
 */
export type ReplyEncoder = (out: JuteWriter) => void;

export interface PendingRequest {
  readonly xid: number;
  readonly opCode: number;
  readonly receivedAt: number;
  /** Read-like: executed at the head, writes its own reply. */
  exec?: (out: JuteWriter) => void;
  /** Write-like: set when the txn has been applied. */
  reply?: ReplyEncoder;
  /** Sync: `exec` runs only once lastCommittedZxid >= barrierZxid. */
  barrierZxid?: bigint;
  /** Close the connection once this reply is out (unknown opcode, closeSession, auth failure). */
  closeAfter?: boolean;
  /** audit.enable: what the request asked for, logged when its txn is applied. */
  audit?: AuditRequest;
}
