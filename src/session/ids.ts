/**
 * Session ids in ZooKeeper's layout (SessionTrackerImpl.initializeNextSessionId):
 *   first = ((startMs << 24) >>> 8) | (serverId << 56)   -- Java long arithmetic
 * so the top byte is the server id, bits 16..55 hold the low 40 bits of the start time, and the
 * low bits count up per session. Ids are signed 64-bit on the wire; we keep them as signed bigints.
 */

const MASK64 = (1n << 64n) - 1n;

function firstSessionId(serverId: number, startMs: number): bigint {
  // Java: (t << 24) wraps at 64 bits, then >>> 8 is an unsigned shift.
  const shifted = ((BigInt(startMs) << 24n) & MASK64) >> 8n;
  const withServer = shifted | ((BigInt(serverId) << 56n) & MASK64);
  let id = BigInt.asIntN(64, withServer);
  // The container marker (Long.MIN_VALUE) must never be a session id: it would read as a container owner.
  if (id === -(1n << 63n)) id += 1n;
  return id;
}

/** The server id a session id was minted by (its top byte, unsigned). */
export function sessionServerId(sid: bigint): number {
  return Number(BigInt.asUintN(64, sid) >> 56n);
}

export class SessionIdGenerator {
  private readonly serverByte: number;
  private nextId: bigint;

  constructor(opts: { serverId: number; startMs: number }) {
    if (!Number.isInteger(opts.serverId) || opts.serverId < 0) throw new RangeError(`bad serverId ${opts.serverId}`);
    this.serverByte = opts.serverId & 0xff;
    this.nextId = firstSessionId(opts.serverId, opts.startMs);
  }

  next(): bigint {
    const id = this.nextId;
    this.nextId = BigInt.asIntN(64, id + 1n);
    return id;
  }

  /** Peek without consuming. */
  peek(): bigint {
    return this.nextId;
  }

  /**
   * A session id seen in recovered state: if it came from this server's id space and is not below
   * our counter, jump past it so a restarted server with a slow clock never reuses an id.
   */
  observe(sid: bigint): void {
    if (sessionServerId(sid) !== this.serverByte) return;
    if (sid >= this.nextId) this.nextId = BigInt.asIntN(64, sid + 1n);
  }
}

/** ZooKeeperServer.processConnectRequest: clamp the requested timeout into [min, max]. */
export function negotiateTimeout(requested: number, o: { minSessionTimeoutMs: number; maxSessionTimeoutMs: number }): number {
  if (requested < o.minSessionTimeoutMs) return o.minSessionTimeoutMs;
  if (requested > o.maxSessionTimeoutMs) return o.maxSessionTimeoutMs;
  return requested;
}
