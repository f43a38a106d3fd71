import { CONTAINER_EPHEMERAL_OWNER, CreateFlags, ErrorCode, OpCode, Perms, TTL_EPHEMERAL_OWNER_MASK, TTL_MAX_MS } from '../../protocol/jute/constants';
import { emptyStat, type ACL, type Id } from '../../protocol/jute/data';
import { JuteDecodeError } from '../../protocol/jute/errors';
import type { MultiOp } from '../../protocol/jute/multi';
import type { CreateRequest, CreateTTLRequest, DeleteRequest, SetACLRequest, SetDataRequest, CheckVersionRequest } from '../../protocol/jute/records';
import { checkAcl, fixupAcl } from '../acl';
import {
  childCreates, parentOf, sequenceSuffix, SPECIAL_PATHS, validatePath,
  type NodeKind, type Txn, type TxnBody, type ZkDatabase,
} from '../tree';
import { Batch, Overlay, type NodeState } from './overlay';
import { quotaRootOf, quotaState, quotaViolation } from '../tree/quota';

export interface PrepContext {
  zxid: bigint;
  /** Leader wall clock (ms) baked into the txn. */
  now: bigint;
  session: { id: bigint; authIds: readonly Id[] };
  ttlEnabled: boolean;
  superDigest?: string;
  /** Schemes an ACL may name (ip, digest, plus authProvider.N); default ip and digest. */
  aclSchemes?: ReadonlySet<string>;
  /** Largest data a create/setData may carry; larger gives BadArguments. */
  maxDataBytes?: number;
  /** Client xid, recorded in the txn for diagnostics. */
  cxid?: number;
  /** zoo.cfg enforceQuota: past a hard quota limit, create and setData fail with QuotaExceeded. */
  enforceQuota?: boolean;
}

/** A request as prep sees it: `body` is the decoded record or the JuteDecodeError it failed with. */
export interface PrepRequest {
  opCode: number;
  body: unknown;
}

/** A ZooKeeper error decided during prep (KeeperException in PrepRequestProcessor). */
class PrepFailure extends Error {
  constructor(readonly err: number) {
    super(`prep failed with ${err}`);
  }
}

function fail(err: number): never {
  throw new PrepFailure(err);
}

interface OpCtx {
  batch: Batch;
  ctx: PrepContext;
}

interface CreateMode {
  kind: NodeKind;
  sequential: boolean;
}

/** CreateMode.fromFlag. */
const createModes: ReadonlyMap<number, CreateMode> = new Map<number, CreateMode>([
  [CreateFlags.persistent, { kind: 'persistent', sequential: false }],
  [CreateFlags.ephemeral, { kind: 'ephemeral', sequential: false }],
  [CreateFlags.persistentSequential, { kind: 'persistent', sequential: true }],
  [CreateFlags.ephemeralSequential, { kind: 'ephemeral', sequential: true }],
  [CreateFlags.container, { kind: 'container', sequential: false }],
  [CreateFlags.persistentWithTTL, { kind: 'ttl', sequential: false }],
  [CreateFlags.persistentSequentialWithTTL, { kind: 'ttl', sequential: true }],
]);

/** getRecordForPath: the node or NoNode. */
function mustExist(o: OpCtx, path: string): NodeState {
  return o.batch.get(path) ?? fail(ErrorCode.noNode);
}

function requirePerm(o: OpCtx, node: NodeState, perm: number): void {
  if (!checkAcl(node.acl, perm, o.ctx.session.authIds)) fail(ErrorCode.noAuth);
}

/**
 * checkAndIncVersion: -1 matches anything; returns the next version with Java int32 wrap-around,
 * skipping -1 (ZOOKEEPER-4743: a stored -1 could never be matched, since -1 means "any").
 */
function checkVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) fail(ErrorCode.badVersion);
  const next = (current + 1) | 0;
  return next === -1 ? 0 : next;
}

/**
 * Records a write's effect on the quota covering `path` (so later writes in flight see it) and,
 * with enforceQuota, rejects it past a hard limit (ZooKeeperServer.checkQuota: only hard limits
 * reject, checked against applied usage plus what is still in flight).
 */
function quotaChange(o: OpCtx, path: string, countDiff: number, bytesDiff: number, check: boolean): void {
  const tree = o.batch.overlay.db.tree;
  const root = quotaRootOf(tree, path);
  if (root === undefined) return;
  if (check && o.ctx.enforceQuota) {
    const q = quotaState(tree, root);
    const pending = o.batch.quotaUsage(root);
    const usage = q && { count: q.usage.count + pending.count, bytes: q.usage.bytes + pending.bytes };
    if (q && usage && quotaViolation(q, usage, countDiff, bytesDiff)?.hard) fail(ErrorCode.quotaExceeded);
  }
  o.batch.addQuota(root, { count: countDiff, bytes: bytesDiff });
}

