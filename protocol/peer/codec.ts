/**
 * Peer frame codec. A frame is
 *
 *   int32 BE length | uint8 version (= 1) | msgpack body
 *
 * where `length` counts the version byte and the body. The body is one msgpack array whose first
 * element is the message tag and the rest are the fields in the order of `FIELDS` below. Decoding
 * is strict: the frame must hold exactly one value, every field must have the right type and range,
 * and an unknown tag, a wrong field count or an out-of-range number is an error. The length is
 * checked against `frameBytesMax` before any of the body is buffered.
 */
import { Packr } from 'msgpackr';
import { type LogHistory, type PeerMessage, type PeerMessageType, type ServerState, ServerStates } from './messages';

export const PEER_PROTOCOL_VERSION = 1;
/** Default cap on one frame (a snapshot travels as SNAPCHUNKs, so frames stay small). */
export const PEER_FRAME_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/** The stream cannot be trusted any more (bad length or version): close the connection. */
export class PeerFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerFrameError';
  }
}

/** A well-framed body that is not a valid message: close the connection too (peers are trusted code). */
export class PeerDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeerDecodeError';
  }
}

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true, variableMapSize: true });

// ------------------------------------------------------------------ field kinds

type Kind = 'zxid' | 'session' | 'epoch' | 'sid' | 'count' | 'ms' | 'bool' | 'bytes' | 'state' | 'epochs';

/**
 * The largest epoch a peer may name. A leader proposes max(acceptedEpoch) + 1, and zxids carry the
 * epoch in 32 bits: a forged 0xffffffff would overflow the next epoch, fail the persist and leave
 * a member that can never rejoin. So the top epoch is never valid on the wire.
 */
export const PEER_EPOCH_MAX = 0xfffffffe;
/** The largest zxid a peer may name: its epoch part within PEER_EPOCH_MAX. */
const ZXID_MAX = (BigInt(PEER_EPOCH_MAX) << 32n) | 0xffffffffn;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function int(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new PeerDecodeError(`${what}: expected an integer in [${lo}, ${hi}], got ${describe(v)}`);
  }
  return v;
}

function big(v: unknown, what: string, lo: bigint, hi: bigint): bigint {
  // Our encoder always writes 64-bit ints, but small values written as msgpack ints are fine too.
  const b = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (b === undefined || b < lo || b > hi) throw new PeerDecodeError(`${what}: expected a 64-bit integer, got ${describe(v)}`);
  return b;
}

function describe(v: unknown): string {
  if (Buffer.isBuffer(v)) return `${v.length} bytes`;
  if (Array.isArray(v)) return `array(${v.length})`;
  return typeof v === 'bigint' ? `${v}n` : `${typeof v} ${String(v).slice(0, 40)}`;
}

const decoders: Record<Kind, (v: unknown, what: string) => unknown> = {
  zxid: (v, w) => big(v, w, 0n, ZXID_MAX),
  session: (v, w) => big(v, w, I64_MIN, I64_MAX),
  epoch: (v, w) => int(v, w, -1, PEER_EPOCH_MAX),
  sid: (v, w) => int(v, w, -1, 0x7fffffff),
  count: (v, w) => int(v, w, 0, Number.MAX_SAFE_INTEGER),
  ms: (v, w) => int(v, w, 0, 0x7fffffff),
  bool: (v, w) => {
    if (typeof v !== 'boolean') throw new PeerDecodeError(`${w}: expected a boolean, got ${describe(v)}`);
    return v;
  },
  bytes: (v, w) => {
    if (!(v instanceof Uint8Array)) throw new PeerDecodeError(`${w}: expected bytes, got ${describe(v)}`);
    return Buffer.from(v); // copy: do not pin the whole receive buffer
  },
  state: (v, w) => ServerStates[int(v, w, 0, ServerStates.length - 1)],
  epochs: (v, w) => {
    if (!Array.isArray(v)) throw new PeerDecodeError(`${w}: expected an array, got ${describe(v)}`);
    return v.map((seg, i) => {
      if (!Array.isArray(seg) || seg.length !== 2) throw new PeerDecodeError(`${w}[${i}]: expected [epoch, zxid]`);
      return { epoch: decoders.epoch(seg[0], `${w}[${i}].epoch`) as number, lastZxid: decoders.zxid(seg[1], `${w}[${i}].lastZxid`) as bigint };
    });
  },
};

