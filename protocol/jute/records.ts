/**
 * Every record of the ZooKeeper client protocol (zookeeper.jute), as plain TypeScript interfaces with
 * a reader and a writer each. Fields are in wire order; the layouts follow /work/shared/zk-wire-facts.md
 * §3, §4 and §6. Both directions exist for every record: the server decodes requests and encodes
 * responses, our TypeScript client does the reverse.
 *
 * Conventions:
 *  - strings are read with readUstring (a null string reads as ''), because kazoo sends "" as -1;
 *    the few records where null carries meaning (ReconfigRequest) keep `string | null`;
 *  - data buffers keep the null/empty distinction (`Buffer | null`);
 *  - vectors read as [] when the sender wrote a null vector.
 */
import type { ACL, ClientInfo, Id, Stat } from './data';
import type { JuteReader } from './reader';
import type { JuteWriter } from './writer';

// ------------------------------------------------------------------ helpers

const readStrings = (r: JuteReader): string[] => r.readVector((x) => x.readUstring()) ?? [];
const writeStrings = (w: JuteWriter, v: readonly string[]): void => w.writeVector(v, (x, s) => x.writeString(s));

// ------------------------------------------------------------------ data records

export function readId(r: JuteReader): Id {
  return { scheme: r.readUstring(), id: r.readUstring() };
}
export function writeId(w: JuteWriter, v: Id): void {
  w.writeString(v.scheme);
  w.writeString(v.id);
}

export function readACL(r: JuteReader): ACL {
  return { perms: r.readInt(), id: readId(r) };
}
export function writeACL(w: JuteWriter, v: ACL): void {
  w.writeInt(v.perms);
  writeId(w, v.id);
}

/** vector<ACL>; a null vector reads as [] (the create path then answers InvalidACL). */
export function readACLList(r: JuteReader): ACL[] {
  return r.readVector(readACL) ?? [];
}
export function writeACLList(w: JuteWriter, v: readonly ACL[]): void {
  w.writeVector(v, writeACL);
}

/** Stat: 68 bytes. */
export const STAT_BYTES = 68;
export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.readLong(),
    mzxid: r.readLong(),
    ctime: r.readLong(),
    mtime: r.readLong(),
    version: r.readInt(),
    cversion: r.readInt(),
    aversion: r.readInt(),
    ephemeralOwner: r.readLong(),
    dataLength: r.readInt(),
    numChildren: r.readInt(),
    pzxid: r.readLong(),
  };
}
export function writeStat(w: JuteWriter, v: Stat): void {
  w.writeLong(v.czxid);
  w.writeLong(v.mzxid);
  w.writeLong(v.ctime);
  w.writeLong(v.mtime);
  w.writeInt(v.version);
  w.writeInt(v.cversion);
  w.writeInt(v.aversion);
  w.writeLong(v.ephemeralOwner);
  w.writeInt(v.dataLength);
  w.writeInt(v.numChildren);
  w.writeLong(v.pzxid);
}

export function readClientInfo(r: JuteReader): ClientInfo {
  return { authScheme: r.readUstring(), user: r.readUstring() };
}
export function writeClientInfo(w: JuteWriter, v: ClientInfo): void {
  w.writeString(v.authScheme);
  w.writeString(v.user);
}

// ------------------------------------------------------------------ headers

export interface RequestHeader {
  xid: number;
  type: number;
}
export function readRequestHeader(r: JuteReader): RequestHeader {
  return { xid: r.readInt(), type: r.readInt() };
}
export function writeRequestHeader(w: JuteWriter, v: RequestHeader): void {
  w.writeInt(v.xid);
  w.writeInt(v.type);
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}
export function readReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.readInt(), zxid: r.readLong(), err: r.readInt() };
}
export function writeReplyHeader(w: JuteWriter, v: ReplyHeader): void {
  w.writeInt(v.xid);
  w.writeLong(v.zxid);
  w.writeInt(v.err);
}

// ------------------------------------------------------------------ handshake

export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer | null;
  /** Absent when the client left the byte out (old clients such as node-zookeeper-client). */
  readOnly?: boolean;
  /** zabkeeper protocol extensions the client asks for (see extensions.ts); never sent to or by Apache. */
  features?: number;
}

