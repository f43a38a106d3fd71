import type { Id } from '../../protocol/jute/data';
import type { JuteReader } from '../../protocol/jute/reader';
import type { JuteWriter } from '../../protocol/jute/writer';
import type { ApplyResult, ZkDatabase } from '../tree';

export interface Caller {
  sessionId: bigint;
  authIds: readonly Id[];
}

export type WatchKind = 'data' | 'exist' | 'child';

/** What a read produced: the reply error, its body, and a watch to leave behind (if any). */
export interface ReadOutcome {
  err: number;
  encode?: (w: JuteWriter) => void;
  watch?: { path: string; kind: WatchKind };
}

export interface WriteReply {
  err: number;
  body?: (w: JuteWriter) => void;
}

interface OpBase {
  code: number;
  name: string;
  decode(r: JuteReader): unknown;
}

/** A read: answered from the tree at once, never mutates anything. */
export interface ReadOp extends OpBase {
  kind: 'read';
  /** Method syntax on purpose: each op narrows `req` to its own decoded record. */
  run(db: ZkDatabase, req: unknown, caller: Caller): ReadOutcome;
}

/** A write: prep makes the txn; `reply` turns the apply result into the reply body. */
export interface WriteOp extends OpBase {
  kind: 'write';
  reply(result: ApplyResult): WriteReply;
}

/** `check` sent on its own: only valid inside multi, answered Unimplemented by the server. */
export interface StandaloneCheckOp extends OpBase {
  kind: 'standaloneCheck';
}

export type Op = ReadOp | WriteOp | StandaloneCheckOp;
