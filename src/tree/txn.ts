import { Packr } from 'msgpackr';
import type { ACL } from '../../protocol/jute/data';
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

// Records off so the bytes do not depend on structure-sharing state; 64-bit ints decode as bigint.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

/** Txn -> bytes for the log (msgpack; bigints as 64-bit ints, Buffers as bin). */
export function encodeTxn(txn: Txn): Buffer {
  return packr.pack(txn);
}

const TXN_TYPES: ReadonlySet<string> = new Set<TxnType>([
  'createSession', 'closeSession', 'create', 'delete', 'setData', 'setACL', 'check', 'multi', 'error', 'multiError',
]);

/** Bytes -> Txn. Throws on anything that is not a well-formed txn. */
export function decodeTxn(buf: Buffer): Txn {
  const t = packr.unpack(buf) as Txn;
  if (t === null || typeof t !== 'object') throw new Error('txn is not an object');
  if (typeof t.zxid !== 'bigint' || typeof t.sessionId !== 'bigint' || typeof t.time !== 'bigint') {
    throw new Error('txn header fields have the wrong types');
  }
  checkBody(t.body);
  return t;
}

function checkBody(body: TxnBody): void {
  if (body === null || typeof body !== 'object' || !TXN_TYPES.has(body.type)) throw new Error('unknown txn body type');
  if (body.type === 'multi') body.ops.forEach(checkBody);
}
