import { Packr } from 'msgpackr';
import type { Id } from '../../protocol/jute/data';

/**
 * What a learner sends its leader inside a REQUEST peer message: client writes it cannot decide
 * itself (the leader preps every txn), session lifecycle, and the sessions its clients touched.
 * The leader answers writes through the committed txn (matched by session id + cxid), and syncs
 * with a SYNC message.
 */
export type Forward =
  | { kind: 'write'; sessionId: bigint; cxid: number; opCode: number; body: Buffer; authIds: Id[] }
  | { kind: 'createSession'; sessionId: bigint; timeoutMs: number; passwd: Buffer }
  | { kind: 'closeSession'; sessionId: bigint }
  | { kind: 'touch'; sessions: bigint[] };

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });

export function encodeForward(f: Forward): Buffer {
  return packr.pack(f);
}

const isBig = (v: unknown): v is bigint => typeof v === 'bigint';
const isInt = (v: unknown): v is number => Number.isInteger(v);

/** Strict decode: a peer is trusted to be one of us, but a bug must not crash the leader. */
export function decodeForward(buf: Buffer): Forward {
  const v = packr.unpack(buf) as Record<string, unknown>;
  if (v === null || typeof v !== 'object') throw new Error('forward: not a map');
  // msgpackr decodes small integers as numbers even when they were bigints.
  const big = (x: unknown): bigint => (isBig(x) ? x : isInt(x) ? BigInt(x) : bad('bigint'));
  switch (v.kind) {
    case 'write':
      if (!isInt(v.cxid) || !isInt(v.opCode) || !Buffer.isBuffer(v.body) || !Array.isArray(v.authIds)) bad('write');
      return { kind: 'write', sessionId: big(v.sessionId), cxid: v.cxid as number, opCode: v.opCode as number, body: v.body as Buffer, authIds: (v.authIds as Id[]).map((i) => ({ scheme: String(i.scheme), id: String(i.id) })) };
    case 'createSession':
      if (!isInt(v.timeoutMs) || !Buffer.isBuffer(v.passwd)) bad('createSession');
      return { kind: 'createSession', sessionId: big(v.sessionId), timeoutMs: v.timeoutMs as number, passwd: v.passwd as Buffer };
    case 'closeSession':
      return { kind: 'closeSession', sessionId: big(v.sessionId) };
    case 'touch':
      if (!Array.isArray(v.sessions)) bad('touch');
      return { kind: 'touch', sessions: (v.sessions as unknown[]).map(big) };
    default:
      return bad(`kind ${String(v.kind)}`);
  }
}

function bad(what: string): never {
  throw new Error(`malformed forward: ${what}`);
}
