/** A free TCP port on 127.0.0.1, below the ephemeral range (see zk-process.ts freePort). */
export { freePort } from '../../scripts/lib/zk-process';
