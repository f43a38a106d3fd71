import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** A turn longer than this is logged with what ran in it. */
export const SLOW_TURN_MS = 100;
/** Timed sections at least this long are remembered for the slow-turn log. */
const NOTABLE_MS = 5;
const PROBE_MS = 20;

interface Section {
  label: string;
  at: number;
  ms: number;
}

/**
 * Event-loop lag: a histogram of timer delays (perf_hooks) exported as metrics, and a probe timer
 * that notices when a turn blocked the loop for more than SLOW_TURN_MS and logs it together with
 * the timed sections (`timed(label, fn)`) that ran during that stall — so a stall names its cause
 * (a snapshot chunk, a commit batch, a 4lw dump) instead of being a mystery in a latency graph.
 * One per process: timed() is called from all over the shell.
 */
class LoopLag {
  private hist: IntervalHistogram | undefined;
  private probe: NodeJS.Timeout | undefined;
  private logger: Logger | undefined;
  private recent: Section[] = [];
  private users = 0;
  private maxStallMs = 0;
  private slowTurns = 0;

  start(logger: Logger): void {
    this.logger = logger;
    if (this.users++ > 0) return;
    this.hist = monitorEventLoopDelay({ resolution: 10 });
    this.hist.enable();
    let last = performance.now();
    this.probe = setInterval(() => {
      const now = performance.now();
      const stall = now - last - PROBE_MS;
      last = now;
      if (stall > this.maxStallMs) this.maxStallMs = stall;
      if (stall > SLOW_TURN_MS) this.reportStall(stall, now);
      this.recent = this.recent.filter((s) => s.at > now - 5_000);
    }, PROBE_MS);
    this.probe.unref();
  }

  stop(): void {
    if (--this.users > 0) return;
    this.hist?.disable();
    if (this.probe) clearInterval(this.probe);
    this.hist = undefined;
    this.probe = undefined;
  }

  /** Runs fn, remembering it when it took long; a single section over SLOW_TURN_MS is logged at once. */
  timed<T>(label: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const ms = performance.now() - t0;
      if (ms >= NOTABLE_MS) this.recent.push({ label, at: t0 + ms, ms });
    }
  }

  private reportStall(stallMs: number, now: number): void {
    this.slowTurns++;
    const during = this.recent.filter((s) => s.at >= now - stallMs - PROBE_MS);
    const ran = during.map((s) => `${s.label} ${s.ms.toFixed(0)} ms`);
    this.logger?.warn({ stallMs: Math.round(stallMs), ran: ran.length > 0 ? ran : ['(nothing timed: GC or untracked code)'] }, 'slow event-loop turn');
  }

  metrics(): [string, number][] {
    const h = this.hist;
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e5) / 10 : 0);
    return [
      ['zabkeeper_event_loop_lag_p99_ms', h ? ms(h.percentile(99)) : 0],
      ['zabkeeper_event_loop_lag_max_ms', Math.round(Math.max(this.maxStallMs, h ? h.max / 1e6 - 10 : 0))],
      ['zabkeeper_slow_turns', this.slowTurns],
    ];
  }

  /** `srst`-style reset of the maxima. */
  reset(): void {
    this.hist?.reset();
    this.maxStallMs = 0;
  }
}

export const loopLag = new LoopLag();

/** Shorthand for loopLag.timed. */
export function timed<T>(label: string, fn: () => T): T {
  return loopLag.timed(label, fn);
}