function checkDataSize(o: OpCtx, data: Buffer | null): void {
  const max = o.ctx.maxDataBytes;
  if (max !== undefined && data !== null && data.length > max) fail(ErrorCode.badArguments);
}

/** ZooKeeper's lastSlash / NUL pre-check, returning the parent path. */
function parentForWrite(path: string): string {
  if (path.lastIndexOf('/') < 0 || path.includes('\0')) fail(ErrorCode.badArguments);
  return parentOf(path) ?? '/';
}

function ownerFor(o: OpCtx, kind: NodeKind, ttl: bigint): bigint {
  switch (kind) {
    case 'ephemeral':
      return o.ctx.session.id;
    case 'container':
      return CONTAINER_EPHEMERAL_OWNER;
    case 'ttl':
      return TTL_EPHEMERAL_OWNER_MASK | ttl;
    default:
      return 0n;
  }
}

/** Flags, opcode and TTL must agree (validateCreateRequest); returns the mode. */
function createModeFor(o: OpCtx, opCode: number, flags: number, ttl: bigint): CreateMode {
  const mode = createModes.get(flags) ?? fail(ErrorCode.badArguments);
  if (mode.kind === 'ttl' && !o.ctx.ttlEnabled) fail(ErrorCode.unimplemented);
  if (mode.kind === 'ttl' ? ttl <= 0n || ttl > TTL_MAX_MS : ttl >= 0n) fail(ErrorCode.badArguments);
  // createContainer always makes a container; a container flag on another opcode is honoured too.
  if (opCode === OpCode.createContainer && mode.kind !== 'container') fail(ErrorCode.badArguments);
  if (mode.kind === 'ephemeral' && !o.batch.overlay.sessionLive(o.ctx.session.id)) fail(ErrorCode.sessionExpired);
  return mode;
}

/** pRequest2TxnCreate: the same checks in ZooKeeper's order (each failure decides the error code). */
function prepCreate(o: OpCtx, opCode: number, req: CreateRequest | CreateTTLRequest): TxnBody {
  const ttl = opCode === OpCode.createTTL ? (req as CreateTTLRequest).ttl : -1n;
  const mode = createModeFor(o, opCode, req.flags, ttl);
  const parentPath = parentForWrite(req.path);
  const acl = fixupAcl(req.acl, o.ctx.session.authIds, o.ctx.aclSchemes) ?? fail(ErrorCode.invalidACL);
  const parent = mustExist(o, parentPath);
  requirePerm(o, parent, Perms.create);
  const path = mode.sequential ? req.path + sequenceSuffix(childCreates(parent.stat)) : req.path;
  if (validatePath(path) !== undefined) fail(ErrorCode.badArguments);
  if (o.batch.get(path)) fail(ErrorCode.nodeExists);
  if (parent.kind === 'ephemeral') fail(ErrorCode.noChildrenForEphemerals);
  checkDataSize(o, req.data);
  quotaChange(o, path, 1, req.data?.length ?? 0, true);
  const ephemeralOwner = ownerFor(o, mode.kind, ttl);
  const zxid = o.ctx.zxid;
  parent.stat.cversion += 1;
  parent.stat.numChildren += 1;
  parent.stat.pzxid = zxid;
  o.batch.put(parentPath, parent);
  const stat = { ...emptyStat(), czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: o.ctx.now, mtime: o.ctx.now, ephemeralOwner, dataLength: req.data?.length ?? 0 };
  o.batch.put(path, { stat, acl, kind: mode.kind });
  const body: TxnBody = { type: 'create', path, data: req.data, acl, ephemeralOwner, parentCVersion: parent.stat.cversion, kind: mode.kind, opCode };
  if (mode.kind === 'ttl') body.ttl = ttl;
  return body;
}

/** Removes `path` from the batch view and updates its parent (shared by delete, deleteContainer, closeSession). */
function stageDelete(o: OpCtx, path: string, parentPath: string, parent: NodeState): void {
  quotaChange(o, path, -1, -(o.batch.get(path)?.stat.dataLength ?? 0), false);
  parent.stat.numChildren -= 1;
  parent.stat.cversion += 1;
  parent.stat.pzxid = o.ctx.zxid;
  o.batch.put(parentPath, parent);
  o.batch.put(path, null);
}

