/**
 * zabkeeper's extensions to the ZooKeeper client protocol (documented in protocol/README.md).
 * Negotiated in the handshake (ConnectRequest/ConnectResponse `features`, see records.ts) and used
 * only when granted, so Apache servers and clients never see any of this.
 *
 * Resumable watches: `resumeWatch` registers a persistent or recursive watch and first replays, from
 * the server's event history, every event after a position (zxid, events of that zxid already seen);
 * granted connections also get an EventDetail (Stat, data) after each notification's WatcherEvent.
 */
import type { Stat } from './data';
import type { JuteReader } from './reader';
import type { JuteWriter } from './writer';
import { readStat, writeStat } from './records';

/** Feature bits of the handshake trailer. */
export const Feature = {
  /** resumeWatch, HistoryPurged, EventDetail on notifications. */
  resumableWatches: 1,
} as const;

/** Extension opcodes: far from ZooKeeper's (1..22, 100..107, -10, -11). */
export const ExtOpCode = {
  resumeWatch: 1001,
} as const;

/** Extension error codes: outside KeeperException.Code, sent only to clients that negotiated them. */
export const ExtErrorCode = {
  /** The events after the requested position are no longer all in the server's history. */
  historyPurged: -1001,
} as const;

/** `afterZxid` of a ResumeWatchRequest meaning "no replay: start at the current state". */
export const RESUME_FROM_NOW = -1n;
/** `afterSeen` meaning "every event of afterZxid was seen". */
export const SEEN_ALL = -1;

export interface ResumeWatchRequest {
  path: string;
  /** AddWatchMode: 0 persistent, 1 persistentRecursive. */
  mode: number;
  afterZxid: bigint;
  afterSeen: number;
  /** Byte budget of one reply page; 0 lets the server choose. */
  maxBytes: number;
  /** Bit 0: include node data in event details. */
  flags: number;
}

export const ResumeFlags = { includeData: 1 } as const;

/** What a notification or a replayed event may carry beyond type and path. */
export interface EventDetail {
  /** The node's Stat after the event's txn (created, changed, childrenChanged on the parent). */
  stat?: Stat;
  /** The node's data after the event's txn, when asked for and small enough. */
  data?: Buffer | null;
}

export interface ResumedEvent extends EventDetail {
  zxid: bigint;
  /** EventType */
  type: number;
  path: string;
}

export interface ResumeWatchResponse {
  events: ResumedEvent[];
  /** More history remains: ask again from the last event; the watch is not registered yet. */
  more: boolean;
}

const DETAIL_STAT = 1;
const DETAIL_DATA = 2;

export function writeEventDetail(w: JuteWriter, d: EventDetail): void {
  const flags = (d.stat ? DETAIL_STAT : 0) | (d.data !== undefined ? DETAIL_DATA : 0);
  w.writeInt(flags);
  if (d.stat) writeStat(w, d.stat);
  if (d.data !== undefined) w.writeBuffer(d.data);
}

export function readEventDetail(r: JuteReader): EventDetail {
  const flags = r.readInt();
  const out: EventDetail = {};
  if (flags & DETAIL_STAT) out.stat = readStat(r);
  if (flags & DETAIL_DATA) out.data = r.readBuffer();
  return out;
}

export function writeResumeWatchRequest(w: JuteWriter, v: ResumeWatchRequest): void {
  w.writeString(v.path);
  w.writeInt(v.mode);
  w.writeLong(v.afterZxid);
  w.writeInt(v.afterSeen);
  w.writeInt(v.maxBytes);
  w.writeInt(v.flags);
}

export function readResumeWatchRequest(r: JuteReader): ResumeWatchRequest {
  return {
    path: r.readUstring(),
    mode: r.readInt(),
    afterZxid: r.readLong(),
    afterSeen: r.readInt(),
    maxBytes: r.readInt(),
    flags: r.readInt(),
  };
}

function writeResumedEvent(w: JuteWriter, e: ResumedEvent): void {
  w.writeLong(e.zxid);
  w.writeInt(e.type);
  w.writeString(e.path);
  writeEventDetail(w, e);
}

function readResumedEvent(r: JuteReader): ResumedEvent {
  const zxid = r.readLong();
  const type = r.readInt();
  const path = r.readUstring();
  return { zxid, type, path, ...readEventDetail(r) };
}

export function writeResumeWatchResponse(w: JuteWriter, v: ResumeWatchResponse): void {
  w.writeVector(v.events, writeResumedEvent);
  w.writeBool(v.more);
}

export function readResumeWatchResponse(r: JuteReader): ResumeWatchResponse {
  return { events: r.readVector(readResumedEvent) ?? [], more: r.readBool() };
}

/** Bytes one event takes in a ResumeWatchResponse (for paging). */
export function resumedEventBytes(e: ResumedEvent): number {
  return 8 + 4 + 4 + Buffer.byteLength(e.path) + 4 + (e.stat ? 68 : 0) + (e.data !== undefined ? 4 + (e.data?.length ?? 0) : 0);
}
