export { opTable } from './table';
export { deleteContainerOp } from './deleteContainer';
export type { Op, ReadOp, WriteOp, StandaloneCheckOp, Caller, ReadOutcome, WriteReply, WatchKind } from './types';
