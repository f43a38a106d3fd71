import type { ACL, Stat } from '../../protocol/jute/data';
import { ErrorCode } from '../../protocol/jute/constants';
import { aclString, permString } from '../acl';
import { javaDate } from '../fourlw';
import { childPath, treeDigest, type Txn, type TxnBody, type ZkDatabase, type ZNode } from '../tree';

/**
 * What the data tools print, as pure functions of a loaded database or a txn: the text layouts of
 * ZooKeeper's zkSnapShotToolkit (SnapshotFormatter), zkTxnLogToolkit and zkSnapshotComparer, and
 * JSON for scripts. Nothing here reads files or clocks.
 */

/** Java's `%#016x`: 0x and at least 14 hex digits. */
export function javaHex016(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16).padStart(14, '0');
}

const hex = (v: bigint): string => '0x' + BigInt.asUintN(64, v).toString(16);

/** Depth-first, children sorted: the order SnapshotFormatter walks the tree. */
export function* walk(db: ZkDatabase, root = '/'): Generator<[string, ZNode]> {
  const stack = [root];
  while (stack.length > 0) {
    const path = stack.pop()!;
    const node = db.tree.get(path);
    if (!node) continue;
    yield [path, node];
    const kids = (db.tree.getChildren(path) ?? []).reverse();
    for (const k of kids) stack.push(childPath(path, k));
  }
}

/** SnapshotFormatter's plain-text dump (`-d` adds each node's data in base64). */
export function snapshotText(db: ZkDatabase, withData: boolean): string {
  const out: string[] = [`ZNode Details (count=${db.tree.nodeCount}):`];
  for (const [path, n] of walk(db)) {
    const s = n.stat;
    out.push(
      '----',
      path,
      `  cZxid = ${javaHex016(s.czxid)}`,
      `  ctime = ${javaDate(Number(s.ctime))}`,
      `  mZxid = ${javaHex016(s.mzxid)}`,
      `  mtime = ${javaDate(Number(s.mtime))}`,
      `  pZxid = ${javaHex016(s.pzxid)}`,
      `  cversion = ${s.cversion}`,
      `  dataVersion = ${s.version}`,
      `  aclVersion = ${s.aversion}`,
      `  ephemeralOwner = ${javaHex016(s.ephemeralOwner)}`,
      `  dataLength = ${n.data?.length ?? 0}`,
    );
    if (withData) out.push(`  data = ${n.data === null ? 'null' : n.data.toString('base64')}`);
  }
  out.push('----', 'Session Details (sid, timeout, ephemeralCount):');
  for (const [sid, s] of [...db.sessions].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.push(`${javaHex016(sid)}, ${s.timeoutMs}, ${db.tree.getEphemerals(sid).length}`);
  }
  out.push('----', `Last zxid: ${hex(db.lastProcessedZxid)}`);
  return out.join('\n') + '\n';
}

export interface NodeJson {
  path: string;
  /** base64, or null for a node created with null data. */
  data: string | null;
  acl: { perms: string; scheme: string; id: string }[];
  kind: ZNode['kind'];
  ttl?: string;
  stat: Record<keyof Stat, string | number>;
}

export function aclJson(acl: readonly ACL[]): NodeJson['acl'] {
  return acl.map((a) => ({ perms: permString(a.perms), scheme: a.id.scheme, id: a.id.id }));
}

export function statJson(s: Stat): NodeJson['stat'] {
  return {
    czxid: hex(s.czxid), mzxid: hex(s.mzxid), ctime: Number(s.ctime), mtime: Number(s.mtime), version: s.version, cversion: s.cversion,
    aversion: s.aversion, ephemeralOwner: hex(s.ephemeralOwner), dataLength: s.dataLength, numChildren: s.numChildren, pzxid: hex(s.pzxid),
  };
}

export function nodeJson(path: string, n: ZNode, withData = true): NodeJson {
  const out: NodeJson = { path, data: withData && n.data !== null ? n.data.toString('base64') : null, acl: aclJson(n.acl), kind: n.kind, stat: statJson(n.stat) };
  if (n.ttl !== undefined) out.ttl = n.ttl.toString();
  return out;
}

/** The whole snapshot as JSON: every node (depth-first), every session, the zxid it holds. */
export function snapshotJson(db: ZkDatabase, withData: boolean): { lastZxid: string; nodeCount: number; sessions: unknown[]; nodes: NodeJson[] } {
  return {
    lastZxid: hex(db.lastProcessedZxid),
    nodeCount: db.tree.nodeCount,
    sessions: [...db.sessions].map(([sid, s]) => ({ sessionId: hex(sid), timeoutMs: s.timeoutMs, ephemerals: db.tree.getEphemerals(sid).sort() })),
    nodes: [...walk(db)].map(([p, n]) => nodeJson(p, n, withData)),
  };
}

