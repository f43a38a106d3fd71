import { ErrorCode, Perms } from '../../protocol/jute/constants';
import { checkAcl } from '../acl';
import type { ZNode, ZkDatabase } from '../tree';
import type { Caller, ReadOutcome, WriteReply } from './types';

/** Looks a node up for a read and checks `perm`: the node, or the outcome to answer with. */
export function readableNode(db: ZkDatabase, path: string, caller: Caller, perm: number = Perms.read): ZNode | ReadOutcome {
  const node = db.tree.get(path);
  if (!node) return { err: ErrorCode.noNode };
  if (!checkAcl(node.acl, perm, caller.authIds)) return { err: ErrorCode.noAuth };
  return node;
}

export function isOutcome(v: ZNode | ReadOutcome): v is ReadOutcome {
  return 'err' in v;
}

/** A write reply with a body only on success. */
export function okReply(err: number, body: WriteReply['body']): WriteReply {
  return err === ErrorCode.ok ? { err, body } : { err };
}
