import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { ACL, Stat } from '../../protocol/jute/data';
import { DataTree, NO_CHILDREN, type NodeKind, type ZNode } from './datatree';
import type { ZkDatabase } from './database';
import { recountAllQuotas } from './quota';

const SNAPSHOT_FORMAT = 2;

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

/**
 * One node as stored (format 2): a flat row, ACL lists shared through a table (nearly every node
 * has one of a handful), dataLength and numChildren implied by the data and the paths. Flat rows
 * keep msgpack from writing eleven map keys per node, which dominated load time of big trees.
 */
type NodeRow = [
  path: string, data: Buffer | null, aclIndex: number, kind: NodeKind, ttl: bigint | null,
  czxid: bigint, mzxid: bigint, ctime: bigint, mtime: bigint, version: number, cversion: number,
  aversion: number, ephemeralOwner: bigint, pzxid: bigint,
];
type SessionRow = [id: bigint, timeoutMs: number, passwd: Buffer];

interface SnapshotBody {
  format: number;
  lastProcessedZxid: bigint;
  sessions: SessionRow[];
  acls: ACL[][];
  nodes: NodeRow[];
}

/** Paths sorted so that every parent precedes its children (a prefix sorts first). */
function sortedPaths(tree: DataTree): string[] {
  return [...tree.paths()].sort();
}

function aclKey(acl: readonly ACL[]): string {
  return acl.map((a) => `${a.perms}/${a.id.scheme}/${a.id.id}`).join(';');
}

/** The whole database as bytes: tree, stats, ACLs, sessions and lastProcessedZxid. */
export function serializeSnapshot(db: ZkDatabase): Buffer {
  const acls: ACL[][] = [];
  const aclIndex = new Map<string, number>();
  const nodes: NodeRow[] = sortedPaths(db.tree).map((p) => {
    const n = db.tree.get(p)!;
    const key = aclKey(n.acl);
    let idx = aclIndex.get(key);
    if (idx === undefined) {
      idx = acls.length;
      acls.push(n.acl);
      aclIndex.set(key, idx);
    }
    const st = n.stat;
    return [p, n.data, idx, n.kind, n.ttl ?? null, st.czxid, st.mzxid, st.ctime, st.mtime, st.version, st.cversion, st.aversion, st.ephemeralOwner, st.pzxid];
  });
  const sessions: SessionRow[] = [...db.sessions].map(([id, s]) => [id, s.timeoutMs, s.passwd]);
  const body: SnapshotBody = { format: SNAPSHOT_FORMAT, lastProcessedZxid: db.lastProcessedZxid, sessions, acls, nodes };
  return packr.pack(body);
}

/** msgpack writes small 64-bit values as plain ints; the tree always holds bigints. */
const big = (v: bigint | number): bigint => (typeof v === 'bigint' ? v : BigInt(v));

/** Rebuilds a database from `serializeSnapshot` output; indexes are rebuilt by inserting. */
export function deserializeSnapshot(buf: Buffer): ZkDatabase {
  const body = packr.unpack(buf) as SnapshotBody;
  if (!body || body.format !== SNAPSHOT_FORMAT) throw new Error(`unsupported snapshot format ${body?.format}`);
  if (typeof body.lastProcessedZxid !== 'bigint') throw new Error('snapshot lastProcessedZxid is not a 64-bit int');
  const tree = new DataTree();
  for (const row of body.nodes) {
    const [path, data, aclIdx, kind, ttl, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, pzxid] = row;
    const acl = body.acls[aclIdx];
    if (!acl) throw new Error(`snapshot node ${path} refers to missing ACL ${aclIdx}`);
    const stat: Stat = {
      czxid: big(czxid), mzxid: big(mzxid), ctime: big(ctime), mtime: big(mtime), version, cversion, aversion,
      ephemeralOwner: big(ephemeralOwner), dataLength: data?.length ?? 0, numChildren: 0, pzxid: big(pzxid),
    };
    // Nodes with equal ACLs share one list: ACL lists are replaced on setACL, never mutated.
    const node: ZNode = { data, acl, stat, children: NO_CHILDREN, kind };
    if (ttl !== null) node.ttl = big(ttl);
    tree.insert(path, node);
  }
  const sessions = new Map(body.sessions.map(([id, timeoutMs, passwd]) => [big(id), { timeoutMs, passwd }]));
  // ZooKeeper's setupQuota: usage is recounted at every load, so stats nodes can never drift.
  recountAllQuotas(tree);
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
