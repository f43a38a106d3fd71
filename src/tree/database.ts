import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, type ACL } from '../../protocol/jute/data';
import { DataTree } from './datatree';

export interface SessionRecord {
  timeoutMs: number;
  passwd: Buffer;
}

/** Everything that is replicated: the tree, the live sessions and how far the log has been applied. */
export interface ZkDatabase {
  tree: DataTree;
  sessions: Map<bigint, SessionRecord>;
  lastProcessedZxid: bigint;
}

function systemNode(tree: DataTree, path: string, data: Buffer | null, acl: readonly ACL[]): void {
  tree.create(path, { data, acl: acl.map((a) => ({ perms: a.perms, id: { ...a.id } })), zxid: 0n, time: 0n, ephemeralOwner: 0n, kind: 'persistent' });
}

/**
 * ZooKeeper's initial tree (every node has empty, non-null data as DataTree's constructor makes them):
 * (empty, world:read). All stats zero; parents show cversion = -numChildren because ZooKeeper adds
 * these children without counting them as creates.
 */
export function createDatabase(): ZkDatabase {
  const tree = new DataTree();
  systemNode(tree, '/', Buffer.alloc(0), OPEN_ACL_UNSAFE);
  systemNode(tree, '/zookeeper', Buffer.alloc(0), OPEN_ACL_UNSAFE);
  systemNode(tree, '/zookeeper/quota', Buffer.alloc(0), OPEN_ACL_UNSAFE);
  systemNode(tree, '/zookeeper/config', Buffer.alloc(0), READ_ACL_UNSAFE);
  for (const path of ['/', '/zookeeper']) tree.childChanged(path, -tree.childCount(path)!, 0n);
  return { tree, sessions: new Map(), lastProcessedZxid: 0n };
}