function prepDelete(o: OpCtx, req: DeleteRequest): TxnBody {
  const parentPath = parentForWrite(req.path);
  if (SPECIAL_PATHS.has(req.path)) fail(ErrorCode.badArguments);
  const parent = mustExist(o, parentPath);
  // ZooKeeper checks DELETE on the parent before looking at the node: NoAuth can precede NoNode.
  requirePerm(o, parent, Perms.delete);
  const node = mustExist(o, req.path);
  checkVersion(node.stat.version, req.version);
  if (node.stat.numChildren > 0) fail(ErrorCode.notEmpty);
  stageDelete(o, req.path, parentPath, parent);
  return { type: 'delete', path: req.path };
}

/** Internal delete of an empty container or expired TTL node (housekeeping). */
function prepDeleteContainer(o: OpCtx, req: { path: string }): TxnBody {
  const parentPath = parentForWrite(req.path);
  if (SPECIAL_PATHS.has(req.path)) fail(ErrorCode.badArguments);
  const node = mustExist(o, req.path);
  if (node.stat.numChildren > 0) fail(ErrorCode.notEmpty);
  if (node.kind !== 'container' && node.kind !== 'ttl') fail(ErrorCode.badVersion);
  stageDelete(o, req.path, parentPath, mustExist(o, parentPath));
  return { type: 'delete', path: req.path };
}

function prepSetData(o: OpCtx, req: SetDataRequest): TxnBody {
  if (validatePath(req.path) !== undefined) fail(ErrorCode.badArguments);
  const node = mustExist(o, req.path);
  requirePerm(o, node, Perms.write);
  checkDataSize(o, req.data);
  quotaChange(o, req.path, 0, (req.data?.length ?? 0) - node.stat.dataLength, true);
  const version = checkVersion(node.stat.version, req.version);
  node.stat.version = version;
  node.stat.mtime = o.ctx.now;
  node.stat.mzxid = o.ctx.zxid;
  node.stat.dataLength = req.data?.length ?? 0;
  o.batch.put(req.path, node);
  return { type: 'setData', path: req.path, data: req.data, version };
}

function prepSetACL(o: OpCtx, req: SetACLRequest): TxnBody {
  if (validatePath(req.path) !== undefined) fail(ErrorCode.badArguments);
  const acl: ACL[] = fixupAcl(req.acl, o.ctx.session.authIds, o.ctx.aclSchemes) ?? fail(ErrorCode.invalidACL);
  const node = mustExist(o, req.path);
  requirePerm(o, node, Perms.admin);
  const aversion = checkVersion(node.stat.aversion, req.version);
  node.stat.aversion = aversion;
  node.acl = acl;
  o.batch.put(req.path, node);
  return { type: 'setACL', path: req.path, acl, aversion };
}

function prepCheck(o: OpCtx, req: CheckVersionRequest): TxnBody {
  if (validatePath(req.path) !== undefined) fail(ErrorCode.badArguments);
  const node = mustExist(o, req.path);
  requirePerm(o, node, Perms.read);
  checkVersion(node.stat.version, req.version);
  return { type: 'check', path: req.path, version: req.version };
}

type SubPrep = (o: OpCtx, opCode: number, req: never) => TxnBody;

/** Write sub-ops allowed in a multi (and, except check, as requests of their own). */
const writeOps: ReadonlyMap<number, SubPrep> = new Map<number, SubPrep>([
  [OpCode.create, prepCreate],
  [OpCode.create2, prepCreate],
  [OpCode.createContainer, prepCreate],
  [OpCode.createTTL, prepCreate],
  [OpCode.delete, (o, _c, r: DeleteRequest) => prepDelete(o, r)],
  [OpCode.setData, (o, _c, r: SetDataRequest) => prepSetData(o, r)],
  [OpCode.check, (o, _c, r: CheckVersionRequest) => prepCheck(o, r)],
]);

/** Ops accepted as whole requests (multi handled separately). */
const requestOps: ReadonlyMap<number, SubPrep> = new Map<number, SubPrep>([
  ...[...writeOps].filter(([code]) => code !== OpCode.check),
  [OpCode.setACL, (o, _c, r: SetACLRequest) => prepSetACL(o, r)],
  [OpCode.deleteContainer, (o, _c, r: { path: string }) => prepDeleteContainer(o, r)],
]);

/**
 * PrepRequestProcessor: turns each write request into a txn, deciding every check against the
 * tree plus the changes still in flight. Always returns a txn: a failed write becomes an error txn
 * (it still consumes its zxid, as in ZooKeeper). Pure apart from its own overlay; time and zxid
 * come from the caller.
 */
export class Prep {
  private readonly overlay: Overlay;

  constructor(db: ZkDatabase) {
    this.overlay = new Overlay(db);
  }