/**
 * The extension trailer: magic "ZKX1" + int feature bits, after the readOnly byte of
 * ConnectRequest/ConnectResponse. Apache ZooKeeper reads the record and the readOnly byte and
 * ignores anything after them, and only answers with a trailer of its own when asked by one, so
 * neither side ever sees it from Apache software.
 */
export const FEATURES_MAGIC = 0x5a4b5831;

function tryReadFeatures(r: JuteReader): number | undefined {
  if (r.remaining < 8) return undefined;
  const at = r.offset;
  if (r.readInt() !== FEATURES_MAGIC) {
    r.offset = at;
    return undefined;
  }
  return r.readInt();
}

function writeFeatures(w: JuteWriter, features: number | undefined): void {
  if (features === undefined) return;
  w.writeInt(FEATURES_MAGIC);
  w.writeInt(features);
}

export function readConnectRequest(r: JuteReader): ConnectRequest {
  const req: ConnectRequest = {
    protocolVersion: r.readInt(),
    lastZxidSeen: r.readLong(),
    timeOut: r.readInt(),
    sessionId: r.readLong(),
    passwd: r.readBuffer(),
  };
  const readOnly = r.tryReadBool();
  if (readOnly !== undefined) req.readOnly = readOnly;
  const features = readOnly !== undefined ? tryReadFeatures(r) : undefined;
  if (features !== undefined) req.features = features;
  return req;
}
export function writeConnectRequest(w: JuteWriter, v: ConnectRequest): void {
  w.writeInt(v.protocolVersion);
  w.writeLong(v.lastZxidSeen);
  w.writeInt(v.timeOut);
  w.writeLong(v.sessionId);
  w.writeBuffer(v.passwd);
  if (v.readOnly !== undefined) w.writeBool(v.readOnly);
  if (v.readOnly !== undefined) writeFeatures(w, v.features);
}

export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer | null;
  /** Written only when defined: the server echoes the byte only to clients that sent it. */
  readOnly?: boolean;
  /** Extensions granted (zabkeeper, only to a client that asked): a subset of the request's. */
  features?: number;
}
export function readConnectResponse(r: JuteReader): ConnectResponse {
  const res: ConnectResponse = {
    protocolVersion: r.readInt(),
    timeOut: r.readInt(),
    sessionId: r.readLong(),
    passwd: r.readBuffer(),
  };
  const readOnly = r.tryReadBool();
  if (readOnly !== undefined) res.readOnly = readOnly;
  const features = readOnly !== undefined ? tryReadFeatures(r) : undefined;
  if (features !== undefined) res.features = features;
  return res;
}
export function writeConnectResponse(w: JuteWriter, v: ConnectResponse): void {
  w.writeInt(v.protocolVersion);
  w.writeInt(v.timeOut);
  w.writeLong(v.sessionId);
  w.writeBuffer(v.passwd);
  if (v.readOnly !== undefined) w.writeBool(v.readOnly);
  if (v.readOnly !== undefined) writeFeatures(w, v.features);
}

// ------------------------------------------------------------------ small shared shapes

/** Records that are just a path: GetACLRequest, SyncRequest/Response, CreateResponse, ... */
export interface PathRecord {
  path: string;
}
function readPathRecord(r: JuteReader): PathRecord {
  return { path: r.readUstring() };
}
function writePathRecord(w: JuteWriter, v: PathRecord): void {
  w.writeString(v.path);
}

/** path + watch flag: Exists/GetData/GetChildren/GetChildren2 requests. */
export interface PathWatchRecord {
  path: string;
  watch: boolean;
}
function readPathWatch(r: JuteReader): PathWatchRecord {
  return { path: r.readUstring(), watch: r.readBool() };
}
function writePathWatch(w: JuteWriter, v: PathWatchRecord): void {
  w.writeString(v.path);
  w.writeBool(v.watch);
}

/** path + version: DeleteRequest, CheckVersionRequest. */
export interface PathVersionRecord {
  path: string;
  version: number;
}
function readPathVersion(r: JuteReader): PathVersionRecord {
  return { path: r.readUstring(), version: r.readInt() };
}
function writePathVersion(w: JuteWriter, v: PathVersionRecord): void {
  w.writeString(v.path);
  w.writeInt(v.version);
}

