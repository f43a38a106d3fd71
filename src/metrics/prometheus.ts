import http from 'node:http';
import v8 from 'node:v8';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Histogram, Registry, Summary } from 'prom-client';
import type { MetricsConfig } from '../config/operations';
import { CATALOG, ZABKEEPER_METRICS, type CatalogMetric, type MetricsView } from './catalog';
import type { ServerMetrics } from './hub';
import type { SummaryLevel, SummaryStat } from './summary';
import { listen, closeServer } from '../util/http';
import { loopLag } from './looplag';

/** ZooKeeper's PrometheusMetricsProvider: 10-minute windows; BASIC = median, ADVANCED = 0.5/0.9/0.99. */
const PERCENTILES: Record<SummaryLevel, number[]> = { basic: [0.5], advanced: [0.5, 0.9, 0.99] };
const WINDOW = { maxAgeSeconds: 600, ageBuckets: 5 };

interface Sample {
  value: number;
  labels: Partial<Record<string, string | number>>;
  metricName?: string;
}

/** The shape prom-client's Registry accepts for a metric it does not own. */
interface CustomMetric {
  name: string;
  help: string;
  type: string;
  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' }>;
  reset(): void;
}

function help(name: string): string {
  const m = ZABKEEPER_METRICS.find((x) => x.name === name);
  if (!m) throw new Error(`${name} is not in the metrics catalog`);
  return m.help;
}

function custom(name: string, help: string, type: string, values: () => Sample[] | Promise<Sample[]>): CustomMetric {
  return {
    name,
    help,
    type,
    get: async () => ({ name, help, type, values: await values(), aggregator: 'sum' }),
    reset: () => undefined,
  };
}

/**
 * A summary whose quantiles come from prom-client's sliding window but whose _sum and _count are
 * the server's cumulative totals, so observations made before the exporter existed (the database
 * load at start) still count, and counts never go backwards.
 */
function cumulativeSummary(summary: Summary, name: string, help: string, totals: (labels: Sample['labels']) => SummaryStat | undefined): CustomMetric {
  return custom(name, help, 'summary', async () => {
    const got = await summary.get();
    return got.values.map((s) => {
      const stat = totals(s.labels);
      if (stat && s.metricName === `${name}_sum`) return { ...s, value: stat.sum };
      if (stat && s.metricName === `${name}_count`) return { ...s, value: stat.count };
      return s as Sample;
    });
  });
}

/**
 * The Prometheus endpoint: metricsProvider.httpHost:httpPort serving /metrics in text format
 * 0.0.4. Gauges and counters are read from the server's live state on each scrape (the same
 * values mntr prints); summaries and histograms are fed by the server's observations.
 */
export class PrometheusExporter {
  readonly registry = new Registry();
  private view: MetricsView | undefined;
  private server: http.Server | undefined;

  constructor(
    private readonly cfg: MetricsConfig,
    private readonly source: () => MetricsView,
    hub: ServerMetrics,
    private readonly logger: Logger,
  ) {
    for (const m of CATALOG) this.registry.registerMetric(this.build(m, hub) as never);
    this.addOwnMetrics(hub);
    if (cfg.exportJvmInfo) {
      collectDefaultMetrics({ register: this.registry });
      this.addJvmNames();
    }
  }

