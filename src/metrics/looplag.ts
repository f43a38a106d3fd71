import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** A turn longer than this is logged with what ran in it. */
export const SLOW_TURN_MS = 100;
/** Timed sections at least this long are remembered for the slow-turn log. */
const NOTABLE_MS = 5;
const PROBE_MS = 20;
const RESOLUTION_MS = 10;
/** The delay histogram covers this window (Prometheus quantiles); sum and count accumulate across windows. */
const WINDOW_MS = 60_000;

/** The event-loop delay summary the Prometheus exporter publishes (seconds). */
export interface LoopLagSummary {
  /** [quantile, seconds] of the current window; NaN when it has no samples yet. */
  quantiles: [number, number][];
  maxSeconds: number;
  sumSeconds: number;
  count: number;
}

interface Section {
  label: string;
  at: number;
  ms: number;
  /** CPU time the process (all its threads) used meanwhile: far below ms means the machine starved us, not the code. */
  cpuMs: number;
}

/** User + system CPU time of this process, ms. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Event-loop lag: a histogram of timer delays (perf_hooks) exported as metrics, and a probe timer
 * that notices when a turn blocked the loop for more than SLOW_TURN_MS and logs it together with
 * the timed sections (`timed(label, fn)`) that ran during that stall — so a stall names its cause
 * (a snapshot chunk, a commit batch, a 4lw dump) instead of being a mystery in a latency graph.
 * One per process and the only event-loop monitor: timed() is called from all over the shell, and
 * both mntr and the Prometheus exporter read their figures from here.
 */
class LoopLag {
  private hist: IntervalHistogram | undefined;
  private probe: NodeJS.Timeout | undefined;
  private roller: NodeJS.Timeout | undefined;
  /** Samples of past windows, and the largest delay seen since the last reset. */
  private readonly totals = { count: 0, sumNs: 0 };
  private rolledMaxMs = 0;
  private logger: Logger | undefined;
  private recent: Section[] = [];
  private users = 0;
  private maxStallMs = 0;
  private slowTurns = 0;

  start(logger: Logger): void {
    this.logger = logger;
    if (this.users++ > 0) return;
    this.hist = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.hist.enable();
    this.roller = setInterval(() => this.roll(), WINDOW_MS);
    this.roller.unref();
    let last = performance.now();
    let lastCpu = cpuNow();
    this.probe = setInterval(() => {
      const now = performance.now();
      const cpu = cpuNow();
      const stall = now - last - PROBE_MS;
      const cpuMs = cpu - lastCpu;
      last = now;
      lastCpu = cpu;
      if (stall > this.maxStallMs) this.maxStallMs = stall;
      if (stall > SLOW_TURN_MS) this.reportStall(stall, cpuMs, now);
      this.recent = this.recent.filter((s) => s.at > now - 5_000);
    }, PROBE_MS);
    this.probe.unref();
  }

  stop(): void {
    if (--this.users > 0) return;
    this.hist?.disable();
    if (this.probe) clearInterval(this.probe);
    if (this.roller) clearInterval(this.roller);
    this.hist = undefined;
    this.probe = undefined;
    this.roller = undefined;
  }

  /** Starts a new window, folding the old one into the running totals. */
  private roll(): void {
    const h = this.hist;
    if (!h || h.count === 0) return;
    this.totals.count += h.count;
    this.totals.sumNs += h.mean * h.count;
    this.rolledMaxMs = Math.max(this.rolledMaxMs, this.windowMaxMs());
    h.reset();
  }

  /** The histogram records timer delays including its own resolution. */
  private windowMaxMs(): number {
    const h = this.hist;
    return h && h.count > 0 ? Math.max(0, h.max / 1e6 - RESOLUTION_MS) : 0;
  }

  /** Runs fn, remembering it when it took long; a single section over SLOW_TURN_MS is logged at once. */
  timed<T>(label: string, fn: () => T): T {
    const t0 = performance.now();
    const cpu0 = cpuNow();
    try {
      return fn();
    } finally {
      const ms = performance.now() - t0;
      if (ms >= NOTABLE_MS) this.recent.push({ label, at: t0 + ms, ms, cpuMs: cpuNow() - cpu0 });
    }
  }

  /** cpuMs is the process's CPU time over the probe interval that contains the stall (all threads). */
  private reportStall(stallMs: number, cpuMs: number, now: number): void {
    this.slowTurns++;
    const during = this.recent.filter((s) => s.at >= now - stallMs - PROBE_MS);
    const ran = during.map((s) => `${s.label} ${s.ms.toFixed(0)} ms (cpu ${s.cpuMs.toFixed(0)} ms)`);
    this.logger?.warn({ stallMs: Math.round(stallMs), cpuMs: Math.round(cpuMs), ran: ran.length > 0 ? ran : ['(nothing timed: GC or untracked code)'] }, 'slow event-loop turn');
  }

  /** mntr's figures: p99 of the current window, the longest stall since start or `srst`. */
  metrics(): [string, number][] {
    const h = this.hist;
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e5) / 10 : 0);
    return [
      ['zabkeeper_event_loop_lag_p99_ms', h && h.count > 0 ? ms(h.percentile(99)) : 0],
      ['zabkeeper_event_loop_lag_max_ms', Math.round(Math.max(this.maxStallMs, this.rolledMaxMs, this.windowMaxMs()))],
      ['zabkeeper_slow_turns', this.slowTurns],
    ];
  }

  /** Prometheus' summary: quantiles and max of the current window, sum and count since start. */
  summary(quantiles: number[]): LoopLagSummary {
    const h = this.hist;
    const n = h?.count ?? 0;
    return {
      quantiles: quantiles.map((q) => [q, h && n > 0 ? h.percentile(q * 100) / 1e9 : Number.NaN]),
      maxSeconds: h && n > 0 ? h.max / 1e9 : Number.NaN,
      sumSeconds: (this.totals.sumNs + (h && n > 0 ? h.mean * n : 0)) / 1e9,
      count: this.totals.count + n,
    };
  }

  /** `srst`-style reset of the maxima (the totals keep counting, as counters do). */
  reset(): void {
    this.roll();
    this.maxStallMs = 0;
    this.rolledMaxMs = 0;
  }
}

export const loopLag = new LoopLag();

/** Shorthand for loopLag.timed. */
export function timed<T>(label: string, fn: () => T): T {
  return loopLag.timed(label, fn);
}
