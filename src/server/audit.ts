import os from 'node:os';
import type { Logger } from 'pino';
import { CreateFlags, EventType, OpCode } from '../../protocol/jute/constants';
import type { ACL, Id } from '../../protocol/jute/data';
import type { MultiOp } from '../../protocol/jute/multi';
import { aclString } from '../acl';
import type { ApplyResult, Txn, TxnBody, WatchEvent } from '../tree';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteDecodeError } from '../../protocol/jute/errors';

/**
 * ZooKeeper's audit log (audit.enable=true; AuditHelper and Slf4jAuditLogger): one line per client
 * write, written by the server holding the client's connection, with ZooKeeper's fields in
 * ZooKeeper's order: session, user, ip, operation, znode, znode_type, acl, result. Successful
 * writes and server events are logged at info, failures at error (as ZooKeeper does). Every member
 * logs the deletion of a closed session's ephemerals.
 */

export type AuditOperation =
  | 'create' | 'delete' | 'setData' | 'setAcl' | 'multiOperation' | 'reconfig'
  | 'ephemeralZNodeDeletionOnSessionCloseOrExpire' | 'serverStart' | 'serverStop';

export interface AuditEntry {
  session?: string;
  user?: string;
  ip?: string;
  operation: AuditOperation;
  znode?: string;
  znode_type?: string;
  acl?: string;
  result: 'success' | 'failure' | 'invoked';
}

/** What the request said, kept until its txn is applied (a failed txn carries no path). */
export interface AuditRequest {
  opCode: number;
  path?: string;
  flags?: number;
  acl?: readonly ACL[];
  /** multi: each op's path and create flags, in order. */
  ops?: { opCode: number; path: string; flags?: number }[];
}

/** CreateMode names as the audit log writes them (CreateMode.toString().toLowerCase()). */
const CREATE_MODES: ReadonlyMap<number, string> = new Map([
  [CreateFlags.persistent, 'persistent'],
  [CreateFlags.ephemeral, 'ephemeral'],
  [CreateFlags.persistentSequential, 'persistent_sequential'],
  [CreateFlags.ephemeralSequential, 'ephemeral_sequential'],
  [CreateFlags.container, 'container'],
  [CreateFlags.persistentWithTTL, 'persistent_with_ttl'],
  [CreateFlags.persistentSequentialWithTTL, 'persistent_sequential_with_ttl'],
]);

const CREATES = new Set<number>([OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL]);

/** Operation names per opcode (AuditConstants); unlisted opcodes are not audited. */
function operationOf(opCode: number): AuditOperation | undefined {
  if (CREATES.has(opCode)) return 'create';
  if (opCode === OpCode.delete || opCode === OpCode.deleteContainer) return 'delete';
  if (opCode === OpCode.setData) return 'setData';
  if (opCode === OpCode.setACL) return 'setAcl';
  if (opCode === OpCode.multi) return 'multiOperation';
  if (opCode === OpCode.reconfig) return 'reconfig';
  return undefined;
}

type Body = { path?: string; flags?: number; acl?: readonly ACL[] } | undefined;

/** The audit view of a decoded request body (undefined when the opcode is not audited). */
export function describeRequest(opCode: number, body: unknown): AuditRequest | undefined {
  if (operationOf(opCode) === undefined) return undefined;
  if (opCode === OpCode.multi) {
    const ops = Array.isArray(body) ? (body as MultiOp[]) : [];
    return { opCode, ops: ops.map((op) => ({ opCode: op.type, path: op.request.path, flags: (op.request as { flags?: number }).flags })) };
  }
  const b = body !== null && typeof body === 'object' ? (body as Body) : undefined;
  return { opCode, path: b?.path, flags: b?.flags, acl: opCode === OpCode.setACL ? b?.acl : undefined };
}

/**
 * The audit view of a request still in its wire form (a learner forwards the raw body; it decodes
 * a copy only for the audit log).
 */
export function describeRequestBytes(op: { decode(r: JuteReader): unknown } | undefined, payload: Buffer, offset: number, maxBufferBytes: number): AuditRequest | undefined {
  if (!op) return undefined;
  try {
    return describeRequest(opCodeOf(payload), op.decode(new JuteReader(payload, offset, payload.length, { maxBufferBytes })));
  } catch (err) {
    if (err instanceof JuteDecodeError) return undefined;
    throw err;
  }
}

