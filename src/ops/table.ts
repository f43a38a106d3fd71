import { checkOp } from './check';
import { createOp } from './create';
import { create2Op } from './create2';
import { createContainerOp } from './createContainer';
import { createTTLOp } from './createTTL';
import { deleteOp } from './delete';
import { existsOp } from './exists';
import { getACLOp } from './getACL';
import { getAllChildrenNumberOp } from './getAllChildrenNumber';
import { getChildrenOp } from './getChildren';
import { getChildren2Op } from './getChildren2';
import { getDataOp } from './getData';
import { getEphemeralsOp } from './getEphemerals';
import { multiOp } from './multi';
import { multiReadOp } from './multiRead';
import { setACLOp } from './setACL';
import { setDataOp } from './setData';
import type { Op } from './types';

/**
 * Opcode -> handler for every data op a client may send. Connection-level ops (ping, auth,
 * setWatches, sync, ...) live in the server's connop table; deleteContainer (20) is internal and
 * deliberately not here.
 */
const ops: readonly Op[] = [
  createOp, create2Op, createContainerOp, createTTLOp, deleteOp, setDataOp, setACLOp, multiOp,
  existsOp, getDataOp, getACLOp, getChildrenOp, getChildren2Op, multiReadOp, getEphemeralsOp, getAllChildrenNumberOp,
  checkOp,
];

export const opTable: ReadonlyMap<number, Op> = new Map(ops.map((op) => [op.code, op]));
