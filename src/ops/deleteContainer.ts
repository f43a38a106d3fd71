import { OpCode } from '../../protocol/jute/constants';
import type { JuteReader } from '../../protocol/jute/reader';
import type { WriteOp } from './types';

/**
 * deleteContainer (20): internal only. Housekeeping submits it (body `{path}`) for empty containers
 * and expired TTL nodes; it is deliberately absent from the client op table, so a client sending
 * opcode 20 gets Unimplemented like any unknown opcode.
 */
export const deleteContainerOp: WriteOp = {
  code: OpCode.deleteContainer,
  name: 'deleteContainer',
  kind: 'write',
  decode: (r: JuteReader) => ({ path: r.readUstring() }),
  reply: (res) => ({ err: res.err }),
};
