import { EventType, ErrorCode } from '../../protocol/jute/constants';
import type { ACL, Stat } from '../../protocol/jute/data';
import type { ZkDatabase } from './database';
import type { WatchEvent } from './events';
import { parentOf } from './paths';
import type { CreateTxnBody, Txn, TxnBody } from './txn';
import { quotaAfterCreate, quotaAfterDelete, quotaAfterSetData } from './quota';

/** Per-op outcome inside a multi, in op order. */
export type SubResult =
  | { type: 'create'; opCode: number; path: string; stat: Stat }
  | { type: 'delete' }
  | { type: 'setData'; stat: Stat }
  | { type: 'check' }
  | { type: 'error'; err: number };

/** What the reply to a write needs. `err` is the reply header error (0 for any multi). */
export interface ApplyResult {
  err: number;
  /** create: the final path. */
  path?: string;
  /** create / setData / setACL: the Stat after the change, as clients see it. */
  stat?: Stat;
  /** multi: one result per op. */
  results?: SubResult[];
}

interface Ctx {
  db: ZkDatabase;
  txn: Txn;
  events: WatchEvent[];
}

function mustStat(db: ZkDatabase, path: string): Stat {
  const st = db.tree.statOf(path);
  // prep guarantees existence; a miss here means the log and the tree disagree.
  if (!st) throw new Error(`apply: ${path} does not exist`);
  return st;
}

function aclOf(db: ZkDatabase, path: string): ACL[] {
  const acl = db.tree.aclOf(path);
  if (!acl) throw new Error(`apply: ${path} does not exist`);
  return acl;
}

function event(ctx: Ctx, type: EventType, path: string, acl: readonly ACL[]): void {
  ctx.events.push({ type, path, zxid: ctx.txn.zxid, acl });
}

function applyCreate(ctx: Ctx, b: CreateTxnBody): SubResult {
  const parentPath = parentOf(b.path)!;
  const { tree } = ctx.db;
  tree.create(b.path, { data: b.data, acl: b.acl, zxid: ctx.txn.zxid, time: ctx.txn.time, ephemeralOwner: b.ephemeralOwner, kind: b.kind, ttl: b.ttl });
  quotaAfterCreate(tree, b.path, b.data);
  tree.childChanged(parentPath, b.parentCVersion, ctx.txn.zxid);
  event(ctx, EventType.nodeCreated, b.path, b.acl);
  event(ctx, EventType.nodeChildrenChanged, parentPath, aclOf(ctx.db, parentPath));
  return { type: 'create', opCode: b.opCode, path: b.path, stat: mustStat(ctx.db, b.path) };
}

function deleteNode(ctx: Ctx, path: string): void {
  const parentPath = parentOf(path)!;
  const { tree } = ctx.db;
  // The ACL the node had: its watchers are filtered by it even though the node is gone.
  const acl = aclOf(ctx.db, path);
  const data = tree.dataOf(path) ?? null;
  tree.remove(path);
  quotaAfterDelete(tree, path, data);
  // ZooKeeper leaves its stored create counter alone; the visible cversion counts the delete.
  tree.childChanged(parentPath, tree.cversionOf(parentPath)! + 1, ctx.txn.zxid);
  event(ctx, EventType.nodeDeleted, path, acl);
  event(ctx, EventType.nodeChildrenChanged, parentPath, aclOf(ctx.db, parentPath));
}

function applySetData(ctx: Ctx, path: string, data: Buffer | null, version: number): SubResult & { type: 'setData' } {
  const before = ctx.db.tree.dataOf(path) ?? null;
  ctx.db.tree.setData(path, data, version, ctx.txn.zxid, ctx.txn.time);
  quotaAfterSetData(ctx.db.tree, path, before, data);
  event(ctx, EventType.nodeDataChanged, path, aclOf(ctx.db, path));
  return { type: 'setData', stat: mustStat(ctx.db, path) };
}

/** Ephemerals of a session in creation order, so replay and events are deterministic. */
function sessionEphemerals(db: ZkDatabase, sessionId: bigint): string[] {
  const czxid = (p: string) => db.tree.get(p)!.stat.czxid;
  return db.tree.getEphemerals(sessionId).sort((a, b) => (czxid(a) < czxid(b) ? -1 : czxid(a) > czxid(b) ? 1 : a < b ? -1 : 1));
}

/** Applies one op; returns its sub-result (used directly for single ops and per op for multi). */
function applyOp(ctx: Ctx, body: TxnBody): SubResult {
  switch (body.type) {
    case 'create':
      return applyCreate(ctx, body);
    case 'delete':
      deleteNode(ctx, body.path);
      return { type: 'delete' };
    case 'setData':
      return applySetData(ctx, body.path, body.data, body.version);
    case 'check':
      return { type: 'check' };
    case 'error':
      return { type: 'error', err: body.err };
    default:
      throw new Error(`apply: ${body.type} cannot appear inside a multi`);
  }
}

type Handler = (ctx: Ctx, body: never) => ApplyResult;

/** One handler per txn type. */
const handlers: { [K in TxnBody['type']]: (ctx: Ctx, body: Extract<TxnBody, { type: K }>) => ApplyResult } = {
  createSession: (ctx, b) => {
    ctx.db.sessions.set(ctx.txn.sessionId, { timeoutMs: b.timeoutMs, passwd: b.passwd });
    return { err: ErrorCode.ok };
  },
  closeSession: (ctx) => {
    for (const path of sessionEphemerals(ctx.db, ctx.txn.sessionId)) deleteNode(ctx, path);
    ctx.db.sessions.delete(ctx.txn.sessionId);
    return { err: ErrorCode.ok };
  },
  create: (ctx, b) => {
    const r = applyCreate(ctx, b) as Extract<SubResult, { type: 'create' }>;
    return { err: ErrorCode.ok, path: r.path, stat: r.stat };
  },
  delete: (ctx, b) => {
    deleteNode(ctx, b.path);
    return { err: ErrorCode.ok };
  },
  setData: (ctx, b) => ({ err: ErrorCode.ok, stat: applySetData(ctx, b.path, b.data, b.version).stat }),
  setACL: (ctx, b) => {
    ctx.db.tree.setAcl(b.path, b.acl, b.aversion);
    return { err: ErrorCode.ok, stat: mustStat(ctx.db, b.path) };
  },
  check: () => ({ err: ErrorCode.ok }),
  multi: (ctx, b) => ({ err: ErrorCode.ok, results: b.ops.map((op) => applyOp(ctx, op)) }),
  error: (_ctx, b) => ({ err: b.err }),
  multiError: (_ctx, b) => ({ err: ErrorCode.ok, results: b.results.map((err) => ({ type: 'error', err })) }),
};

/**
 * Applies a committed txn to the database. Deterministic: uses only the txn's own fields (its
 * zxid and time), mutates `db` and returns the reply data plus the watch events to deliver. Never
 * fires anything itself.
 */
export function applyTxn(db: ZkDatabase, txn: Txn): { result: ApplyResult; events: WatchEvent[] } {
  const ctx: Ctx = { db, txn, events: [] };
  const handler = handlers[txn.body.type] as Handler;
  const result = handler(ctx, txn.body as never);
  db.lastProcessedZxid = txn.zxid;
  return { result, events: ctx.events };
}
