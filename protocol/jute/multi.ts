/**
 * multi (14) and multiRead (22) bodies: a sequence of MultiHeader + sub-record pairs closed by a
 * `done` header (type -1, done true, err -1). See zk-wire-facts.md §8.
 *
 * The codec accepts the union of write and read sub-ops in either direction; whether a list mixes
 * reads and writes, or suits the outer opcode, is a semantic check left to the server.
 */
import { ErrorCode, OpCode } from './constants';
import type { Stat } from './data';
import { JuteDecodeError } from './errors';
import type { JuteReader } from './reader';
import * as rec from './records';
import type { JuteWriter } from './writer';

export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}
export function readMultiHeader(r: JuteReader): MultiHeader {
  return { type: r.readInt(), done: r.readBool(), err: r.readInt() };
}
export function writeMultiHeader(w: JuteWriter, v: MultiHeader): void {
  w.writeInt(v.type);
  w.writeBool(v.done);
  w.writeInt(v.err);
}

/** The header that terminates both MultiOperationRecord and MultiResponse. */
export const MULTI_DONE: Readonly<MultiHeader> = Object.freeze({ type: -1, done: true, err: -1 });

// ------------------------------------------------------------------ requests

export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; request: rec.CreateRequest }
  | { type: typeof OpCode.createTTL; request: rec.CreateTTLRequest }
  | { type: typeof OpCode.delete; request: rec.DeleteRequest }
  | { type: typeof OpCode.setData; request: rec.SetDataRequest }
  | { type: typeof OpCode.check; request: rec.CheckVersionRequest }
  | { type: typeof OpCode.getData; request: rec.GetDataRequest }
  | { type: typeof OpCode.getChildren; request: rec.GetChildrenRequest };

export type MultiOpType = MultiOp['type'];

interface SubCodec {
  read(r: JuteReader): unknown;
  write(w: JuteWriter, v: never): void;
}

/** Sub-op type -> request record codec. Anything else inside a multi is a decode error. */
const requestCodecs: ReadonlyMap<number, SubCodec> = new Map<number, SubCodec>([
  [OpCode.create, { read: rec.readCreateRequest, write: rec.writeCreateRequest }],
  [OpCode.create2, { read: rec.readCreateRequest, write: rec.writeCreateRequest }],
  [OpCode.createContainer, { read: rec.readCreateRequest, write: rec.writeCreateRequest }],
  [OpCode.createTTL, { read: rec.readCreateTTLRequest, write: rec.writeCreateTTLRequest }],
  [OpCode.delete, { read: rec.readDeleteRequest, write: rec.writeDeleteRequest }],
  [OpCode.setData, { read: rec.readSetDataRequest, write: rec.writeSetDataRequest }],
  [OpCode.check, { read: rec.readCheckVersionRequest, write: rec.writeCheckVersionRequest }],
  [OpCode.getData, { read: rec.readGetDataRequest, write: rec.writeGetDataRequest }],
  [OpCode.getChildren, { read: rec.readGetChildrenRequest, write: rec.writeGetChildrenRequest }],
]);

/** Sub-op types allowed in multiRead (22); everything else in the table belongs to multi (14). */
export const MULTI_READ_OP_TYPES: ReadonlySet<number> = new Set([OpCode.getData, OpCode.getChildren]);

export function isMultiOpType(type: number): type is MultiOpType {
  return requestCodecs.has(type);
}

function codecFor<C>(table: ReadonlyMap<number, C>, type: number, what: string, at: number): C {
  const codec = table.get(type);
  if (!codec) throw new JuteDecodeError(`unknown ${what} type ${type} at offset ${at}`);
  return codec;
}

/** MultiOperationRecord. Each header is 9 bytes, so the op count is bounded by the frame size. */
export function readMultiRequest(r: JuteReader): MultiOp[] {
  const ops: MultiOp[] = [];
  for (;;) {
    const at = r.offset;
    const h = readMultiHeader(r);
    if (h.done) return ops;
    const codec = codecFor(requestCodecs, h.type, 'multi op', at);
    ops.push({ type: h.type, request: codec.read(r) } as MultiOp);
  }
}

export function writeMultiRequest(w: JuteWriter, ops: readonly MultiOp[]): void {
  for (const op of ops) {
    writeMultiHeader(w, { type: op.type, done: false, err: -1 });
    codecFor(requestCodecs, op.type, 'multi op', w.length).write(w, op.request as never);
  }
  writeMultiHeader(w, MULTI_DONE);
}

// ------------------------------------------------------------------ responses

export type OpResult =
  | { type: typeof OpCode.create; path: string }
  | { type: typeof OpCode.create2; path: string; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.error; err: number }
  | { type: typeof OpCode.getData; data: Buffer | null; stat: Stat }
  | { type: typeof OpCode.getChildren; children: string[] };

type ResultOf<T extends OpResult['type']> = Extract<OpResult, { type: T }>;

interface ResultCodec {
  read(r: JuteReader): OpResult;
  write(w: JuteWriter, v: never): void;
}

function resultCodec<T extends OpResult['type']>(
  type: T,
  read: (r: JuteReader) => Omit<ResultOf<T>, 'type'>,
  write: (w: JuteWriter, v: ResultOf<T>) => void,
): [number, ResultCodec] {
  return [type, { read: (r) => ({ type, ...read(r) }) as OpResult, write }];
}

const noBody = (): object => ({});
const writeNothing = (): void => undefined;

/** Result type -> body codec. The body layouts are the plain response records. */
const resultCodecs: ReadonlyMap<number, ResultCodec> = new Map<number, ResultCodec>([
  resultCodec(OpCode.create, rec.readCreateResponse, rec.writeCreateResponse),
  resultCodec(OpCode.create2, rec.readCreate2Response, rec.writeCreate2Response),
  resultCodec(OpCode.delete, noBody, writeNothing),
  resultCodec(OpCode.setData, rec.readSetDataResponse, rec.writeSetDataResponse),
  resultCodec(OpCode.check, noBody, writeNothing),
  resultCodec(OpCode.error, rec.readErrorResponse, rec.writeErrorResponse),
  resultCodec(OpCode.getData, rec.readGetDataResponse, rec.writeGetDataResponse),
  resultCodec(OpCode.getChildren, rec.readGetChildrenResponse, rec.writeGetChildrenResponse),
]);

/** MultiResponse. An error result repeats its code in the header's err field; others send 0. */
export function writeMultiResponse(w: JuteWriter, results: readonly OpResult[]): void {
  for (const res of results) {
    const err = res.type === OpCode.error ? res.err : ErrorCode.ok;
    writeMultiHeader(w, { type: res.type, done: false, err });
    codecFor(resultCodecs, res.type, 'multi result', w.length).write(w, res as never);
  }
  writeMultiHeader(w, MULTI_DONE);
}

export function readMultiResponse(r: JuteReader): OpResult[] {
  const results: OpResult[] = [];
  for (;;) {
    const at = r.offset;
    const h = readMultiHeader(r);
    if (h.done) return results;
    results.push(codecFor(resultCodecs, h.type, 'multi result', at).read(r));
  }
}

/**
 * The results of a multi that failed at `failedIndex` with `err`: nothing was applied, ops before it
 * report 0, the failing op its code, later ops RuntimeInconsistency (all as error results).
 */
export function failedMultiResults(count: number, failedIndex: number, err: number): OpResult[] {
  const codeAt = (i: number): number =>
    i < failedIndex ? ErrorCode.ok : i === failedIndex ? err : ErrorCode.runtimeInconsistency;
  return Array.from({ length: count }, (_, i) => ({ type: OpCode.error, err: codeAt(i) }));
}
