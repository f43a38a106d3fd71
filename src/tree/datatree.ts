import type { ACL, Stat } from '../../protocol/jute/data';
import { emptyStat } from '../../protocol/jute/data';
import { basename, childPath, parentOf } from './paths';

/** How a node lives and dies: ZooKeeper's CreateMode collapsed to what the tree needs. */
export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

/**
 * One znode. `stat` is kept exactly as clients see it except `ephemeralOwner`, which holds the raw
 * owner (session id, or the container/TTL marker); use `copyStat` for the wire form.
 *
 * `stat.cversion` is the client-visible value (child creates + child deletes). ZooKeeper stores only
 * the create counter and shows `2 * stored - numChildren`; both views are kept consistent because
 * the stored counter is always `(cversion + numChildren) / 2` (see `childCreates`).
 */
/**
 * Leaves (most nodes) share this empty set instead of owning one: 300k idle Sets are most of the
 * garbage a snapshot load makes. insert() gives a node its own set with its first child; nothing
 * else adds children, and deleting from it is a no-op.
 */
export const NO_CHILDREN: Set<string> = new Set<string>();

export interface ZNode {
  data: Buffer | null;
  acl: ACL[];
  stat: Stat;
  children: Set<string>;
  kind: NodeKind;
  /** TTL in ms for kind 'ttl'. */
  ttl?: bigint;
}

/** ZooKeeper's stored child counter: how many children were ever created (the sequential suffix). */
export function childCreates(stat: Stat): number {
  return (stat.cversion + stat.numChildren) / 2;
}

/** The Stat a client sees: container and TTL markers are reported as owner 0 (DataNode.copyStat). */
export function copyStat(node: ZNode): Stat {
  const s = { ...node.stat };
  if (node.kind === 'container' || node.kind === 'ttl') s.ephemeralOwner = 0n;
  return s;
}

/**
 * The in-memory tree plus the secondary indexes ZooKeeper keeps beside it (ephemerals by session,
 * container and TTL sets). Mutated only by `applyTxn`; everything else reads.
 */
export class DataTree {
  private readonly nodes = new Map<string, ZNode>();
  private readonly ephemeralsBySession = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  /** Sum of path lengths and data lengths, as ZooKeeper's approximateDataSize. */
  private dataSize = 0;

  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  /** Number of znodes including the root. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  get approximateDataSize(): number {
    return this.dataSize;
  }

  paths(): IterableIterator<string> {
    return this.nodes.keys();
  }

  entries(): IterableIterator<[string, ZNode]> {
    return this.nodes.entries();
  }

  /** Children names sorted (ZooKeeper returns HashSet order; sorted is a valid "no particular order"). */
  getChildren(path: string): string[] | undefined {
    const n = this.nodes.get(path);
    return n ? [...n.children].sort() : undefined;
  }

  /** Ephemeral paths owned by a session (a copy). */
  getEphemerals(sessionId: bigint): string[] {
    return [...(this.ephemeralsBySession.get(sessionId) ?? [])];
  }

  sessionsWithEphemerals(): bigint[] {
    return [...this.ephemeralsBySession.keys()];
  }

  /** Count of every descendant of `path` (not the node itself). */
  countDescendants(path: string): number {
    // Iterative: a client can build a tree deep enough to overflow the JS stack.
    let count = 0;
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const n = this.nodes.get(p);
      if (!n) continue;
      for (const name of n.children) {
        count++;
        stack.push(childPath(p, name));
      }
    }
    return count;
  }

  /** Inserts a node (its parent must exist, except for the root) and updates the indexes. */
  insert(path: string, node: ZNode): void {
    if (this.nodes.has(path)) throw new Error(`insert: ${path} already exists`);
    const parent = parentOf(path);
    if (parent !== undefined) {
      const p = this.nodes.get(parent);
      if (!p) throw new Error(`insert: parent of ${path} missing`);
      if (p.children === NO_CHILDREN) p.children = new Set();
      p.children.add(basename(path));
      p.stat.numChildren = p.children.size;
    }
    this.nodes.set(path, node);
    this.index(path, node);
    this.dataSize += path.length + (node.data?.length ?? 0);
  }

  /** Removes a leaf node and its index entries; the caller updates the parent's stat. */
  remove(path: string): ZNode {
    const node = this.nodes.get(path);
    if (!node) throw new Error(`remove: ${path} missing`);
    if (node.children.size > 0) throw new Error(`remove: ${path} has children`);
    const parent = parentOf(path);
    if (parent !== undefined) {
      const p = this.nodes.get(parent)!;
      p.children.delete(basename(path));
      p.stat.numChildren = p.children.size;
    }
    this.nodes.delete(path);
    this.unindex(path, node);
    this.dataSize -= path.length + (node.data?.length ?? 0);
    return node;
  }

  /** Replaces a node's data keeping the size accounting right. */
  setData(node: ZNode, data: Buffer | null): void {
    this.dataSize += (data?.length ?? 0) - (node.data?.length ?? 0);
    node.data = data;
    node.stat.dataLength = data?.length ?? 0;
  }

  private index(path: string, node: ZNode): void {
    if (node.kind === 'ephemeral') {
      const owner = node.stat.ephemeralOwner;
      let set = this.ephemeralsBySession.get(owner);
      if (!set) this.ephemeralsBySession.set(owner, (set = new Set()));
      set.add(path);
    } else if (node.kind === 'container') this.containers.add(path);
    else if (node.kind === 'ttl') this.ttls.add(path);
  }

  private unindex(path: string, node: ZNode): void {
    if (node.kind === 'ephemeral') {
      const owner = node.stat.ephemeralOwner;
      const set = this.ephemeralsBySession.get(owner);
      set?.delete(path);
      if (set && set.size === 0) this.ephemeralsBySession.delete(owner);
    } else if (node.kind === 'container') this.containers.delete(path);
    else if (node.kind === 'ttl') this.ttls.delete(path);
  }
}

/** A fresh node with ZooKeeper's createStat values. */
export function newNode(args: {
  data: Buffer | null; acl: ACL[]; zxid: bigint; time: bigint; ephemeralOwner: bigint; kind: NodeKind; ttl?: bigint;
}): ZNode {
  const stat = emptyStat();
  stat.czxid = args.zxid;
  stat.mzxid = args.zxid;
  stat.pzxid = args.zxid;
  stat.ctime = args.time;
  stat.mtime = args.time;
  stat.ephemeralOwner = args.ephemeralOwner;
  stat.dataLength = args.data?.length ?? 0;
  const node: ZNode = { data: args.data, acl: args.acl, stat, children: NO_CHILDREN, kind: args.kind };
  if (args.ttl !== undefined) node.ttl = args.ttl;
  return node;
}