export interface SnapshotStats {
  lastZxid: string;
  nodeCount: number;
  /** Sum of data lengths. */
  dataBytes: number;
  /** ZooKeeper's approximate_data_size: path lengths plus data lengths. */
  approximateDataSize: number;
  maxDepth: number;
  /** nodesAtDepth[d]: znodes d components below "/" ("/" itself is depth 0). */
  nodesAtDepth: number[];
  ephemerals: number;
  containers: number;
  ttls: number;
  sessions: number;
  /** Per top-level name: znodes and data bytes of its subtree. */
  namespaces: Record<string, { nodes: number; dataBytes: number }>;
  largest: { path: string; dataLength: number }[];
  digest: string;
}

const depthOf = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);

/** zkSnapshotComparer's per-snapshot figures plus what an operator asks first (namespaces, big nodes). */
export function snapshotStats(db: ZkDatabase, top = 10): SnapshotStats {
  const nodesAtDepth: number[] = [];
  const namespaces: SnapshotStats['namespaces'] = {};
  const largest: { path: string; dataLength: number }[] = [];
  let dataBytes = 0;
  let ephemerals = 0;
  for (const [path, n] of db.tree.entries()) {
    const d = depthOf(path);
    nodesAtDepth[d] = (nodesAtDepth[d] ?? 0) + 1;
    const len = n.data?.length ?? 0;
    dataBytes += len;
    if (n.kind === 'ephemeral') ephemerals++;
    if (d > 0) {
      const ns = (namespaces[path.split('/')[1]!] ??= { nodes: 0, dataBytes: 0 });
      ns.nodes++;
      ns.dataBytes += len;
    }
    if (len > 0 && (largest.length < top || len > largest[largest.length - 1]!.dataLength)) {
      largest.push({ path, dataLength: len });
      largest.sort((a, b) => b.dataLength - a.dataLength || (a.path < b.path ? -1 : 1));
      if (largest.length > top) largest.pop();
    }
  }
  return {
    lastZxid: hex(db.lastProcessedZxid),
    nodeCount: db.tree.nodeCount,
    dataBytes,
    approximateDataSize: db.tree.approximateDataSize,
    maxDepth: nodesAtDepth.length - 1,
    nodesAtDepth: Array.from(nodesAtDepth, (x) => x ?? 0),
    ephemerals,
    containers: db.tree.containers.size,
    ttls: db.tree.ttls.size,
    sessions: db.sessions.size,
    namespaces,
    largest,
    digest: treeDigest(db),
  };
}

export function statsText(s: SnapshotStats): string {
  const lines = [
    `Last zxid: ${s.lastZxid}`,
    `Node count: ${s.nodeCount}`,
    `Total size: ${s.dataBytes}`,
    `Approximate data size: ${s.approximateDataSize}`,
    `Max depth: ${s.maxDepth}`,
    ...s.nodesAtDepth.map((n, d) => `Count of nodes at depth ${d}: ${n}`),
    `Ephemerals: ${s.ephemerals}, containers: ${s.containers}, TTL nodes: ${s.ttls}, sessions: ${s.sessions}`,
    'Namespaces (nodes, data bytes):',
    ...Object.entries(s.namespaces).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `  /${k}: ${v.nodes}, ${v.dataBytes}`),
    'Largest nodes (data bytes):',
    ...s.largest.map((l) => `  ${l.path}: ${l.dataLength}`),
    `Digest: ${s.digest}`,
  ];
  return lines.join('\n') + '\n';
}

export interface Comparison {
  identical: boolean;
  left: SnapshotStats;
  right: SnapshotStats;
  onlyLeft: { path: string; descendants: number; bytes: number }[];
  onlyRight: { path: string; descendants: number; bytes: number }[];
  /** Present in both, different data, ACL, kind or stat (ephemeral owners and times included). */
  changed: { path: string; fields: string[] }[];
}

function subtreeSize(db: ZkDatabase, root: string): { descendants: number; bytes: number } {
  let descendants = -1;
  let bytes = 0;
  for (const [, n] of walk(db, root)) {
    descendants++;
    bytes += n.data?.length ?? 0;
  }
  return { descendants, bytes };
}

/** The subtree roots present on one side only: a missing subtree is reported once, at its top. */
function onlyIn(a: ZkDatabase, b: ZkDatabase): Comparison['onlyLeft'] {
  const out: Comparison['onlyLeft'] = [];
  for (const [path] of walk(a)) {
    if (b.tree.has(path)) continue;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!b.tree.has(parent)) continue; // inside a subtree already reported
    out.push({ path, ...subtreeSize(a, path) });
  }
  return out;
}

