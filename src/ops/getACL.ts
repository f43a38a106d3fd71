import { ErrorCode, OpCode, Perms } from '../../protocol/jute/constants';
import { readGetACLRequest, writeGetACLResponse, type GetACLRequest } from '../../protocol/jute/records';
import { checkAcl, redactAcl } from '../acl';
import { copyStat } from '../tree';
import { isOutcome, readableNode } from './common';
import type { ReadOp } from './types';

/**
 * getACL (6): needs READ or ADMIN (3.9); without ADMIN the digest hashes are redacted to
 * `user:x`, as 3.9 does.
 */
export const getACLOp: ReadOp = {
  code: OpCode.getACL,
  name: 'getACL',
  kind: 'read',
  decode: readGetACLRequest,
  run: (db, req: GetACLRequest, caller) => {
    const node = readableNode(db, req.path, caller, Perms.read | Perms.admin);
    if (isOutcome(node)) return node;
    const acl = checkAcl(node.acl, Perms.admin, caller.authIds) ? node.acl : redactAcl(node.acl);
    const stat = copyStat(node);
    return { err: ErrorCode.ok, encode: (w) => writeGetACLResponse(w, { acl, stat }) };
  },
};
