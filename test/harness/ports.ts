/** A free TCP port on 127.0.0.1 (the OS picks it; a tiny race with other processes is accepted). */
export { freePort } from '../../scripts/lib/zk-process';