  prep(req: PrepRequest, ctx: PrepContext): Txn {
    // ZooKeeper's checkSession: a request from a session that is unknown (expired, or never
    // created) or closing (its closeSession is already prepped) fails with SessionExpired, so
    // nothing a session sends after its close or expiry can commit a change. Session 0 is the
    // server's own (container and TTL reaping).
    if (ctx.session.id !== 0n && !this.overlay.sessionLive(ctx.session.id)) return this.txn(ctx, ctx.session.id, { type: 'error', err: ErrorCode.sessionExpired });
    return this.txn(ctx, ctx.session.id, this.body(req, ctx));
  }

  prepCreateSession(s: { sessionId: bigint; timeoutMs: number; passwd: Buffer }, at: { zxid: bigint; now: bigint }): Txn {
    this.overlay.pendingSessions.set(s.sessionId, at.zxid);
    return { zxid: at.zxid, sessionId: s.sessionId, cxid: 0, time: at.now, body: { type: 'createSession', timeoutMs: s.timeoutMs, passwd: s.passwd } };
  }

  /** closeSession: the session's ephemerals (applied or in flight) are gone for every later prep. */
  prepCloseSession(sessionId: bigint, at: { zxid: bigint; now: bigint }): Txn {
    const o: OpCtx = { batch: new Batch(this.overlay), ctx: { zxid: at.zxid, now: at.now, session: { id: sessionId, authIds: [] }, ttlEnabled: false } };
    for (const path of this.ephemeralsOf(sessionId)) {
      const parentPath = parentOf(path)!;
      stageDelete(o, path, parentPath, mustExist(o, parentPath));
    }
    o.batch.flush(at.zxid);
    this.overlay.closingSessions.set(sessionId, at.zxid);
    return { zxid: at.zxid, sessionId, cxid: 0, time: at.now, body: { type: 'closeSession' } };
  }

  /** The tree caught up to `zxid`: forget what was in flight up to there. */
  committed(zxid: bigint): void {
    this.overlay.committed(zxid);
  }

  /** Number of in-flight change records (for tests and stats). */
  get outstandingChanges(): number {
    return this.overlay.size;
  }

  private txn(ctx: PrepContext, sessionId: bigint, body: TxnBody): Txn {
    return { zxid: ctx.zxid, sessionId, cxid: ctx.cxid ?? 0, time: ctx.now, body };
  }

  private body(req: PrepRequest, ctx: PrepContext): TxnBody {
    if (req.body instanceof JuteDecodeError || req.body === null || typeof req.body !== 'object') {
      return { type: 'error', err: ErrorCode.marshallingError };
    }
    if (req.opCode === OpCode.multi) return this.multi(req.body as MultiOp[], ctx);
    const op = requestOps.get(req.opCode);
    if (!op) return { type: 'error', err: ErrorCode.unimplemented };
    const batch = new Batch(this.overlay);
    try {
      const body = op({ batch, ctx }, req.opCode, req.body as never);
      batch.flush(ctx.zxid);
      return body;
    } catch (e) {
      if (e instanceof PrepFailure) return { type: 'error', err: e.err };
      throw e;
    }
  }

  /** All-or-nothing: ops see earlier ops' staged effects; any failure discards the whole batch. */
  private multi(ops: MultiOp[], ctx: PrepContext): TxnBody {
    if (!Array.isArray(ops) || ops.some((op) => !writeOps.has(op.type))) return { type: 'error', err: ErrorCode.marshallingError };
    const batch = new Batch(this.overlay);
    const bodies: TxnBody[] = [];
    for (let i = 0; i < ops.length; i++) {
      try {
        bodies.push(writeOps.get(ops[i].type)!({ batch, ctx }, ops[i].type, ops[i].request as never));
      } catch (e) {
        if (!(e instanceof PrepFailure)) throw e;
        const results = ops.map((_, j) => (j < i ? ErrorCode.ok : j === i ? e.err : ErrorCode.runtimeInconsistency));
        return { type: 'multiError', results };
      }
    }
    batch.flush(ctx.zxid);
    return { type: 'multi', ops: bodies };
  }

  /** Ephemerals owned by a session: applied ones not deleted in flight, plus ones created in flight. */
  private ephemeralsOf(sessionId: bigint): string[] {
    const paths = new Set<string>(this.overlay.db.tree.getEphemerals(sessionId));
    for (const p of this.overlay.inFlightEphemerals(sessionId)) paths.add(p);
    return [...paths]
      .filter((p) => {
        const s = this.overlay.get(p);
        return s !== undefined && s.kind === 'ephemeral' && s.stat.ephemeralOwner === sessionId;
      })
      .sort();
  }
}