/** path + int type: CheckWatchesRequest, RemoveWatchesRequest (WatcherType). */
export interface PathTypeRecord {
  path: string;
  type: number;
}
function readPathType(r: JuteReader): PathTypeRecord {
  return { path: r.readUstring(), type: r.readInt() };
}
function writePathType(w: JuteWriter, v: PathTypeRecord): void {
  w.writeString(v.path);
  w.writeInt(v.type);
}

/** Just a Stat: ExistsResponse, SetDataResponse, SetACLResponse. */
export interface StatRecord {
  stat: Stat;
}
function readStatRecord(r: JuteReader): StatRecord {
  return { stat: readStat(r) };
}
function writeStatRecord(w: JuteWriter, v: StatRecord): void {
  writeStat(w, v.stat);
}

/** Just a buffer: GetSASLRequest, SetSASLRequest, SetSASLResponse. */
export interface TokenRecord {
  token: Buffer | null;
}
function readTokenRecord(r: JuteReader): TokenRecord {
  return { token: r.readBuffer() };
}
function writeTokenRecord(w: JuteWriter, v: TokenRecord): void {
  w.writeBuffer(v.token);
}

// ------------------------------------------------------------------ create

export interface CreateRequest {
  path: string;
  data: Buffer | null;
  /** readonly so the frozen well-known lists (OPEN_ACL_UNSAFE, ...) can be passed as they are. */
  acl: readonly ACL[];
  flags: number;
}
export function readCreateRequest(r: JuteReader): CreateRequest {
  return { path: r.readUstring(), data: r.readBuffer(), acl: readACLList(r), flags: r.readInt() };
}
export function writeCreateRequest(w: JuteWriter, v: CreateRequest): void {
  w.writeString(v.path);
  w.writeBuffer(v.data);
  writeACLList(w, v.acl);
  w.writeInt(v.flags);
}

export interface CreateTTLRequest extends CreateRequest {
  ttl: bigint;
}
export function readCreateTTLRequest(r: JuteReader): CreateTTLRequest {
  const base = readCreateRequest(r);
  return { ...base, ttl: r.readLong() };
}
export function writeCreateTTLRequest(w: JuteWriter, v: CreateTTLRequest): void {
  writeCreateRequest(w, v);
  w.writeLong(v.ttl);
}

export type CreateResponse = PathRecord;
export const readCreateResponse = readPathRecord;
export const writeCreateResponse = writePathRecord;

export interface Create2Response {
  path: string;
  stat: Stat;
}
export function readCreate2Response(r: JuteReader): Create2Response {
  return { path: r.readUstring(), stat: readStat(r) };
}
export function writeCreate2Response(w: JuteWriter, v: Create2Response): void {
  w.writeString(v.path);
  writeStat(w, v.stat);
}

// ------------------------------------------------------------------ delete / check

export type DeleteRequest = PathVersionRecord;
export const readDeleteRequest = readPathVersion;
export const writeDeleteRequest = writePathVersion;

export type CheckVersionRequest = PathVersionRecord;
export const readCheckVersionRequest = readPathVersion;
export const writeCheckVersionRequest = writePathVersion;

// ------------------------------------------------------------------ exists / getData / setData

export type ExistsRequest = PathWatchRecord;
export const readExistsRequest = readPathWatch;
export const writeExistsRequest = writePathWatch;

export type ExistsResponse = StatRecord;
export const readExistsResponse = readStatRecord;
export const writeExistsResponse = writeStatRecord;

export type GetDataRequest = PathWatchRecord;
export const readGetDataRequest = readPathWatch;
export const writeGetDataRequest = writePathWatch;

export interface GetDataResponse {
  data: Buffer | null;
  stat: Stat;
}
export function readGetDataResponse(r: JuteReader): GetDataResponse {
  return { data: r.readBuffer(), stat: readStat(r) };
}
export function writeGetDataResponse(w: JuteWriter, v: GetDataResponse): void {
  w.writeBuffer(v.data);
  writeStat(w, v.stat);
}

export interface SetDataRequest {
  path: string;
  data: Buffer | null;
  version: number;
}
export function readSetDataRequest(r: JuteReader): SetDataRequest {
  return { path: r.readUstring(), data: r.readBuffer(), version: r.readInt() };
}
export function writeSetDataRequest(w: JuteWriter, v: SetDataRequest): void {
  w.writeString(v.path);
  w.writeBuffer(v.data);
  w.writeInt(v.version);
}

