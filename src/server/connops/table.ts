import type { ConnOp } from './types';
import { ping } from './ping';
import { auth } from './auth';
import { setWatches, setWatches2 } from './setWatches';
import { addWatch } from './addWatch';
import { checkWatches, removeWatches } from './watchChecks';
import { whoAmI } from './whoAmI';
import { sasl } from './sasl';
import { sync } from './sync';
import { closeSession } from './closeSession';
import { reconfig } from './reconfig';
import { resumeWatch } from './resumeWatch';

/** Connection-level ops by opcode. Tree ops live in src/ops/table.ts. */
export const connOpTable: ReadonlyMap<number, ConnOp> = new Map(
  [ping, auth, setWatches, setWatches2, addWatch, checkWatches, removeWatches, whoAmI, sasl, sync, closeSession, reconfig, resumeWatch].map(
    (op) => [op.code, op],
  ),
);

export type { ConnOp, ConnOpHost } from './types';
