/**
 * ZooKeeper's AvgMinMaxCounter: count, sum, min and max of observed values since start (mntr and
 * the AdminServer print them as avg_/min_/max_/cnt_/sum_<name>). Sinks receive every observation
 * too: the Prometheus exporter attaches its summaries and histograms there, so nothing pays for
 * quantiles unless /metrics is served.
 */

/** BASIC summaries export the median; ADVANCED ones also the 0.9 and 0.99 quantiles (ZooKeeper's levels). */
export type SummaryLevel = 'basic' | 'advanced';

export type Sink = (value: number) => void;

export class SummaryStat {
  count = 0;
  sum = 0;
  min = 0;
  max = 0;
  private readonly sinks: Sink[] = [];

  constructor(
    readonly name: string,
    readonly level: SummaryLevel,
  ) {}

  add(value: number): void {
    this.min = this.count === 0 ? value : Math.min(this.min, value);
    this.max = this.count === 0 ? value : Math.max(this.max, value);
    this.count++;
    this.sum += value;
    for (const s of this.sinks) s(value);
  }

  get avg(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  attach(sink: Sink): void {
    this.sinks.push(sink);
  }

  /** mntr lines in DefaultMetricsProvider's order: avg, min, max, cnt, sum. */
  mntrEntries(): [string, number][] {
    return [
      [`avg_${this.name}`, this.avg],
      [`min_${this.name}`, this.min],
      [`max_${this.name}`, this.max],
      [`cnt_${this.name}`, this.count],
      [`sum_${this.name}`, this.sum],
    ];
  }
}

/** ZooKeeper's SummarySet: one summary per key (a peer id, a namespace), created on first use. */
export class SummarySet {
  readonly byKey = new Map<string, SummaryStat>();
  private readonly sinks: ((key: string, value: number) => void)[] = [];

  constructor(
    readonly name: string,
    readonly level: SummaryLevel,
  ) {}

  add(key: string, value: number): void {
    let s = this.byKey.get(key);
    if (!s) {
      s = new SummaryStat(`${key}_${this.name}`, this.level);
      this.byKey.set(key, s);
    }
    s.add(value);
    for (const sink of this.sinks) sink(key, value);
  }

  attach(sink: (key: string, value: number) => void): void {
    this.sinks.push(sink);
  }
}