const encoders: Partial<Record<Kind, (v: unknown) => unknown>> = {
  // Always 64-bit on the wire so the decoder gives back bigint.
  state: (v) => ServerStates.indexOf(v as ServerState),
  epochs: (v) => (v as LogHistory['epochs']).map((s) => [s.epoch, s.lastZxid]),
};

// ------------------------------------------------------------------ the message table

/**
 * Tag and flat field list of every message. Nested values (the vote of a notification, the
 * history of an ACKEPOCH) are flattened by `flatten`/`unflatten` so the table stays declarative.
 */
const FIELDS: Record<PeerMessageType, { tag: number; fields: ReadonlyArray<readonly [string, Kind]> }> = {
  notification: { tag: 1, fields: [['leader', 'sid'], ['zxid', 'zxid'], ['peerEpoch', 'epoch'], ['round', 'count'], ['state', 'state']] },
  followerinfo: { tag: 2, fields: [['acceptedEpoch', 'epoch'], ['lastZxid', 'zxid']] },
  observerinfo: { tag: 3, fields: [['acceptedEpoch', 'epoch'], ['lastZxid', 'zxid']] },
  leaderinfo: { tag: 4, fields: [['epoch', 'epoch']] },
  ackepoch: { tag: 5, fields: [['currentEpoch', 'epoch'], ['lastZxid', 'zxid'], ['base', 'zxid'], ['epochs', 'epochs']] },
  diff: { tag: 6, fields: [['zxid', 'zxid']] },
  trunc: { tag: 7, fields: [['zxid', 'zxid']] },
  snap: { tag: 8, fields: [['zxid', 'zxid'], ['data', 'bytes']] },
  newleader: { tag: 9, fields: [['epoch', 'epoch'], ['zxid', 'zxid']] },
  uptodate: { tag: 10, fields: [['zxid', 'zxid']] },
  proposal: { tag: 11, fields: [['zxid', 'zxid'], ['data', 'bytes']] },
  ack: { tag: 12, fields: [['zxid', 'zxid'], ['newLeader', 'bool']] },
  commit: { tag: 13, fields: [['zxid', 'zxid']] },
  inform: { tag: 14, fields: [['zxid', 'zxid'], ['data', 'bytes']] },
  ping: { tag: 15, fields: [['round', 'count'], ['echoed', 'count']] },
  request: { tag: 16, fields: [['data', 'bytes']] },
  revalidate: { tag: 17, fields: [['sessionId', 'session'], ['timeoutMs', 'ms'], ['valid', 'bool']] },
  sync: { tag: 18, fields: [['zxid', 'zxid']] },
  heartbeat: { tag: 19, fields: [] },
  snapchunk: { tag: 20, fields: [['seq', 'count'], ['crc', 'count'], ['data', 'bytes']] },
};

const BY_TAG = new Map(Object.entries(FIELDS).map(([type, spec]) => [spec.tag, type as PeerMessageType]));

function flatten(msg: PeerMessage): Record<string, unknown> {
  if (msg.type === 'notification') return { ...msg.vote, round: msg.round, state: msg.state };
  if (msg.type === 'ackepoch') return { currentEpoch: msg.currentEpoch, lastZxid: msg.lastZxid, base: msg.history.base, epochs: msg.history.epochs };
  return msg as unknown as Record<string, unknown>;
}

