/** Shared test helpers: hex parsing, fixture loading, the record-name -> codec table, fast-check arbitraries. */
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import type { ACL, ClientInfo, Id, Stat } from '../../protocol/jute/data';
import { JuteReader } from '../../protocol/jute/reader';
import { JuteWriter } from '../../protocol/jute/writer';
import * as rec from '../../protocol/jute/records';
import * as multi from '../../protocol/jute/multi';

/** Hex with any whitespace or '|' separators (fixtures group bytes by field). */
export function hex(h: string): Buffer {
  const clean = h.replace(/[\s|]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex: ${h}`);
  return Buffer.from(clean, 'hex');
}

export interface Codec {
  read(r: JuteReader): unknown;
  write(w: JuteWriter, v: never): void;
}

const c = <T>(read: (r: JuteReader) => T, write: (w: JuteWriter, v: T) => void): Codec => ({
  read,
  write: write as (w: JuteWriter, v: never) => void,
});

/** Every record by its zookeeper.jute name (plus the two multi bodies). */
export const codecs: Record<string, Codec> = {
  Id: c(rec.readId, rec.writeId),
  ACL: c(rec.readACL, rec.writeACL),
  Stat: c(rec.readStat, rec.writeStat),
  ClientInfo: c(rec.readClientInfo, rec.writeClientInfo),
  RequestHeader: c(rec.readRequestHeader, rec.writeRequestHeader),
  ReplyHeader: c(rec.readReplyHeader, rec.writeReplyHeader),
  ConnectRequest: c(rec.readConnectRequest, rec.writeConnectRequest),
  ConnectResponse: c(rec.readConnectResponse, rec.writeConnectResponse),
  CreateRequest: c(rec.readCreateRequest, rec.writeCreateRequest),
  CreateTTLRequest: c(rec.readCreateTTLRequest, rec.writeCreateTTLRequest),
  CreateResponse: c(rec.readCreateResponse, rec.writeCreateResponse),
  Create2Response: c(rec.readCreate2Response, rec.writeCreate2Response),
  DeleteRequest: c(rec.readDeleteRequest, rec.writeDeleteRequest),
  CheckVersionRequest: c(rec.readCheckVersionRequest, rec.writeCheckVersionRequest),
  ExistsRequest: c(rec.readExistsRequest, rec.writeExistsRequest),
  ExistsResponse: c(rec.readExistsResponse, rec.writeExistsResponse),
  GetDataRequest: c(rec.readGetDataRequest, rec.writeGetDataRequest),
  GetDataResponse: c(rec.readGetDataResponse, rec.writeGetDataResponse),
  SetDataRequest: c(rec.readSetDataRequest, rec.writeSetDataRequest),
  SetDataResponse: c(rec.readSetDataResponse, rec.writeSetDataResponse),
  GetACLRequest: c(rec.readGetACLRequest, rec.writeGetACLRequest),
  GetACLResponse: c(rec.readGetACLResponse, rec.writeGetACLResponse),
  SetACLRequest: c(rec.readSetACLRequest, rec.writeSetACLRequest),
  SetACLResponse: c(rec.readSetACLResponse, rec.writeSetACLResponse),
  GetChildrenRequest: c(rec.readGetChildrenRequest, rec.writeGetChildrenRequest),
  GetChildrenResponse: c(rec.readGetChildrenResponse, rec.writeGetChildrenResponse),
  GetChildren2Request: c(rec.readGetChildren2Request, rec.writeGetChildren2Request),
  GetChildren2Response: c(rec.readGetChildren2Response, rec.writeGetChildren2Response),
  GetAllChildrenNumberRequest: c(rec.readGetAllChildrenNumberRequest, rec.writeGetAllChildrenNumberRequest),
  GetAllChildrenNumberResponse: c(rec.readGetAllChildrenNumberResponse, rec.writeGetAllChildrenNumberResponse),
  SyncRequest: c(rec.readSyncRequest, rec.writeSyncRequest),
  SyncResponse: c(rec.readSyncResponse, rec.writeSyncResponse),
  GetEphemeralsRequest: c(rec.readGetEphemeralsRequest, rec.writeGetEphemeralsRequest),
  GetEphemeralsResponse: c(rec.readGetEphemeralsResponse, rec.writeGetEphemeralsResponse),
  WhoAmIResponse: c(rec.readWhoAmIResponse, rec.writeWhoAmIResponse),
  CheckWatchesRequest: c(rec.readCheckWatchesRequest, rec.writeCheckWatchesRequest),
  RemoveWatchesRequest: c(rec.readRemoveWatchesRequest, rec.writeRemoveWatchesRequest),
  AddWatchRequest: c(rec.readAddWatchRequest, rec.writeAddWatchRequest),
  SetWatches: c(rec.readSetWatches, rec.writeSetWatches),
  SetWatches2: c(rec.readSetWatches2, rec.writeSetWatches2),
  WatcherEvent: c(rec.readWatcherEvent, rec.writeWatcherEvent),
  AuthPacket: c(rec.readAuthPacket, rec.writeAuthPacket),
  GetSASLRequest: c(rec.readGetSASLRequest, rec.writeGetSASLRequest),
  SetSASLRequest: c(rec.readSetSASLRequest, rec.writeSetSASLRequest),
  SetSASLResponse: c(rec.readSetSASLResponse, rec.writeSetSASLResponse),
  ReconfigRequest: c(rec.readReconfigRequest, rec.writeReconfigRequest),
  ErrorResponse: c(rec.readErrorResponse, rec.writeErrorResponse),
  MultiHeader: c(multi.readMultiHeader, multi.writeMultiHeader),
  MultiRequest: c(multi.readMultiRequest, multi.writeMultiRequest),
  MultiResponse: c(multi.readMultiResponse, multi.writeMultiResponse),
};

export function codec(name: string): Codec {
  const found = codecs[name];
  if (!found) throw new Error(`no codec named ${name}`);
  return found;
}

/** Encodes a sequence of records as one frame (4-byte length prefix included). */
export function encodeRecords(names: readonly string[], values: readonly unknown[]): Buffer {
  const w = new JuteWriter(16);
  w.beginFrame();
  names.forEach((n, i) => codec(n).write(w, values[i] as never));
  w.endFrame();
  return w.toBuffer();
}

/** Decodes the records of one frame payload (no prefix) and insists every byte is consumed. */
export function decodeRecords(names: readonly string[], payload: Buffer): unknown[] {
  const r = new JuteReader(payload);
  const out = names.map((n) => codec(n).read(r));
  if (!r.atEnd()) throw new Error(`${r.remaining} bytes left after ${names.join('+')}`);
  return out;
}

// ------------------------------------------------------------------ fixtures

export interface Fixture {
  name: string;
  note?: string;
  records: string[];
  hex: string;
  decoded: unknown[];
}

/** JSON conventions: "123n" is a bigint, {"$hex": "..."} is a Buffer. */
export function revive(value: unknown): unknown {
  if (typeof value === 'string' && /^-?\d+n$/.test(value)) return BigInt(value.slice(0, -1));
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof obj.$hex === 'string' && Object.keys(obj).length === 1) return hex(obj.$hex);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

export function loadFixtures(dir: string): Fixture[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Fixture);
}

export const HANDMADE_DIR = path.join(__dirname, '../../protocol/fixtures/handmade');

// ------------------------------------------------------------------ arbitraries

export const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
export const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
export const str = fc.string({ unit: 'binary', maxLength: 24 });
export const path_ = fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 4 }).map((p) => '/' + p.join('/'));
export const bytes = fc.uint8Array({ maxLength: 48 }).map((u) => Buffer.from(u));
export const nullableBytes = fc.option(bytes, { nil: null });
export const strings = fc.array(str, { maxLength: 6 });

export const arbId: fc.Arbitrary<Id> = fc.record({ scheme: str, id: str });
export const arbACL: fc.Arbitrary<ACL> = fc.record({ perms: int32, id: arbId });
export const arbACLs = fc.array(arbACL, { maxLength: 4 });
export const arbClientInfo: fc.Arbitrary<ClientInfo> = fc.record({ authScheme: str, user: str });
export const arbStat: fc.Arbitrary<Stat> = fc.record({
  czxid: int64,
  mzxid: int64,
  ctime: int64,
  mtime: int64,
  version: int32,
  cversion: int32,
  aversion: int32,
  ephemeralOwner: int64,
  dataLength: int32,
  numChildren: int32,
  pzxid: int64,
});
export const arbCreate = fc.record({ path: path_, data: nullableBytes, acl: arbACLs, flags: int32 });
export const arbCreateTTL = fc.record({ path: path_, data: nullableBytes, acl: arbACLs, flags: int32, ttl: int64 });

/** Deep copy with ordinary prototypes (fast-check records have none), so toStrictEqual compares values only. */
export function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}
