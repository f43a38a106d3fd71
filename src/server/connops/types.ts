import type { JuteReader } from '../../../protocol/jute/reader';
import type { JuteWriter } from '../../../protocol/jute/writer';
import type { ACL, Id } from '../../../protocol/jute/data';
import type { MayRead, WatchManager } from '../../watch';
import type { WatchHistory } from '../../watch/history';
import type { ClientConnection } from '../connection';
import type { ClientSecurity } from '../security';

/**
 * What a connection-level op may use. These ops act on the connection or the server (watches,
 * auth ids, pings, sync) rather than on the data tree, so they are not txns and are not in the
 * tree's op table.
 */
export interface ConnOpHost {
  readonly watches: WatchManager;
  /** Applied events, for resumeWatch. */
  readonly history: WatchHistory;
  lastZxid(): bigint;
  /** Puts a request into the connection's reply FIFO and sends whatever is ready. */
  enqueue(conn: ClientConnection, xid: number, opCode: number, exec: (out: JuteWriter) => void, opts?: { barrierZxid?: bigint; closeAfter?: boolean }): void;
  /** Node facts for SetWatches: undefined when the node does not exist. */
  nodeVersionInfo(path: string): { mzxid: bigint; pzxid: bigint; acl: readonly ACL[] } | undefined;
  /** Whether a connection's auth ids give READ on a node with this ACL (watch delivery filter). */
  readonly mayRead: MayRead;
  /** Sends watch notifications for the deliveries that target `conn` and other connections. */
  deliver(deliveries: readonly { conn: number; type: number; path: string; zxid: bigint }[]): void;
  authenticate(scheme: string, auth: Buffer | null): Id[] | undefined;
  closeSession(conn: ClientConnection, xid: number): void;
  /** Queues a sync: `exec` runs once everything proposed before it (quorum-wide) has been applied here. */
  sync(conn: ClientConnection, xid: number, exec: (out: JuteWriter) => void): void;
  readonly reconfigEnabled: boolean;
  /** SASL exchanges, x509 and enforce.auth (src/server/security.ts). */
  readonly clientSecurity: ClientSecurity;
}

export interface ConnOp {
  readonly code: number;
  readonly name: string;
  handle(host: ConnOpHost, conn: ClientConnection, xid: number, r: JuteReader): void;
}