function unflatten(type: PeerMessageType, f: Record<string, unknown>): PeerMessage {
  if (type === 'notification') {
    return {
      type,
      vote: { leader: f.leader as number, zxid: f.zxid as bigint, peerEpoch: f.peerEpoch as number },
      round: f.round as number,
      state: f.state as ServerState,
    };
  }
  if (type === 'ackepoch') {
    return {
      type,
      currentEpoch: f.currentEpoch as number,
      lastZxid: f.lastZxid as bigint,
      history: { base: f.base as bigint, epochs: f.epochs as LogHistory['epochs'] },
    };
  }
  return { type, ...f } as PeerMessage;
}

// ------------------------------------------------------------------ encode / decode

export function encodeBody(msg: PeerMessage): Buffer {
  const spec = FIELDS[msg.type];
  const flat = flatten(msg);
  const arr: unknown[] = [spec.tag];
  for (const [name, kind] of spec.fields) {
    const v = flat[name];
    const enc = encoders[kind];
    arr.push(kind === 'zxid' || kind === 'session' ? BigInt(v as bigint) : enc ? enc(v) : v);
  }
  return packr.pack(arr);
}

export function decodeBody(body: Buffer): PeerMessage {
  let value: unknown;
  try {
    value = packr.unpack(body);
  } catch (e) {
    throw new PeerDecodeError(`malformed msgpack body: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(value) || value.length === 0) throw new PeerDecodeError(`body must be a non-empty array, got ${describe(value)}`);
  const tag = int(value[0], 'tag', 0, 255);
  const type = BY_TAG.get(tag);
  if (!type) throw new PeerDecodeError(`unknown message tag ${tag}`);
  const spec = FIELDS[type];
  if (value.length !== spec.fields.length + 1) {
    throw new PeerDecodeError(`${type}: expected ${spec.fields.length} fields, got ${value.length - 1}`);
  }
  const flat: Record<string, unknown> = {};
  spec.fields.forEach(([name, kind], i) => {
    flat[name] = decoders[kind](value[i + 1], `${type}.${name}`);
  });
  return unflatten(type, flat);
}

/** Version byte + body: the frame without its length prefix, for transports that do their own framing. */
export function encodePayload(msg: PeerMessage): Buffer {
  const body = encodeBody(msg);
  const out = Buffer.allocUnsafe(1 + body.length);
  out.writeUInt8(PEER_PROTOCOL_VERSION, 0);
  body.copy(out, 1);
  return out;
}

/** Inverse of `encodePayload`; a wrong version is a PeerFrameError. */
export function decodePayload(payload: Buffer): PeerMessage {
  if (payload.length < 2) throw new PeerFrameError(`peer payload too short (${payload.length} bytes)`);
  const version = payload.readUInt8(0);
  if (version !== PEER_PROTOCOL_VERSION) throw new PeerFrameError(`unsupported peer protocol version ${version}`);
  return decodeBody(payload.subarray(1));
}

export function encodeFrame(msg: PeerMessage): Buffer {
  const body = encodeBody(msg);
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeInt32BE(body.length + 1, 0);
  frame.writeUInt8(PEER_PROTOCOL_VERSION, 4);
  body.copy(frame, 5);
  return frame;
}

/**
 * Incremental decoder for one connection: feed it chunks as they arrive; it returns every complete
 * message and keeps the remainder. After it throws, the stream is unusable: close the connection.
 */
export class PeerFrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly frameBytesMax = PEER_FRAME_BYTES_MAX_DEFAULT) {}

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): PeerMessage[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: PeerMessage[] = [];
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readInt32BE(off);
      // Checked before buffering the body: a 1 GiB prefix must not make us wait for (or allocate) 1 GiB.
      if (len < 2 || len > this.frameBytesMax) throw new PeerFrameError(`bad peer frame length ${len} (max ${this.frameBytesMax})`);
      if (this.buf.length - off < 4 + len) break;
      out.push(decodePayload(this.buf.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    this.buf = off === 0 ? this.buf : Buffer.from(this.buf.subarray(off));
    return out;
  }
}