const STAT_KEYS: readonly (keyof Stat)[] = ['czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'pzxid'];

function nodeDiff(x: ZNode, y: ZNode): string[] {
  const fields: string[] = [];
  const eqData = x.data === null || y.data === null ? x.data === y.data : x.data.equals(y.data);
  if (!eqData) fields.push('data');
  if (aclString(x.acl) !== aclString(y.acl)) fields.push('acl');
  if (x.kind !== y.kind || x.ttl !== y.ttl) fields.push('kind');
  for (const k of STAT_KEYS) if (x.stat[k] !== y.stat[k]) fields.push(k);
  return fields;
}

/** zkSnapshotComparer, plus a node-by-node diff of what both sides hold. */
export function compareSnapshots(a: ZkDatabase, b: ZkDatabase): Comparison {
  const changed: Comparison['changed'] = [];
  for (const [path, n] of a.tree.entries()) {
    const m = b.tree.get(path);
    if (!m) continue;
    const fields = nodeDiff(n, m);
    if (fields.length > 0) changed.push({ path, fields });
  }
  changed.sort((x, y) => (x.path < y.path ? -1 : 1));
  const left = snapshotStats(a);
  const right = snapshotStats(b);
  const onlyLeft = onlyIn(a, b);
  const onlyRight = onlyIn(b, a);
  return { identical: left.digest === right.digest && onlyLeft.length === 0 && onlyRight.length === 0 && changed.length === 0, left, right, onlyLeft, onlyRight, changed };
}

export function comparisonText(c: Comparison): string {
  const side = (name: string, s: SnapshotStats) => [
    `${name}: last zxid ${s.lastZxid}`,
    `Node count: ${s.nodeCount}`,
    `Total size: ${s.dataBytes}`,
    `Max depth: ${s.maxDepth}`,
    ...s.nodesAtDepth.map((n, d) => `Count of nodes at depth ${d}: ${n}`),
  ];
  const lines = [...side('Left', c.left), ...side('Right', c.right)];
  for (const o of c.onlyLeft) lines.push(`Node ${o.path} found only in left tree. Descendant size: ${o.bytes}. Descendant count: ${o.descendants}`);
  for (const o of c.onlyRight) lines.push(`Node ${o.path} found only in right tree. Descendant size: ${o.bytes}. Descendant count: ${o.descendants}`);
  for (const ch of c.changed) lines.push(`Node ${ch.path} found in both trees, differs in: ${ch.fields.join(', ')}`);
  lines.push(c.identical ? 'Snapshots are identical.' : 'Snapshots differ.', 'All layers compared.');
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------- txn log

const ERROR_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ErrorCode).map(([k, v]) => [v, k]));

function bodyJson(b: TxnBody): Record<string, unknown> {
  switch (b.type) {
    case 'create':
      return { type: b.type, path: b.path, data: b.data?.toString('base64') ?? null, acl: aclJson(b.acl), kind: b.kind, ephemeralOwner: hex(b.ephemeralOwner), parentCVersion: b.parentCVersion, ...(b.ttl !== undefined ? { ttl: b.ttl.toString() } : {}) };
    case 'setData':
      return { type: b.type, path: b.path, data: b.data?.toString('base64') ?? null, version: b.version };
    case 'setACL':
      return { type: b.type, path: b.path, acl: aclJson(b.acl), aversion: b.aversion };
    case 'createSession':
      return { type: b.type, timeoutMs: b.timeoutMs };
    case 'multi':
      return { type: b.type, ops: b.ops.map(bodyJson) };
    case 'error':
      return { type: b.type, err: b.err, name: ERROR_NAMES.get(b.err) ?? 'unknown' };
    default:
      return { ...b };
  }
}

/** One txn as JSON (data base64, 64-bit values hex). */
export function txnJson(t: Txn): Record<string, unknown> {
  return { zxid: hex(t.zxid), time: Number(t.time), sessionId: hex(t.sessionId), cxid: t.cxid, ...bodyJson(t.body) };
}

/** TxnLogToolkit's per-op details: create `path,data,acl,ephemeral,parentCVersion`, setData `path,data,version`, ... */
function details(b: TxnBody): string {
  const data = (d: Buffer | null) => (d === null ? 'null' : `#${d.toString('hex')}`);
  switch (b.type) {
    case 'create':
      return `${b.path},${data(b.data)},${aclString(b.acl)},${b.kind === 'ephemeral'},${b.parentCVersion}`;
    case 'setData':
      return `${b.path},${data(b.data)},${b.version}`;
    case 'delete':
      return b.path;
    case 'setACL':
      return `${b.path},${aclString(b.acl)},${b.aversion}`;
    case 'check':
      return `${b.path},${b.version}`;
    case 'createSession':
      return String(b.timeoutMs);
    case 'closeSession':
      return 'null';
    case 'error':
      return String(b.err);
    case 'multiError':
      return b.results.join(';');
    case 'multi':
      return b.ops.map((o) => `${o.type}:${details(o)}`).join(';');
  }
}

/** One TxnLogToolkit line: `<time> session 0x.. cxid 0x.. zxid 0x.. <op> <details>`. */
export function txnLine(t: Txn): string {
  return `${javaDate(Number(t.time))} session ${hex(t.sessionId)} cxid 0x${(t.cxid >>> 0).toString(16)} zxid ${hex(t.zxid)} ${t.body.type} ${details(t.body)}`;
}