  /** Starts listening; resolves with the bound port. */
  async start(): Promise<number> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    const port = await listen(this.server, this.cfg.httpHost, this.cfg.httpPort);
    this.logger.info({ host: this.cfg.httpHost, port }, 'Prometheus metrics at /metrics');
    return port;
  }

  /** The exposition text of one scrape. */
  async render(): Promise<string> {
    this.view = this.source();
    try {
      return await this.registry.metrics();
    } finally {
      this.view = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    try {
      const body = await this.render();
      res.writeHead(200, { 'Content-Type': this.registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      this.logger.error({ err }, 'metrics scrape failed');
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n');
    }
  }

  private current(): MetricsView {
    return this.view ?? this.source();
  }

  private build(m: CatalogMetric, hub: ServerMetrics): CustomMetric {
    switch (m.kind) {
      case 'gauge':
      case 'counter':
        return custom(m.name, m.help, m.kind, () => {
          const v = m.value(this.current());
          return v === undefined ? [] : [{ value: v, labels: {} }];
        });
      case 'gaugeSet':
      case 'counterSet':
        return custom(m.name, m.help, m.kind === 'gaugeSet' ? 'gauge' : 'counter', () => m.values(this.current()).map(([key, value]) => ({ value, labels: { key } })));
      case 'summary': {
        const stat = m.stat(hub);
        const s = new Summary({ name: m.name, help: m.help, percentiles: PERCENTILES[stat.level], ...WINDOW, registers: [] });
        stat.attach((v) => s.observe(v));
        return cumulativeSummary(s, m.name, m.help, () => stat);
      }
      case 'summarySet': {
        const set = m.set(hub);
        const s = new Summary({ name: m.name, help: m.help, labelNames: ['key'], percentiles: PERCENTILES[set.level], ...WINDOW, registers: [] });
        set.attach((key, v) => s.observe({ key }, v));
        return cumulativeSummary(s, m.name, m.help, (labels) => set.byKey.get(String(labels.key)));
      }
    }
  }

  private addOwnMetrics(hub: ServerMetrics): void {
    const r = [this.registry];
    const batch = new Histogram({ name: 'zabkeeper_group_commit_batch_size', help: help('zabkeeper_group_commit_batch_size'), buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024], registers: r });
    hub.sync_processor_batch_size.attach((n) => batch.observe(n));
    const fsync = new Histogram({ name: 'zabkeeper_fsync_seconds', help: help('zabkeeper_fsync_seconds'), buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers: r });
    hub.fsynctime.attach((ms) => fsync.observe(ms / 1000));
    const rtt = new Summary({ name: 'zabkeeper_peer_rtt_seconds', help: help('zabkeeper_peer_rtt_seconds'), labelNames: ['peer'], percentiles: [0.5, 0.9, 0.99], ...WINDOW, registers: r });
    hub.peer_rtt.attach((peer, ms) => rtt.observe({ peer }, ms / 1000));
    this.registry.registerMetric(custom('zabkeeper_event_loop_lag_seconds', help('zabkeeper_event_loop_lag_seconds'), 'summary', () => this.eventLoopSamples()) as never);
    this.registry.registerMetric(custom('zabkeeper_committed_txns_total', help('zabkeeper_committed_txns_total'), 'counter', () => [{ value: this.current().stats.txnsCommitted, labels: {} }]) as never);
    this.registry.registerMetric(custom('zabkeeper_snapshots_total', help('zabkeeper_snapshots_total'), 'counter', () => [{ value: this.current().stats.snapshotsTaken, labels: {} }]) as never);
  }

  /** The server's one event-loop monitor (looplag): quantiles over the last minute, _sum/_count since start. */
  private eventLoopSamples(): Sample[] {
    const name = 'zabkeeper_event_loop_lag_seconds';
    const s = loopLag.summary([0.5, 0.9, 0.99]);
    return [
      ...s.quantiles.map(([quantile, value]) => ({ value, labels: { quantile } })),
      { value: s.maxSeconds, labels: { quantile: 1 } },
      { metricName: `${name}_sum`, value: s.sumSeconds, labels: {} },
      { metricName: `${name}_count`, value: s.count, labels: {} },
    ];
  }

  /** The ZooKeeper dashboards chart JVM memory; the Node heap is the closest equivalent. */
  private addJvmNames(): void {
    this.registry.registerMetric(custom('jvm_memory_bytes_used', help('jvm_memory_bytes_used'), 'gauge', () => {
      const m = process.memoryUsage();
      return [
        { value: m.heapUsed, labels: { area: 'heap' } },
        // Resident memory outside the JS heap (buffers, SQLite, the tree's columns as far as they are
        // used): not m.external, which leaves out the large tree columns (SharedArrayBuffers,
        // tree/columns.ts) and would count their untouched room if they were ArrayBuffers.
        { value: Math.max(0, m.rss - m.heapTotal), labels: { area: 'nonheap' } },
      ];
    }) as never);
    this.registry.registerMetric(custom('jvm_memory_bytes_max', help('jvm_memory_bytes_max'), 'gauge', () => [{ value: v8.getHeapStatistics().heap_size_limit, labels: { area: 'heap' } }]) as never);
  }
}
