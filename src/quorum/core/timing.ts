/**
 * How zoo.cfg's timing (tickTime, initLimit, syncLimit) becomes the core's tick-based limits. One
 * function, used by the production shell and by the simulator, so both run the same arithmetic.
 *
 * The core counts time in tenths of a tickTime. Counting whole ticks made every limit exact only up
 * to one tick: a follower gives up on a silent leader after between syncLimit-1 and syncLimit ticks
 * of silence (depending on where in its tick the last message arrived), so the leader's lease could
 * only be syncLimit-2 ticks long — zero with ZooKeeper's Getting Started syncLimit=2, negative with
 * syncLimit=1: the leader stepped down one tick after every election. With tenths the rounding costs
 * a tenth of a tick instead, and every limit ZooKeeper accepts (>= 1) leaves a usable lease.
 */
export interface TimingConfig {
  tickTimeMs: number;
  initLimit: number;
  syncLimit: number;
}

export interface QuorumTiming {
  /** Real time of one core tick. */
  coreTickMs: number;
  /** Broadcast phase: a follower leaves a leader silent this long; a leader's lease is one tick less. */
  syncLimitTicks: number;
  /** Discovery + synchronization must finish within this many core ticks. */
  initLimitTicks: number;
  /** FLE notification re-broadcast period while LOOKING (the core jitters it up to 2x). */
  electionTimeoutTicks: number;
  /** Leader PINGs (lease renewal) every this many core ticks. */
  pingIntervalTicks: number;
}

/** Core ticks per zoo.cfg tick. */
export const TICK_DIVISIONS = 10;
/**
 * Floor of one core tick. ZooKeeper accepts tickTime=1, but a lease of a few milliseconds cannot
 * outlive one garbage collection: below tickTime=100 the quorum limits are counted as if tickTime
 * were 100 (more patient, never less; sessions still use the configured tickTime).
 */
export const CORE_TICK_MS_MIN = 10;

export function quorumTiming(t: TimingConfig): QuorumTiming {
  if (!(t.tickTimeMs > 0) || t.syncLimit < 1 || t.initLimit < 1) throw new Error(`invalid quorum timing ${JSON.stringify(t)}`);
  const coreTickMs = Math.max(CORE_TICK_MS_MIN, t.tickTimeMs / TICK_DIVISIONS);
  return {
    coreTickMs,
    syncLimitTicks: t.syncLimit * TICK_DIVISIONS,
    initLimitTicks: t.initLimit * TICK_DIVISIONS,
    electionTimeoutTicks: TICK_DIVISIONS,
    // Ten renewals per tick: with syncLimit=1 the lease (9 core ticks) survives a round trip of
    // most of a tick, and a follower confirms its contact with the leader every tenth of a tick.
    pingIntervalTicks: 1,
  };
}

/**
 * How long a follower keeps serving a client without proof that its leader hears it: a quarter of
 * that client's session timeout (issue 9 item 8: two lock holders across a partition).
 *
 * Let T be the session timeout, r the moment the follower sent the newest echo its leader
 * confirmed (everything it sent before r, session touches included, reached the leader), g one
 * core tick (tickTime/10; ZkServer reports touches and checks contact once per core tick). An idle
 * client pings at least every T/2 (Java and kazoo every T/3; our client every T/3, checked every
 * T/6), so the leader heard of the session at some time >= r - g - T/2 and cannot expire it before
 * r + T/2 - g. The follower closes the connection — the client sees Disconnected (Curator:
 * SUSPENDED) at once and moves to a server that has a quorum — by r + T/4 + 2g (contact counted in
 * whole core ticks, checked every core tick). Sessions are at least minSessionTimeout = 2 x
 * tickTime by default, so g <= T/20: the client is told by r + 0.35 T, the leader cannot act before
 * r + 0.45 T, and a lock holder stops acting as holder before its lock can be given to someone
 * else. The price: a follower whose round trips with its leader stall for T/4 - 2g (800 ms for a
 * 4 s session) disconnects that client, which resumes its session on another server.
 */
export function contactLimitMs(sessionTimeoutMs: number): number {
  return sessionTimeoutMs / 4;
}