export type SetDataResponse = StatRecord;
export const readSetDataResponse = readStatRecord;
export const writeSetDataResponse = writeStatRecord;

// ------------------------------------------------------------------ ACLs

export type GetACLRequest = PathRecord;
export const readGetACLRequest = readPathRecord;
export const writeGetACLRequest = writePathRecord;

export interface GetACLResponse {
  acl: ACL[];
  stat: Stat;
}
export function readGetACLResponse(r: JuteReader): GetACLResponse {
  return { acl: readACLList(r), stat: readStat(r) };
}
export function writeGetACLResponse(w: JuteWriter, v: GetACLResponse): void {
  writeACLList(w, v.acl);
  writeStat(w, v.stat);
}

export interface SetACLRequest {
  path: string;
  acl: readonly ACL[];
  version: number;
}
export function readSetACLRequest(r: JuteReader): SetACLRequest {
  return { path: r.readUstring(), acl: readACLList(r), version: r.readInt() };
}
export function writeSetACLRequest(w: JuteWriter, v: SetACLRequest): void {
  w.writeString(v.path);
  writeACLList(w, v.acl);
  w.writeInt(v.version);
}

export type SetACLResponse = StatRecord;
export const readSetACLResponse = readStatRecord;
export const writeSetACLResponse = writeStatRecord;

// ------------------------------------------------------------------ children

export type GetChildrenRequest = PathWatchRecord;
export const readGetChildrenRequest = readPathWatch;
export const writeGetChildrenRequest = writePathWatch;

export interface GetChildrenResponse {
  children: string[];
}
export function readGetChildrenResponse(r: JuteReader): GetChildrenResponse {
  return { children: readStrings(r) };
}
export function writeGetChildrenResponse(w: JuteWriter, v: GetChildrenResponse): void {
  writeStrings(w, v.children);
}

export type GetChildren2Request = PathWatchRecord;
export const readGetChildren2Request = readPathWatch;
export const writeGetChildren2Request = writePathWatch;

export interface GetChildren2Response {
  children: string[];
  stat: Stat;
}
export function readGetChildren2Response(r: JuteReader): GetChildren2Response {
  return { children: readStrings(r), stat: readStat(r) };
}
export function writeGetChildren2Response(w: JuteWriter, v: GetChildren2Response): void {
  writeStrings(w, v.children);
  writeStat(w, v.stat);
}

export type GetAllChildrenNumberRequest = PathRecord;
export const readGetAllChildrenNumberRequest = readPathRecord;
export const writeGetAllChildrenNumberRequest = writePathRecord;

export interface GetAllChildrenNumberResponse {
  totalNumber: number;
}
export function readGetAllChildrenNumberResponse(r: JuteReader): GetAllChildrenNumberResponse {
  return { totalNumber: r.readInt() };
}
export function writeGetAllChildrenNumberResponse(w: JuteWriter, v: GetAllChildrenNumberResponse): void {
  w.writeInt(v.totalNumber);
}

// ------------------------------------------------------------------ sync

export type SyncRequest = PathRecord;
export const readSyncRequest = readPathRecord;
export const writeSyncRequest = writePathRecord;

export type SyncResponse = PathRecord;
export const readSyncResponse = readPathRecord;
export const writeSyncResponse = writePathRecord;

// ------------------------------------------------------------------ ephemerals / whoAmI

export interface GetEphemeralsRequest {
  prefixPath: string;
}
export function readGetEphemeralsRequest(r: JuteReader): GetEphemeralsRequest {
  return { prefixPath: r.readUstring() };
}
export function writeGetEphemeralsRequest(w: JuteWriter, v: GetEphemeralsRequest): void {
  w.writeString(v.prefixPath);
}

export interface GetEphemeralsResponse {
  ephemerals: string[];
}
export function readGetEphemeralsResponse(r: JuteReader): GetEphemeralsResponse {
  return { ephemerals: readStrings(r) };
}
export function writeGetEphemeralsResponse(w: JuteWriter, v: GetEphemeralsResponse): void {
  writeStrings(w, v.ephemerals);
}

export interface WhoAmIResponse {
  clientInfo: ClientInfo[];
}
export function readWhoAmIResponse(r: JuteReader): WhoAmIResponse {
  return { clientInfo: r.readVector(readClientInfo) ?? [] };
}
export function writeWhoAmIResponse(w: JuteWriter, v: WhoAmIResponse): void {
  w.writeVector(v.clientInfo, writeClientInfo);
}

