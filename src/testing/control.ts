/**
 * Out-of-band control of a running server for test harnesses: force a session's expiry (Curator's
 * InjectSessionExpiration, kazoo's expire_session) and report the server's role. In-process test
 * servers call these functions directly; cluster members run as child processes and answer the
 * same requests from their parent over Node's IPC channel (only a process's parent can send them).
 */
import type { ZkServer } from '../server/zkserver';

export type ControlRequest =
  | { zabkeeper: 'control'; id: number; op: 'expireSession'; sessionId: string }
  | { zabkeeper: 'control'; id: number; op: 'status' };

export interface ServerStatus {
  mode: ZkServer['mode'];
  /** Serving clients: standalone, or in an ensemble with a working quorum. */
  serving: boolean;
  /** Last applied zxid, hex. */
  zxid: string;
  clientPort: number;
}

export type ControlReply =
  | { zabkeeper: 'control-reply'; id: number; ok: true; result?: ServerStatus }
  | { zabkeeper: 'control-reply'; id: number; ok: false; error: string; code: 'notLeader' | 'noSession' | 'failed' };

/** The member is not the leader (only the leader decides expiries): ask the leader. */
export class NotLeaderError extends Error {
  readonly code = 'notLeader';
  constructor() {
    super('only the leader can expire sessions');
    this.name = 'NotLeaderError';
  }
}

export class NoSuchSessionError extends Error {
  readonly code = 'noSession';
  constructor(sessionId: bigint) {
    super(`no session 0x${sessionId.toString(16)}`);
    this.name = 'NoSuchSessionError';
  }
}

export function serverStatus(server: ZkServer): ServerStatus {
  return { mode: server.mode, serving: server.isServing, zxid: `0x${server.lastZxid().toString(16)}`, clientPort: server.port };
}

const EXPIRE_POLL_MS = 5;

/**
 * Expires a session now, exactly as a timeout would (a closeSession txn: its ephemerals go, its
 * connection is closed, the client then hears "expired" and reports `lost`). Resolves once the
 * expiry is committed and applied here.
 */
export async function expireSessionNow(server: ZkServer, sessionId: bigint, timeoutMs = 10_000): Promise<void> {
  if (!server.canPropose()) throw new NotLeaderError();
  if (!server.db.sessions.has(sessionId)) throw new NoSuchSessionError(sessionId);
  server.expireSession(sessionId);
  const deadline = Date.now() + timeoutMs;
  while (server.db.sessions.has(sessionId)) {
    if (Date.now() > deadline) throw new Error(`expiry of session 0x${sessionId.toString(16)} not committed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, EXPIRE_POLL_MS));
  }
}

const isRequest = (m: unknown): m is ControlRequest => typeof m === 'object' && m !== null && (m as { zabkeeper?: unknown }).zabkeeper === 'control';

async function answer(server: ZkServer, req: ControlRequest): Promise<ControlReply> {
  try {
    if (req.op === 'status') return { zabkeeper: 'control-reply', id: req.id, ok: true, result: serverStatus(server) };
    await expireSessionNow(server, BigInt(req.sessionId));
    return { zabkeeper: 'control-reply', id: req.id, ok: true };
  } catch (err) {
    const code = err instanceof NotLeaderError || err instanceof NoSuchSessionError ? err.code : 'failed';
    return { zabkeeper: 'control-reply', id: req.id, ok: false, error: (err as Error).message, code };
  }
}

/** In a child process started with an IPC channel: answer the parent's control requests. */
export function serveParentControl(server: ZkServer): void {
  if (!process.send) return;
  // A parent that went away must not crash the member: errors go to the callback, not 'error'.
  const send = (msg: unknown) => void (process.connected && process.send?.(msg, undefined, {}, () => undefined));
  process.on('message', (msg: unknown) => {
    if (isRequest(msg)) void answer(server, msg).then((reply) => send(reply));
  });
  send({ zabkeeper: 'ready', status: serverStatus(server) });
}
