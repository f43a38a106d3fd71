import { OpCode } from '../../protocol/jute/constants';
import { OPEN_ACL_UNSAFE, type ACL, type Stat } from '../../protocol/jute/data';
import {
  readCreate2Response,
  readCreateResponse,
  readGetACLResponse,
  readGetChildren2Response,
  readGetChildrenResponse,
  readGetDataResponse,
  readStat,
  writeCreateRequest,
  writeCreateTTLRequest,
  writeDeleteRequest,
  writeExistsRequest,
  writeGetACLRequest,
  writeGetChildrenRequest,
  writeGetDataRequest,
  writeSetACLRequest,
  writeSetDataRequest,
} from '../../protocol/jute/records';
import { readMultiResponse, writeMultiRequest, type MultiOp, type OpResult } from '../../protocol/jute/multi';
import type { WireConnection, WireReply } from './wire';

/**
 * Typed one-call-per-opcode wrappers over a WireConnection. They return the raw reply (err code,
 * zxid, decoded body) so callers decide what an error means; the high-level client turns codes into
 * typed errors on top of these.
 */
export const requests = {
  create(c: WireConnection, path: string, data: Buffer | null, flags = 0, acl: readonly ACL[] = OPEN_ACL_UNSAFE): Promise<WireReply<{ path: string }>> {
    return c.request(OpCode.create, (w) => writeCreateRequest(w, { path, data, acl, flags }), readCreateResponse);
  },
  create2(c: WireConnection, path: string, data: Buffer | null, flags = 0, acl: readonly ACL[] = OPEN_ACL_UNSAFE): Promise<WireReply<{ path: string; stat: Stat }>> {
    return c.request(OpCode.create2, (w) => writeCreateRequest(w, { path, data, acl, flags }), readCreate2Response);
  },
  createContainer(c: WireConnection, path: string, data: Buffer | null, acl: readonly ACL[] = OPEN_ACL_UNSAFE): Promise<WireReply<{ path: string; stat: Stat }>> {
    return c.request(OpCode.createContainer, (w) => writeCreateRequest(w, { path, data, acl, flags: 4 }), readCreate2Response);
  },
  createTTL(c: WireConnection, path: string, data: Buffer | null, ttl: bigint, flags = 5, acl: readonly ACL[] = OPEN_ACL_UNSAFE): Promise<WireReply<{ path: string; stat: Stat }>> {
    return c.request(OpCode.createTTL, (w) => writeCreateTTLRequest(w, { path, data, acl, flags, ttl }), readCreate2Response);
  },
  delete(c: WireConnection, path: string, version = -1): Promise<WireReply<void>> {
    return c.request<void>(OpCode.delete, (w) => writeDeleteRequest(w, { path, version }));
  },
  exists(c: WireConnection, path: string, watch = false): Promise<WireReply<Stat>> {
    return c.request(OpCode.exists, (w) => writeExistsRequest(w, { path, watch }), readStat);
  },
  getData(c: WireConnection, path: string, watch = false): Promise<WireReply<{ data: Buffer | null; stat: Stat }>> {
    return c.request(OpCode.getData, (w) => writeGetDataRequest(w, { path, watch }), readGetDataResponse);
  },
  setData(c: WireConnection, path: string, data: Buffer | null, version = -1): Promise<WireReply<Stat>> {
    return c.request(OpCode.setData, (w) => writeSetDataRequest(w, { path, data, version }), readStat);
  },
  getChildren(c: WireConnection, path: string, watch = false): Promise<WireReply<{ children: string[] }>> {
    return c.request(OpCode.getChildren, (w) => writeGetChildrenRequest(w, { path, watch }), readGetChildrenResponse);
  },
  getChildren2(c: WireConnection, path: string, watch = false): Promise<WireReply<{ children: string[]; stat: Stat }>> {
    return c.request(OpCode.getChildren2, (w) => writeGetChildrenRequest(w, { path, watch }), readGetChildren2Response);
  },
  getACL(c: WireConnection, path: string): Promise<WireReply<{ acl: ACL[]; stat: Stat }>> {
    return c.request(OpCode.getACL, (w) => writeGetACLRequest(w, { path }), readGetACLResponse);
  },
  setACL(c: WireConnection, path: string, acl: readonly ACL[], version = -1): Promise<WireReply<Stat>> {
    return c.request(OpCode.setACL, (w) => writeSetACLRequest(w, { path, acl, version }), readStat);
  },
  multi(c: WireConnection, ops: MultiOp[]): Promise<WireReply<OpResult[]>> {
    return c.request(OpCode.multi, (w) => writeMultiRequest(w, ops), readMultiResponse);
  },
};