// ------------------------------------------------------------------ watches

export type CheckWatchesRequest = PathTypeRecord;
export const readCheckWatchesRequest = readPathType;
export const writeCheckWatchesRequest = writePathType;

export type RemoveWatchesRequest = PathTypeRecord;
export const readRemoveWatchesRequest = readPathType;
export const writeRemoveWatchesRequest = writePathType;

export interface AddWatchRequest {
  path: string;
  mode: number;
}
export function readAddWatchRequest(r: JuteReader): AddWatchRequest {
  return { path: r.readUstring(), mode: r.readInt() };
}
export function writeAddWatchRequest(w: JuteWriter, v: AddWatchRequest): void {
  w.writeString(v.path);
  w.writeInt(v.mode);
}

export interface SetWatches {
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
}
export function readSetWatches(r: JuteReader): SetWatches {
  return {
    relativeZxid: r.readLong(),
    dataWatches: readStrings(r),
    existWatches: readStrings(r),
    childWatches: readStrings(r),
  };
}
export function writeSetWatches(w: JuteWriter, v: SetWatches): void {
  w.writeLong(v.relativeZxid);
  writeStrings(w, v.dataWatches);
  writeStrings(w, v.existWatches);
  writeStrings(w, v.childWatches);
}

export interface SetWatches2 extends SetWatches {
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}
export function readSetWatches2(r: JuteReader): SetWatches2 {
  const base = readSetWatches(r);
  return { ...base, persistentWatches: readStrings(r), persistentRecursiveWatches: readStrings(r) };
}
export function writeSetWatches2(w: JuteWriter, v: SetWatches2): void {
  writeSetWatches(w, v);
  writeStrings(w, v.persistentWatches);
  writeStrings(w, v.persistentRecursiveWatches);
}

/** Body of a notification frame (ReplyHeader xid -1). */
export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}
export function readWatcherEvent(r: JuteReader): WatcherEvent {
  return { type: r.readInt(), state: r.readInt(), path: r.readUstring() };
}
export function writeWatcherEvent(w: JuteWriter, v: WatcherEvent): void {
  w.writeInt(v.type);
  w.writeInt(v.state);
  w.writeString(v.path);
}

// ------------------------------------------------------------------ auth / sasl / reconfig / errors

export interface AuthPacket {
  type: number;
  scheme: string;
  auth: Buffer | null;
}
export function readAuthPacket(r: JuteReader): AuthPacket {
  return { type: r.readInt(), scheme: r.readUstring(), auth: r.readBuffer() };
}
export function writeAuthPacket(w: JuteWriter, v: AuthPacket): void {
  w.writeInt(v.type);
  w.writeString(v.scheme);
  w.writeBuffer(v.auth);
}

export type GetSASLRequest = TokenRecord;
export const readGetSASLRequest = readTokenRecord;
export const writeGetSASLRequest = writeTokenRecord;

export type SetSASLRequest = TokenRecord;
export const readSetSASLRequest = readTokenRecord;
export const writeSetSASLRequest = writeTokenRecord;

export type SetSASLResponse = TokenRecord;
export const readSetSASLResponse = readTokenRecord;
export const writeSetSASLResponse = writeTokenRecord;

/** null and "" differ for reconfig (null = not part of an incremental change), so they stay nullable. */
export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}
export function readReconfigRequest(r: JuteReader): ReconfigRequest {
  return {
    joiningServers: r.readString(),
    leavingServers: r.readString(),
    newMembers: r.readString(),
    curConfigId: r.readLong(),
  };
}
export function writeReconfigRequest(w: JuteWriter, v: ReconfigRequest): void {
  w.writeString(v.joiningServers);
  w.writeString(v.leavingServers);
  w.writeString(v.newMembers);
  w.writeLong(v.curConfigId);
}

/** A bare int: the addWatch reply body (err 0) and the body of an error result inside multi. */
export interface ErrorResponse {
  err: number;
}
export function readErrorResponse(r: JuteReader): ErrorResponse {
  return { err: r.readInt() };
}
export function writeErrorResponse(w: JuteWriter, v: ErrorResponse): void {
  w.writeInt(v.err);
}
