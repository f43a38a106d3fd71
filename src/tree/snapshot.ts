import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { ACL, Stat } from '../../protocol/jute/data';
import { DataTree, type NodeKind, type ZNode } from './datatree';
import type { ZkDatabase } from './database';

const SNAPSHOT_FORMAT = 1;

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

/** One node as stored: children are implied by the paths. */
type NodeRow = [path: string, data: Buffer | null, acl: ACL[], stat: Stat, kind: NodeKind, ttl: bigint | null];
type SessionRow = [id: bigint, timeoutMs: number, passwd: Buffer];

interface SnapshotBody {
  format: number;
  lastProcessedZxid: bigint;
  sessions: SessionRow[];
  nodes: NodeRow[];
}

/** Paths sorted so that every parent precedes its children (a prefix sorts first). */
function sortedPaths(tree: DataTree): string[] {
  return [...tree.paths()].sort();
}

/** The whole database as bytes: tree, stats, ACLs, sessions and lastProcessedZxid. */
export function serializeSnapshot(db: ZkDatabase): Buffer {
  const nodes: NodeRow[] = sortedPaths(db.tree).map((p) => {
    const n = db.tree.get(p)!;
    return [p, n.data, n.acl, n.stat, n.kind, n.ttl ?? null];
  });
  const sessions: SessionRow[] = [...db.sessions].map(([id, s]) => [id, s.timeoutMs, s.passwd]);
  const body: SnapshotBody = { format: SNAPSHOT_FORMAT, lastProcessedZxid: db.lastProcessedZxid, sessions, nodes };
  return packr.pack(body);
}

/** Rebuilds a database from `serializeSnapshot` output; indexes are rebuilt by inserting. */
export function deserializeSnapshot(buf: Buffer): ZkDatabase {
  const body = packr.unpack(buf) as SnapshotBody;
  if (!body || body.format !== SNAPSHOT_FORMAT) throw new Error(`unsupported snapshot format ${body?.format}`);
  if (typeof body.lastProcessedZxid !== 'bigint') throw new Error('snapshot lastProcessedZxid is not a 64-bit int');
  const tree = new DataTree();
  for (const [path, data, acl, stat, kind, ttl] of body.nodes) {
    const node: ZNode = { data, acl, stat: { ...stat }, children: new Set(), kind };
    if (ttl !== null) node.ttl = ttl;
    tree.insert(path, node);
  }
  const sessions = new Map(body.sessions.map(([id, timeoutMs, passwd]) => [id, { timeoutMs, passwd }]));
  return { tree, sessions, lastProcessedZxid: body.lastProcessedZxid };
}

const STAT_FIELDS: readonly (keyof Stat)[] = [
  'czxid', 'mzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren', 'pzxid',
];

/**
 * A hash of every node's path, stat, kind, data and ACL, independent of insertion order: equal
 * digests at equal zxids is how replicas (and replay) are checked against each other.
 */
export function treeDigest(db: ZkDatabase): string {
  const h = createHash('sha256');
  for (const path of sortedPaths(db.tree)) {
    const n = db.tree.get(path)!;
    h.update(path).update('\0');
    h.update(STAT_FIELDS.map((f) => String(n.stat[f])).join(',')).update('\0');
    h.update(`${n.kind}:${n.ttl ?? ''}`).update('\0');
    h.update(n.data === null ? '-' : `${n.data.length}:`);
    if (n.data) h.update(n.data);
    h.update(n.acl.map((a) => `${a.perms}/${a.id.scheme}/${a.id.id}`).join(';')).update('\n');
  }
  return h.digest('hex');
}

/**
 * Nodes housekeeping should delete (ContainerManager's rules): containers that once had a child
 * and now have none, and childless TTL nodes not modified for longer than their TTL.
 */
export function findExpiredContainersAndTtls(db: ZkDatabase, now: bigint): string[] {
  const out: string[] = [];
  for (const path of db.tree.containers) {
    const n = db.tree.get(path)!;
    if (n.stat.cversion > 0 && n.children.size === 0) out.push(path);
  }
  for (const path of db.tree.ttls) {
    const n = db.tree.get(path)!;
    if (n.children.size === 0 && n.ttl !== undefined && now - n.stat.mtime > n.ttl) out.push(path);
  }
  return out.sort();
}
