/**
 * Config hot-reload demo.
 *
 *   npm run demo:config -- [--connect 127.0.0.1:2181] [--workers 3] [--path /demo/config/app]
 *
 * Worker processes (this file with `--role worker`) each hold a typed config (lib/appConfig.ts)
 * through the ConfigWatcher recipe, a persistent watch on one znode. The orchestrator then:
 *   1. writes versions one at a time and waits until every worker has applied each one;
 *   2. writes an invalid value: workers report it and keep the last good config;
 *   3. writes a burst of versions back to back: workers may skip intermediate versions (a watcher
 *      re-reads the node, it does not replay history) but must all end on the last one;
 *   4. starts one more worker late: it loads the current value at start.
 * Prints a timeline and, last, one JSON summary line (per-version delivery latency, convergence).
 */
import { Command } from 'commander';
import { BoundedExponentialBackoff, NodeExistsError, createClient, type ClientOptions, type ZkClient } from '../../src/client';
import { ConfigWatcher } from '../../src/recipes';
import { DemoChild, DEFAULT_CONNECT, Timeline, intOption, makeReporter, printSummary, siblingScript, waitFor, type ChildEvent } from './lib/common';
import { demoConfig, encodeAppConfig, parseAppConfig, type AppConfig } from './lib/appConfig';

interface Args {
  role: 'orchestrator' | 'worker';
  connect: string;
  workers: number;
  path: string;
  sessionTimeoutMs: number;
  boundMs: number;
  burst: number;
  workerId: string;
  json: boolean;
}

/**
 * As a Curator user configures it: calls retried on ConnectionLoss with backoff, so a server that
 * pauses longer than the client's read timeout (2/3 of the session timeout) costs a reconnect, not
 * the demo. Every call here may be repeated: reads, unconditional setData, and a create whose
 * repeat finds NodeExists (ensureNode then sets the data).
 */
function clientOptions(args: Args): ClientOptions {
  return { sessionTimeoutMs: args.sessionTimeoutMs, retryPolicy: new BoundedExponentialBackoff(100, 1000, 10) };
}

// ------------------------------------------------------------------ worker