/** The opcode field of a RequestHeader (xid, then type). */
const opCodeOf = (payload: Buffer): number => payload.readInt32BE(4);

/** AuditHelper's user string: the session's ids, the digest user name without its hash. */
export function auditUser(ids: readonly Id[]): string {
  return ids.map((id) => (id.scheme === 'digest' ? id.id.split(':')[0] : id.id)).join(',');
}

const sessionHex = (id: bigint): string => `0x${id.toString(16)}`;

function failed(body: TxnBody): boolean {
  return body.type === 'error' || body.type === 'multiError';
}

/**
 * The audit lines for one applied client write: one line, or one per op of a successful multi
 * (ZooKeeper logs a failed multi as one multiOperation failure).
 */
export function auditEntries(
  who: { sessionId: bigint; authIds: readonly Id[]; ip: string },
  req: AuditRequest,
  txn: Txn,
  result: ApplyResult,
): AuditEntry[] {
  const base = { session: sessionHex(who.sessionId), user: auditUser(who.authIds), ip: who.ip };
  const outcome = failed(txn.body) ? 'failure' : 'success';
  if (req.opCode === OpCode.multi && txn.body.type === 'multi') {
    return txn.body.ops.flatMap((op, i) => {
      const r = req.ops?.[i];
      if (!r || op.type === 'check') return [];
      return [{ ...base, ...opFields(r.opCode, 'path' in op ? op.path : r.path, r.flags), result: 'success' as const }];
    });
  }
  const path = req.opCode !== OpCode.multi && CREATES.has(req.opCode) && result.path !== undefined ? result.path : req.path;
  const fields = opFields(req.opCode, path, req.flags);
  if (req.opCode === OpCode.setACL && req.acl) fields.acl = aclString(req.acl);
  return [{ ...base, ...fields, result: outcome }];
}

function opFields(opCode: number, path: string | undefined, flags: number | undefined): Omit<AuditEntry, 'result'> {
  const operation = operationOf(opCode)!;
  const out: Omit<AuditEntry, 'result'> = { operation };
  if (operation !== 'multiOperation' && path !== undefined) out.znode = path;
  if (operation === 'create' && flags !== undefined) out.znode_type = CREATE_MODES.get(opCode === OpCode.createContainer ? CreateFlags.container : flags);
  return out;
}

/** Writes audit lines through pino (a child logger with component "audit"). */
export class AuditLog {
  private readonly serverUser: string;

  constructor(private readonly logger: Logger) {
    this.serverUser = safeUser();
  }

  write(entry: AuditEntry): void {
    // Only the fields that are set, in ZooKeeper's order.
    if (entry.result === 'failure') this.logger.error(entry, 'audit');
    else this.logger.info(entry, 'audit');
  }

  /**
   * A txn was applied on this server: its client write is logged here when this server holds the
   * client's connection (`conn` and the request's `audit` description), and a closeSession's
   * ephemeral deletions on every member.
   */
  applied(
    txn: Txn,
    result: ApplyResult,
    events: readonly WatchEvent[],
    conn?: { sessionId: bigint; authIds: readonly Id[]; remoteAddress: string },
    pending?: { audit?: AuditRequest },
  ): void {
    if (conn && pending?.audit) {
      for (const e of auditEntries({ sessionId: conn.sessionId, authIds: conn.authIds, ip: conn.remoteAddress }, pending.audit, txn, result)) this.write(e);
    }
    if (txn.body.type === 'closeSession') {
      this.ephemeralsDeleted(txn.sessionId, events.filter((e) => e.type === EventType.nodeDeleted).map((e) => e.path));
    }
  }

  /** A closed or expired session's ephemerals went with it (logged by every member applying it). */
  ephemeralsDeleted(sessionId: bigint, paths: readonly string[]): void {
    for (const znode of paths) {
      this.write({ session: sessionHex(sessionId), user: this.serverUser, operation: 'ephemeralZNodeDeletionOnSessionCloseOrExpire', znode, result: 'success' });
    }
  }

  server(operation: 'serverStart' | 'serverStop'): void {
    this.write({ user: this.serverUser, operation, result: 'invoked' });
  }
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
