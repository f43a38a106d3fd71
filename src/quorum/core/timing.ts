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
  return {
    coreTickMs: Math.max(CORE_TICK_MS_MIN, t.tickTimeMs / TICK_DIVISIONS),
    syncLimitTicks: t.syncLimit * TICK_DIVISIONS,
    initLimitTicks: t.initLimit * TICK_DIVISIONS,
    electionTimeoutTicks: TICK_DIVISIONS,
    // Five renewals per tick: with syncLimit=1 the lease (9 core ticks) survives a round trip of
    // more than half a tick.
    pingIntervalTicks: 2,
  };
}