async function runWorker(args: Args): Promise<void> {
  const report = makeReporter(`worker-${args.workerId}`, args.json);
  const client = await createClient(args.connect, clientOptions(args));
  const config = new ConfigWatcher<AppConfig>(client, args.path, { parse: parseAppConfig });
  config.on('change', (value) => {
    // "Applying" the config is the demo's stand-in for reconfiguring a rate limiter and a logger.
    if (value) report('applied', { version: value.version, logLevel: value.logLevel, rateLimitPerSec: value.rateLimitPerSec, features: value.features });
    else report('applied', { version: null });
  });
  config.on('invalid', (err) => report('invalid', { error: String((err as Error).message ?? err), keeping: config.value?.version ?? null }));
  config.on('error', (err) => report('error', { error: String(err) }));
  client.on('state', (s) => report('state', { state: s }));
  const initial = await config.start();
  report('ready', { version: initial?.version ?? null, pid: process.pid });
  const stop = () => void config.close().then(() => client.close()).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

// ------------------------------------------------------------------ orchestrator

interface Delivery {
  version: number;
  writtenAt: number;
  /** Workers already running when the value was written: the ones whose latency counts. */
  audience: Set<string>;
  /** worker -> ms from the write to the worker applying it. */
  latencies: Map<string, number>;
}

class Orchestrator {
  readonly tl = new Timeline();
  readonly workers = new Map<string, DemoChild>();
  /** worker -> versions applied, in order. */
  readonly applied = new Map<string, number[]>();
  readonly invalidSeen = new Map<string, number>();
  readonly ready = new Set<string>();
  readonly deliveries: Delivery[] = [];
  readonly errors: string[] = [];

  constructor(
    private readonly admin: ZkClient,
    private readonly args: Args,
  ) {}

  startWorker(id: string): DemoChild {
    const a = this.args;
    const child = new DemoChild(
      `worker ${id}`,
      siblingScript('config'),
      ['--role', 'worker', '--worker-id', id, '--connect', a.connect, '--path', a.path, '--session-timeout', String(a.sessionTimeoutMs), '--json'],
      (e) => this.onEvent(id, e),
      (l) => this.tl.line(`worker ${id}`, `| ${l}`),
    );
    this.workers.set(id, child);
    this.applied.set(id, []);
    return child;
  }

  private onEvent(id: string, e: ChildEvent): void {
    const t = e.t;
    if (e.ev === 'ready') {
      this.ready.add(id);
      this.tl.line(`worker ${id}`, `ready (pid ${String(e.pid)}), holding version ${String(e.version)}`, t);
    } else if (e.ev === 'applied') {
      // The first 'applied' is the value loaded at start; later ones are hot reloads.
      const v = e.version === null ? undefined : Number(e.version);
      if (v !== undefined) this.applied.get(id)!.push(v);
      const d = this.deliveries.find((x) => x.version === v && x.audience.has(id));
      if (d && !d.latencies.has(id)) d.latencies.set(id, t - d.writtenAt);
      const lag = d ? ` (${t - d.writtenAt} ms after the write)` : ' (loaded at start)';
      this.tl.line(`worker ${id}`, `applied version ${String(e.version)}: logLevel=${String(e.logLevel)} rateLimit=${String(e.rateLimitPerSec)}/s features=${JSON.stringify(e.features)}${lag}`, t);
    } else if (e.ev === 'invalid') {
      this.invalidSeen.set(id, (this.invalidSeen.get(id) ?? 0) + 1);
      this.tl.line(`worker ${id}`, `rejected an invalid config (${String(e.error)}), keeping version ${String(e.keeping)}`, t);
    } else if (e.ev === 'error') {
      this.errors.push(`worker ${id}: ${String(e.error)}`);
      this.tl.line(`worker ${id}`, `error: ${String(e.error)}`, t);
    } else if (e.ev === 'state') {
      this.tl.line(`worker ${id}`, `connection state: ${String(e.state)}`, t);
    }
  }

  private latest(id: string): number | undefined {
    return this.applied.get(id)!.at(-1);
  }

  async write(config: AppConfig): Promise<void> {
    const writtenAt = Date.now();
    this.deliveries.push({ version: config.version, writtenAt, audience: new Set(this.ready), latencies: new Map() });
    await this.admin.setData(this.args.path, encodeAppConfig(config));
    this.tl.line('admin', `wrote version ${config.version}`, writtenAt);
  }

  async awaitAll(version: number, ids = [...this.workers.keys()]): Promise<boolean> {
    return waitFor(`every worker to apply version ${version}`, () => ids.every((id) => this.latest(id) === version), this.args.boundMs)
      .then(() => true)
      .catch((err: unknown) => (this.errors.push(String(err)), false));
  }

  async ensureNode(config: AppConfig): Promise<void> {
    try {
      await this.admin.create(this.args.path, encodeAppConfig(config), { createParents: true });
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
      await this.admin.setData(this.args.path, encodeAppConfig(config));
    }
    this.tl.line('admin', `${this.args.path} = version ${config.version}`);
  }
}

async function runOrchestrator(args: Args): Promise<void> {
  const admin = await createClient(args.connect, clientOptions(args));
  const o = new Orchestrator(admin, args);
  o.tl.line('demo', `config hot reload: ${args.workers} workers watching ${args.path} on ${args.connect}`);
  const steps: Record<string, boolean> = {};
  let version = 1;
  let lateWorker: string | undefined;
  try {
    await o.ensureNode(demoConfig(version));
    for (let i = 1; i <= args.workers; i++) o.startWorker(String(i));
    steps.initialLoad = await o.awaitAll(version);
    await waitFor('every worker ready', () => o.ready.size === args.workers, args.boundMs).catch((err: unknown) => o.errors.push(String(err)));

    o.tl.line('demo', '=== one change at a time ===');
    let allSteps = true;
    for (let k = 0; k < 3; k++) {
      await o.write(demoConfig(++version));
      allSteps = (await o.awaitAll(version)) && allSteps;
    }
    steps.stepByStep = allSteps;

    o.tl.line('demo', '=== an invalid value: workers keep the last good config ===');
    await admin.setData(args.path, '{"version": 99, "logLevel": "loud", "rateLimitPerSec": -5}');
    o.tl.line('admin', 'wrote an invalid config (logLevel "loud", negative rate limit)');
    steps.invalidRejected = await waitFor('every worker to reject the invalid config', () => [...o.workers.keys()].every((id) => (o.invalidSeen.get(id) ?? 0) > 0), args.boundMs)
      .then(() => [...o.workers.keys()].every((id) => o.applied.get(id)!.at(-1) === version))
      .catch((err: unknown) => (o.errors.push(String(err)), false));
    await o.write(demoConfig(++version));
    steps.recoveredAfterInvalid = await o.awaitAll(version);

    o.tl.line('demo', `=== a burst of ${args.burst} writes: workers must converge on the last one ===`);
    for (let k = 0; k < args.burst; k++) await o.write(demoConfig(++version));
    steps.burstConverged = await o.awaitAll(version);

    o.tl.line('demo', '=== a worker started late loads the current value ===');
    lateWorker = String(args.workers + 1);
    o.startWorker(lateWorker);
    steps.lateJoiner = await waitFor('the late worker to start', () => o.applied.get(lateWorker!)![0] === version, args.boundMs + 10_000)
      .then(() => true)
      .catch((err: unknown) => (o.errors.push(String(err)), false));
  } catch (err) {
    o.errors.push(String(err));
  } finally {
    o.tl.line('demo', '=== shutdown ===');
    await Promise.all([...o.workers.values()].map((w) => w.stop()));
    await admin.close();
  }

  const deliveries = o.deliveries.map((d) => ({
    version: d.version,
    watchers: d.audience.size,
    deliveredTo: d.latencies.size,
    maxLatencyMs: d.latencies.size ? Math.max(...d.latencies.values()) : null,
  }));
  const latencies = o.deliveries.flatMap((d) => [...d.latencies.values()]);
  const maxLatencyMs = latencies.length ? Math.max(...latencies) : null;
  const finalVersions = Object.fromEntries([...o.applied].map(([id, vs]) => [id, vs.at(-1) ?? null]));
  const problems = [...Object.entries(steps).filter(([, ok]) => !ok).map(([s]) => `step ${s} failed`), ...o.errors];
  if (maxLatencyMs !== null && maxLatencyMs > args.boundMs) problems.push(`a delivery took ${maxLatencyMs} ms (bound ${args.boundMs} ms)`);
  const summary = {
    summary: 'config',
    ok: problems.length === 0,
    problems,
    workers: args.workers,
    lateWorker: lateWorker ?? null,
    path: args.path,
    lastVersion: version,
    steps,
    finalVersions,
    converged: Object.values(finalVersions).every((v) => v === version),
    applied: Object.fromEntries(o.applied),
    invalidRejectedBy: Object.fromEntries(o.invalidSeen),
    deliveries,
    maxLatencyMs,
    boundMs: args.boundMs,
  };
  o.tl.line('demo', summary.ok ? `OK: every worker converged on version ${version}, slowest delivery ${maxLatencyMs} ms` : `PROBLEMS: ${problems.join('; ')}`);
  printSummary(summary);
  process.exitCode = summary.ok ? 0 : 1;
}

function parseArgs(argv: string[]): Args {
  const o = new Command('config')
    .option('--role <role>', 'orchestrator | worker', 'orchestrator')
    .option('--connect <hosts>', 'ZooKeeper connect string (host:port,...[/chroot])', DEFAULT_CONNECT)
    .option('--workers <n>', 'worker processes', '3')
    .option('--path <znode>', 'config znode', '/demo/config/app')
    .option('--session-timeout <ms>', 'requested session timeout', '6000')
    .option('--bound-ms <ms>', 'how long a worker may take to apply a change', '5000')
    .option('--burst <n>', 'writes in the back-to-back burst', '5')
    .option('--worker-id <id>', 'worker name (worker role)', '1')
    .option('--json', 'one JSON event per line (worker role)', false)
    .parse(argv)
    .opts();
  const role = String(o.role);
  if (role !== 'orchestrator' && role !== 'worker') throw new Error(`unknown role ${role}`);
  return {
    role,
    connect: String(o.connect),
    workers: intOption('workers', o.workers),
    path: String(o.path),
    sessionTimeoutMs: intOption('session-timeout', o.sessionTimeout),
    boundMs: intOption('bound-ms', o.boundMs),
    burst: intOption('burst', o.burst),
    workerId: String(o.workerId),
    json: Boolean(o.json),
  };
}

const ROLES: Readonly<Record<Args['role'], (a: Args) => Promise<void>>> = { orchestrator: runOrchestrator, worker: runWorker };

const args = parseArgs(process.argv);
ROLES[args.role](args).catch((err: unknown) => {
  process.stderr.write(`config demo (${args.role}): ${String(err)}\n`);
  process.exit(1);
});
