import { Packr } from 'msgpackr';
import type { ACL } from '../../protocol/jute/data';
import { entryIntact, entryPayload, sealEntry } from '../util/checksum';
import type { NodeKind } from './datatree';

/**
 * The txn union: every decision a write needs, made once by prep and replayed verbatim by apply
 * (on this server, on recovery, on followers). Nothing in here may depend on when or where it is
 * applied.
 */
export interface CreateTxnBody {
  type: 'create';
  /** Final path, sequence suffix included. */
  path: string;
  data: Buffer | null;
  acl: ACL[];
  /** Raw owner: session id, container marker or TTL-encoded owner, else 0. */
  ephemeralOwner: bigint;
  /** Parent's client-visible cversion after this create. */
  parentCVersion: number;
  kind: NodeKind;
  ttl?: bigint;
  /** Request opcode (create, create2, createContainer, createTTL): decides the reply shape only. */
  opCode: number;
}

export type TxnBody =
  | { type: 'createSession'; timeoutMs: number; passwd: Buffer }
  | { type: 'closeSession' }
  | CreateTxnBody
  | { type: 'delete'; path: string }
  | { type: 'setData'; path: string; data: Buffer | null; /** new version */ version: number }
  | { type: 'setACL'; path: string; acl: ACL[]; /** new aversion */ aversion: number }
  | { type: 'check'; path: string; version: number }
  | { type: 'multi'; ops: TxnBody[] }
  /** A failed write: consumes its zxid, changes nothing. */
  | { type: 'error'; err: number }
  /** A failed multi: one code per op (0 before the failing op, its code, then RuntimeInconsistency). */
  | { type: 'multiError'; results: number[] };

export type TxnType = TxnBody['type'];

export interface Txn {
  zxid: bigint;
  sessionId: bigint;
  cxid: number;
  /** Leader's wall clock in ms when prepped: the only time apply ever sees. */
  time: bigint;
  body: TxnBody;
}

/** A logged txn whose bytes fail their checksum or do not decode: the log cannot be trusted. */
export class TxnCorruptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TxnCorruptError';
  }
}

// Records off so the bytes do not depend on structure-sharing state; 64-bit ints decode as bigint.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

/*
 * Log format (schema 2): a msgpack array [zxid, sessionId, cxid, time, body], the body an array
 * [typeCode, ...fields] in the fixed order of BODY below, ACLs as flat [perms, scheme, id, ...]
 * triples; then the 4-byte seal (CRC-32 of zxid and payload, util/checksum.ts). Positional
 * arrays instead of maps halve the log: no field names in every record.
 */
type Tuple = unknown[];

const KINDS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];

function packAcl(acl: readonly ACL[]): Tuple {
  const out: Tuple = [];
  for (const a of acl) out.push(a.perms, a.id.scheme, a.id.id);
  return out;
}

function big(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new Error(`${what} is not a 64-bit integer`);
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${what} is not an integer`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} is not a string`);
  return v;
}

