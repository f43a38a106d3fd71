import type { EventType } from '../../protocol/jute/constants';
import type { ACL } from '../../protocol/jute/data';

/**
 * A watch event produced by applying a txn to the tree. `apply` returns these instead of firing
 * them; the watch manager decides who receives them. Only the four server-side event types occur.
 *
 * Which watch tables an event type touches (ZooKeeper's DataTree/WatchManager rules):
 *   nodeCreated         -> data watches on path (+ persistent-recursive watches on path and ancestors)
 *   nodeDataChanged     -> data watches on path (+ recursive on path and ancestors)
 *   nodeDeleted         -> data AND child watches on path (+ recursive on path and ancestors)
 *   nodeChildrenChanged -> child watches on path (never recursive watches)
 */
export interface WatchEvent {
  type: EventType;
  path: string;
  /** zxid of the txn that caused it (3.9 puts it in the notification header; 3.8 sends -1). */
  zxid: bigint;
  /**
   * The ACL a watcher needs READ on to be told (ZooKeeper >= 3.8.4, ZOOKEEPER-4799): the node's own
   * ACL for created/changed, the ACL it had just before it went for deleted, and the parent's ACL for
   * nodeChildrenChanged (the event is about the parent).
   */
  acl: readonly ACL[];
}