function bytes(v: unknown, what: string): Buffer {
  if (!(v instanceof Uint8Array)) throw new Error(`${what} is not bytes`);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

const bytesOrNull = (v: unknown, what: string): Buffer | null => (v === null ? null : bytes(v, what));

function unpackAcl(v: unknown): ACL[] {
  if (!Array.isArray(v) || v.length % 3 !== 0) throw new Error('acl is not a list of triples');
  const out: ACL[] = [];
  for (let i = 0; i < v.length; i += 3) out.push({ perms: int(v[i], 'acl perms'), id: { scheme: str(v[i + 1], 'acl scheme'), id: str(v[i + 2], 'acl id') } });
  return out;
}

interface BodyCodec<T extends TxnType> {
  code: number;
  pack(b: Extract<TxnBody, { type: T }>): Tuple;
  unpack(f: Tuple): Extract<TxnBody, { type: T }>;
}

/** One entry per txn type: its code and field order. */
const BODY: { [K in TxnType]: BodyCodec<K> } = {
  createSession: {
    code: 0,
    pack: (b) => [b.timeoutMs, b.passwd],
    unpack: (f) => ({ type: 'createSession', timeoutMs: int(f[0], 'timeoutMs'), passwd: bytes(f[1], 'passwd') }),
  },
  closeSession: { code: 1, pack: () => [], unpack: () => ({ type: 'closeSession' }) },
  create: {
    code: 2,
    pack: (b) => {
      const f: Tuple = [b.path, b.data, packAcl(b.acl), b.ephemeralOwner, b.parentCVersion, KINDS.indexOf(b.kind), b.opCode];
      if (b.ttl !== undefined) f.push(b.ttl);
      return f;
    },
    unpack: (f) => {
      const kind = KINDS[int(f[5], 'kind')];
      if (!kind) throw new Error('unknown node kind');
      const b: CreateTxnBody = {
        type: 'create', path: str(f[0], 'path'), data: bytesOrNull(f[1], 'data'), acl: unpackAcl(f[2]),
        ephemeralOwner: big(f[3], 'ephemeralOwner'), parentCVersion: int(f[4], 'parentCVersion'), kind, opCode: int(f[6], 'opCode'),
      };
      if (f.length > 7) b.ttl = big(f[7], 'ttl');
      return b;
    },
  },
  delete: { code: 3, pack: (b) => [b.path], unpack: (f) => ({ type: 'delete', path: str(f[0], 'path') }) },
  setData: {
    code: 4,
    pack: (b) => [b.path, b.data, b.version],
    unpack: (f) => ({ type: 'setData', path: str(f[0], 'path'), data: bytesOrNull(f[1], 'data'), version: int(f[2], 'version') }),
  },
  setACL: {
    code: 5,
    pack: (b) => [b.path, packAcl(b.acl), b.aversion],
    unpack: (f) => ({ type: 'setACL', path: str(f[0], 'path'), acl: unpackAcl(f[1]), aversion: int(f[2], 'aversion') }),
  },
  check: {
    code: 6,
    pack: (b) => [b.path, b.version],
    unpack: (f) => ({ type: 'check', path: str(f[0], 'path'), version: int(f[1], 'version') }),
  },
  multi: {
    code: 7,
    pack: (b) => [b.ops.map(packBody)],
    unpack: (f) => {
      if (!Array.isArray(f[0])) throw new Error('multi ops is not a list');
      return { type: 'multi', ops: f[0].map(unpackBody) };
    },
  },
  error: { code: 8, pack: (b) => [b.err], unpack: (f) => ({ type: 'error', err: int(f[0], 'err') }) },
  multiError: {
    code: 9,
    pack: (b) => [b.results],
    unpack: (f) => {
      if (!Array.isArray(f[0])) throw new Error('multiError results is not a list');
      return { type: 'multiError', results: f[0].map((r) => int(r, 'result')) };
    },
  },
};

const BY_CODE: readonly BodyCodec<TxnType>[] = Object.values(BODY).sort((a, b) => a.code - b.code) as BodyCodec<TxnType>[];

function packBody(b: TxnBody): Tuple {
  const c = BODY[b.type] as BodyCodec<TxnType> | undefined;
  if (!c) throw new Error(`unknown txn body type ${String(b.type)}`);
  return [c.code, ...c.pack(b as never)];
}

function unpackBody(v: unknown): TxnBody {
  if (!Array.isArray(v)) throw new Error('txn body is not a list');
  const c = BY_CODE[int(v[0], 'txn type')];
  if (!c) throw new Error('unknown txn body type');
  return c.unpack(v.slice(1));
}

/** Txn -> sealed bytes for the log and the wire. */
export function encodeTxn(txn: Txn): Buffer {
  return sealEntry(txn.zxid, packr.pack([txn.zxid, txn.sessionId, txn.cxid, txn.time, packBody(txn.body)]));
}

/**
 * Sealed bytes -> Txn. Throws TxnCorruptError when the seal does not match (the bytes changed
 * since the leader encoded them) or the payload is not a well-formed txn.
 */
export function decodeTxn(buf: Buffer): Txn {
  let t: unknown;
  try {
    t = packr.unpack(entryPayload(buf));
  } catch (err) {
    throw new TxnCorruptError(`txn does not decode: ${(err as Error).message}`);
  }
  if (!Array.isArray(t) || t.length !== 5) throw new TxnCorruptError('txn is not a [zxid, session, cxid, time, body] record');
  try {
    const zxid = big(t[0], 'zxid');
    if (!entryIntact(zxid, buf)) throw new Error(`checksum mismatch (txn 0x${BigInt.asUintN(64, zxid).toString(16)})`);
    return { zxid, sessionId: big(t[1], 'sessionId'), cxid: int(t[2], 'cxid'), time: big(t[3], 'time'), body: unpackBody(t[4]) };
  } catch (err) {
    throw new TxnCorruptError(`txn is damaged: ${(err as Error).message}`);
  }
}
