/**
 * Kafka-style controller election demo: the orchestrator.
 *
 *   npm run demo:controller -- [--connect 127.0.0.1:2181] [--brokers 3] [--partitions 6]
 *                              [--session-timeout 6000] [--scenarios kill,pause] [--reset]
 *
 * Starts N broker processes (broker.ts), creates a topic for them, and then hurts the controller:
 *   kill   kill -9 the controller; its session expires, /controller goes, another broker wins
 *          the next epoch and moves the dead broker's partition leaders;
 *   pause  SIGSTOP the controller past its session timeout; a new controller takes over; then
 *          SIGCONT: the old one wakes up believing it still leads, its next writes are rejected
 *          by the check on /controller_epoch (BadVersion) and it steps down and rejoins as a broker.
 * Prints a timeline (t+ms, who, what) and, last, one JSON summary line that test/demo reads.
 * It also watches /controller itself (a persistent watch), as an outside observer.
 *
 * The safety claim is checked on ZooKeeper's own order, not on wall clocks: every committed
 * controller write carries the zxid of its multi, every election the zxid of its epoch bump, and
 * no write may land outside its epoch's [bump, next bump) zxid range (lib/kafka.ts checkEpochs).
 */
import { Command } from 'commander';
import { NoNodeError, NodeExistsError, createClient, type ZkClient } from '../../src/client';
import { DemoChild, DEFAULT_CONNECT, Timeline, intOption, printSummary, siblingScript, sleep, waitFor, type ChildEvent } from './lib/common';
import {
  PATHS,
  checkEpochs,
  encodeAssignment,
  parseControllerId,
  parseEpoch,
  parseState,
  roundRobinAssignment,
  statePath,
  topicPath,
  type CommittedWrite,
  type EpochBump,
} from './lib/kafka';

type Scenario = 'kill' | 'pause';

interface Args {
  connect: string;
  brokers: number;
  partitions: number;
  replicationFactor: number;
  topic: string;
  sessionTimeoutMs: number;
  churnMs: number;
  scenarios: Scenario[];
  reset: boolean;
  verbose: boolean;
}

interface Reign {
  brokerid: number;
  pid: number;
  epoch: number;
  electedAtMs: number;
  resignedAtMs: number | null;
  reason: string | null;
}

interface ScenarioResult {
  victim: number;
  newController: number | null;
  newEpoch: number | null;
  takeoverMs: number | null;
  [k: string]: unknown;
}

/** Everything the orchestrator learns, from broker events and from its own watch. */
class Observations {
  readonly reigns: Reign[] = [];
  readonly bumps: EpochBump[] = [];
  readonly writes: CommittedWrite[] = [];
  readonly fencedBy = new Map<number, number>();
  readonly steppedDown: { brokerid: number; epoch: number; tMs: number; reason: string }[] = [];
  readonly zkHistory: { tMs: number; brokerid: number | null; epoch: number }[] = [];
  readonly registeredAt = new Map<number, number[]>();
  readonly errors: string[] = [];
  zkController: number | null = null;
  zkEpoch = 0;
  isrUpdates = 0;

  fencedTotal(): number {
    return [...this.fencedBy.values()].reduce((a, b) => a + b, 0);
  }
}

const num = (v: unknown): number => Number(v);

class Orchestrator {
  readonly tl = new Timeline();
  readonly rec = new Observations();
  private readonly brokers = new Map<number, DemoChild>();
  private readonly brokerScript = siblingScript('broker');
  readonly sessionTimeoutMs: number;

  constructor(
    private readonly admin: ZkClient,
    private readonly args: Args,
  ) {
    this.sessionTimeoutMs = admin.sessionTimeoutMs;
  }

  /** Upper bound for "a new controller appears": expiry, a tick of slack, an election. Generous. */
  private takeoverBoundMs(): number {
    return 4 * this.sessionTimeoutMs + 10_000;
  }

  // ------------------------------------------------------------------ setup

  async prepare(): Promise<void> {
    if (this.args.reset) {
      for (const p of ['/brokers', PATHS.controllerEpoch, PATHS.controller]) {
        await this.admin.deleteAll(p).catch((e: unknown) => {
          if (!(e instanceof NoNodeError)) throw e;
        });
      }
      this.tl.line('demo', 'reset /brokers, /controller, /controller_epoch');
    }
    await this.admin.ensurePath(PATHS.brokerIds);
    const ids = Array.from({ length: this.args.brokers }, (_, i) => i + 1);
    const assignment = roundRobinAssignment(ids, this.args.partitions, this.args.replicationFactor);
    try {
      await this.admin.create(topicPath(this.args.topic), encodeAssignment(assignment), { createParents: true });
      this.tl.line('admin', `created topic ${this.args.topic}: ${this.args.partitions} partitions x ${Math.min(this.args.replicationFactor, ids.length)} replicas`);
    } catch (err) {
      if (!(err instanceof NodeExistsError)) throw err;
      this.tl.line('admin', `topic ${this.args.topic} already exists; keeping its assignment`);
    }
  }

  /** Observes /controller from outside with a persistent watch (what zkCli would show). */
  async observe(): Promise<void> {
    const watch = await this.admin.addWatch(PATHS.controller, { mode: 'persistent', overflow: 'dropOldest' });
    await this.readController();
    void (async () => {
      for await (const ev of watch) {
        if (ev.type !== 'none') await this.readController().catch(() => undefined);
      }
    })();
  }

  private async readController(): Promise<void> {
    const [c, e] = await this.admin.multiRead([
      { type: 'getData', path: PATHS.controller },
      { type: 'getData', path: PATHS.controllerEpoch },
    ]);
    const brokerid = c?.type === 'getData' ? (parseControllerId(c.data) ?? null) : null;
    const epoch = e?.type === 'getData' ? parseEpoch(e.data) : 0;
    if (brokerid === this.rec.zkController && epoch === this.rec.zkEpoch) return;
    this.rec.zkController = brokerid;
    this.rec.zkEpoch = epoch;
    this.rec.zkHistory.push({ tMs: this.tl.rel(Date.now()), brokerid, epoch });
    this.tl.line('zookeeper', brokerid === null ? '/controller is gone' : `/controller = broker ${brokerid}, /controller_epoch = ${epoch}`);
  }

  // ------------------------------------------------------------------ brokers

  startBroker(id: number): DemoChild {
    const a = this.args;
    const child = new DemoChild(
      `broker ${id}`,
      this.brokerScript,
      ['--id', String(id), '--connect', a.connect, '--session-timeout', String(a.sessionTimeoutMs), '--churn-ms', String(a.churnMs), '--json'],
      (e) => this.onBrokerEvent(id, child, e),
      (line) => this.tl.line(`broker ${id}`, `| ${line}`),
    );
    this.brokers.set(id, child);
    this.tl.line(`broker ${id}`, `process started (pid ${child.pid})`);
    void child.exited.then(({ code, signal }) => {
      const at = Date.now();
      this.tl.line(`broker ${id}`, `process ${child.pid} exited (${signal ?? `code ${code}`})`, at);
      // A reign that ends with its process: the broker never got to say so itself.
      for (const reign of this.rec.reigns) {
        if (reign.pid === child.pid && reign.resignedAtMs === null) Object.assign(reign, { resignedAtMs: this.tl.rel(at), reason: `process exited (${signal ?? code})` });
      }
    });
    return child;
  }

  private onBrokerEvent(id: number, child: DemoChild, e: ChildEvent): void {
    this.record(id, child, e);
    const text = describe(e, this.args.verbose);
    if (text !== undefined) this.tl.line(`broker ${id}`, text, e.t);
  }

  private record(id: number, child: DemoChild, e: ChildEvent): void {
    const r = this.rec;
    const tMs = this.tl.rel(e.t);
    switch (e.ev) {
      case 'elected':
        r.bumps.push({ epoch: num(e.epoch), brokerid: id, zxid: BigInt(String(e.zxid)) });
        r.reigns.push({ brokerid: id, pid: child.pid, epoch: num(e.epoch), electedAtMs: tMs, resignedAtMs: null, reason: null });
        break;
      case 'resigned': {
        const reign = r.reigns.find((x) => x.brokerid === id && x.epoch === num(e.epoch));
        if (reign) Object.assign(reign, { resignedAtMs: tMs, reason: String(e.reason) });
        r.steppedDown.push({ brokerid: id, epoch: num(e.epoch), tMs, reason: String(e.reason) });
        break;
      }
      case 'write':
        r.writes.push({ epoch: num(e.epoch), brokerid: id, zxid: BigInt(String(e.zxid)) });
        if (e.label === 'isr') r.isrUpdates++;
        break;
      case 'fenced':
        r.fencedBy.set(id, (r.fencedBy.get(id) ?? 0) + 1);
        break;
      case 'registered':
        r.registeredAt.set(id, [...(r.registeredAt.get(id) ?? []), e.t]);
        break;
      case 'error':
        r.errors.push(`broker ${id}: ${String(e.error)}`);
        break;
    }
  }

  private currentController(): DemoChild | undefined {
    const id = this.rec.zkController;
    return id === null ? undefined : this.brokers.get(id);
  }

  async startAll(): Promise<void> {
    for (let id = 1; id <= this.args.brokers; id++) this.startBroker(id);
    await waitFor('a controller and all brokers registered', async () => this.rec.zkController !== null && (await this.liveBrokers()) === this.args.brokers, 30_000);
    await waitFor('the first failover to finish', () => this.rec.writes.length > 0 || this.args.partitions === 0, 10_000);
  }

  /**
   * Waits (best effort) until every partition has at least two in-sync replicas, so a scenario
   * shows leaders moving rather than partitions going offline for want of a second replica.
   */
  async awaitHealthyIsr(): Promise<void> {
    if (Math.min(this.args.brokers, this.args.replicationFactor) < 2) return;
    const healthy = async (): Promise<boolean> => {
      const states = await this.admin.multiRead(
        Array.from({ length: this.args.partitions }, (_, p) => ({ type: 'getData' as const, path: statePath(this.args.topic, p) })),
      );
      return states.every((r) => r.type === 'getData' && (parseState(r.data)?.isr.length ?? 0) >= 2);
    };
    await waitFor('every partition to have 2 in-sync replicas', healthy, 15_000, 100).catch((err: unknown) => this.tl.line('demo', `note: ${String(err)}`));
  }

  private async liveBrokers(): Promise<number> {
    try {
      return (await this.admin.getChildren(PATHS.brokerIds)).children.length;
    } catch {
      return 0;
    }
  }

  /** Waits until ZooKeeper shows a controller other than `victim`. */
  private async awaitNewController(victim: number, since: number): Promise<Pick<ScenarioResult, 'newController' | 'newEpoch' | 'takeoverMs'>> {
    try {
      await waitFor(`a controller other than broker ${victim}`, () => this.rec.zkController !== null && this.rec.zkController !== victim, this.takeoverBoundMs());
    } catch (err) {
      this.rec.errors.push(String(err));
      return { newController: null, newEpoch: null, takeoverMs: null };
    }
    return { newController: this.rec.zkController, newEpoch: this.rec.zkEpoch, takeoverMs: Date.now() - since };
  }

  // ------------------------------------------------------------------ scenarios

  async killController(): Promise<ScenarioResult> {
    const victim = this.rec.zkController!;
    const child = this.currentController()!;
    this.tl.line('demo', `=== scenario kill: kill -9 the controller, broker ${victim} (pid ${child.pid}) ===`);
    const t0 = Date.now();
    child.signal('SIGKILL');
    await child.exited;
    const result = { victim, ...(await this.awaitNewController(victim, t0)) };
    this.tl.line('demo', `new controller: broker ${result.newController} after ${result.takeoverMs} ms (session timeout ${this.sessionTimeoutMs} ms)`);
    this.tl.line('demo', `restarting broker ${victim}`);
    this.startBroker(victim);
    const rejoined = await this.awaitRegistered(victim, t0);
    return { ...result, rejoined };
  }

  async pauseController(): Promise<ScenarioResult> {
    const victim = this.rec.zkController!;
    const child = this.currentController()!;
    const epochBefore = this.rec.zkEpoch;
    const fencedBefore = this.rec.fencedBy.get(victim) ?? 0;
    this.tl.line('demo', `=== scenario pause: SIGSTOP the controller, broker ${victim} (pid ${child.pid}, epoch ${epochBefore}) ===`);
    const t0 = Date.now();
    child.signal('SIGSTOP');
    const result = { victim, ...(await this.awaitNewController(victim, t0)) };
    await sleep(Math.min(1000, this.sessionTimeoutMs / 2)); // let the new controller move leaders first
    const pausedMs = Date.now() - t0;
    this.tl.line('demo', `SIGCONT broker ${victim} after ${pausedMs} ms: it still thinks it is the controller of epoch ${epochBefore}`);
    const resumedAt = Date.now();
    child.signal('SIGCONT');
    const steppedDown = await waitFor(`broker ${victim} to step down`, () => this.rec.steppedDown.some((s) => s.brokerid === victim && s.epoch === epochBefore), 20_000)
      .then(() => true)
      .catch((err: unknown) => (this.rec.errors.push(String(err)), false));
    const rejoined = await this.awaitRegistered(victim, resumedAt);
    const step = this.rec.steppedDown.find((s) => s.brokerid === victim && s.epoch === epochBefore);
    return {
      ...result,
      pausedMs,
      epochBefore,
      fencedWrites: (this.rec.fencedBy.get(victim) ?? 0) - fencedBefore,
      steppedDown,
      stepDownReason: step?.reason ?? null,
      rejoined,
    };
  }

  private async awaitRegistered(id: number, after: number): Promise<boolean> {
    return waitFor(`broker ${id} to register again`, () => (this.rec.registeredAt.get(id) ?? []).some((t) => t >= after), 20_000)
      .then(() => true)
      .catch((err: unknown) => (this.rec.errors.push(String(err)), false));
  }

  /** Stops followers first, then the controller, so the shutdown does not cause elections. */
  async stopAll(): Promise<void> {
    this.tl.line('demo', '=== shutdown ===');
    const ctrl = this.currentController();
    await Promise.all([...this.brokers.values()].filter((b) => b !== ctrl).map((b) => b.stop()));
    await ctrl?.stop();
  }
}

/** Timeline text per broker event; undefined hides it. */
const DESCRIBE: Readonly<Record<string, (e: ChildEvent) => string>> = {
  started: (e) => `connected, session ${String(e.session)} (timeout ${String(e.sessionTimeoutMs)} ms)`,
  registered: (e) => `registered /brokers/ids (session ${String(e.session)})`,
  registrationTaken: (e) => `waiting for a stale registration of session ${String(e.owner)} to expire`,
  state: (e) => `connection state: ${String(e.state)}`,
  controllerIs: (e) => `follows controller broker ${String(e.brokerid)}`,
  elected: (e) => `ELECTED controller, epoch ${String(e.epoch)} (zxid 0x${BigInt(String(e.zxid)).toString(16)})`,
  failover: (e) => `controller failover: live brokers [${String(e.live)}], topics [${String(e.topics)}]`,
  brokersChanged: (e) => `brokers changed: live [${String(e.live)}], +[${String(e.added)}] -[${String(e.removed)}]`,
  leaders: (e) => {
    const moved = (e.moved as { partition: number; from: number | null; to: number }[]).map((m) => `p${m.partition}:${m.from ?? '-'}->${m.to}`);
    return `${String(e.reason)}: ${String(e.changed)} partition states written${moved.length ? `, leaders ${moved.join(' ')}` : ''}`;
  },
  paused: (e) => `woke up after a ${String(e.ms)} ms pause${e.controller ? ' (still believes it is the controller)' : ''}`,
  writeRetry: (e) => `controller write (${String(e.label)}) waiting: ${String(e.error)}, retrying`,
  fenced: (e) => `FENCED: write of epoch ${String(e.epoch)} rejected (${String(e.error)} on /controller_epoch)`,
  resigned: (e) => `STEPPED DOWN as controller of epoch ${String(e.epoch)}: ${String(e.reason)}`,
  interrupted: (e) => `${String(e.event)} interrupted (${String(e.error)}); redoing it`,
  error: (e) => `error in ${String(e.event)}: ${String(e.error)}`,
  shutdown: (e) => `shutting down${e.wasController ? ` (controller, epoch ${String(e.epoch)})` : ''}`,
};
const VERBOSE_ONLY: Readonly<Record<string, (e: ChildEvent) => string>> = {
  isr: (e) => `isr p${String(e.partition)}: leader ${String(e.leader)} [${String(e.isr)}]`,
  write: (e) => `write ${String(e.label)} epoch ${String(e.epoch)} zxid 0x${BigInt(String(e.zxid)).toString(16)}`,
};

function describe(e: ChildEvent, verbose: boolean): string | undefined {
  return (DESCRIBE[e.ev] ?? (verbose ? VERBOSE_ONLY[e.ev] : undefined))?.(e);
}

function parseArgs(argv: string[]): Args {
  const o = new Command('controller')
    .option('--connect <hosts>', 'ZooKeeper connect string (host:port,...[/chroot])', DEFAULT_CONNECT)
    .option('--brokers <n>', 'broker processes', '3')
    .option('--partitions <n>', 'partitions of the demo topic', '6')
    .option('--replication-factor <n>', 'replicas per partition', '3')
    .option('--topic <name>', 'demo topic', 'demo-events')
    .option('--session-timeout <ms>', 'requested session timeout (the server clamps it to [2, 20] ticks)', '6000')
    .option('--churn-ms <ms>', 'controller ISR maintenance interval', '250')
    .option('--scenarios <list>', 'what to do to the controller, in order: kill,pause', 'kill,pause')
    .option('--reset', 'delete /brokers, /controller, /controller_epoch first', false)
    .option('--verbose', 'also print every ISR update', false)
    .parse(argv)
    .opts();
  const scenarios = String(o.scenarios).split(',').filter((s) => s !== '');
  for (const s of scenarios) if (s !== 'kill' && s !== 'pause') throw new Error(`unknown scenario ${s}`);
  const brokers = intOption('brokers', o.brokers);
  if (scenarios.length > 0 && brokers < 2) throw new Error('the scenarios need --brokers >= 2');
  return {
    connect: String(o.connect),
    brokers,
    partitions: intOption('partitions', o.partitions, 0),
    replicationFactor: intOption('replication-factor', o.replicationFactor),
    topic: String(o.topic),
    sessionTimeoutMs: intOption('session-timeout', o.sessionTimeout),
    churnMs: intOption('churn-ms', o.churnMs, 0),
    scenarios: scenarios as Scenario[],
    reset: Boolean(o.reset),
    verbose: Boolean(o.verbose),
  };
}

function summarize(o: Orchestrator, args: Args, scenarios: Partial<Record<Scenario, ScenarioResult>>): Record<string, unknown> {
  const r = o.rec;
  const { outside, problems } = checkEpochs(r.bumps, r.writes);
  const epochs = r.reigns.map((x) => x.epoch);
  if (outside.length > 0) problems.push(`${outside.length} controller writes landed outside their epoch`);
  if (new Set(epochs).size !== epochs.length) problems.push('an epoch was won twice');
  if (scenarios.kill && scenarios.kill.newController === null) problems.push('no new controller after kill -9');
  const pause = scenarios.pause;
  if (pause) {
    if (pause.newController === null) problems.push('no new controller while the old one was stopped');
    if (!((pause.fencedWrites as number) > 0)) problems.push('the paused controller made no fenced write');
    if (!pause.steppedDown) problems.push('the paused controller did not step down');
  }
  problems.push(...r.errors.map((e) => `error: ${e}`));
  return {
    summary: 'controller',
    ok: problems.length === 0,
    problems,
    brokers: args.brokers,
    sessionTimeoutMs: o.sessionTimeoutMs,
    controllers: r.reigns,
    epochs,
    zkControllerHistory: r.zkHistory,
    fencedWritesRejected: r.fencedTotal(),
    fencedByBroker: Object.fromEntries(r.fencedBy),
    steppedDown: r.steppedDown,
    committedControllerWrites: r.writes.length,
    isrUpdates: r.isrUpdates,
    writesOutsideEpoch: outside.length,
    scenarios,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv);
  const admin = await createClient(args.connect, { sessionTimeoutMs: args.sessionTimeoutMs });
  const o = new Orchestrator(admin, args);
  o.tl.line('demo', `controller election demo: ${args.brokers} brokers on ${args.connect}, session timeout ${admin.sessionTimeoutMs} ms`);
  const scenarios: Partial<Record<Scenario, ScenarioResult>> = {};
  try {
    await o.prepare();
    await o.observe();
    await o.startAll();
    for (const s of args.scenarios) {
      await o.awaitHealthyIsr();
      await sleep(500);
      scenarios[s] = s === 'kill' ? await o.killController() : await o.pauseController();
      await waitFor('all brokers registered', async () => (await admin.getChildren(PATHS.brokerIds)).children.length === args.brokers, 20_000).catch((e: unknown) =>
        o.rec.errors.push(String(e)),
      );
    }
    await sleep(1000);
  } catch (err) {
    o.rec.errors.push(String(err));
  } finally {
    await o.stopAll();
    await admin.close();
  }
  const summary = summarize(o, args, scenarios);
  o.tl.line('demo', summary.ok ? 'OK: one controller per epoch, stale writes fenced' : `PROBLEMS: ${(summary.problems as string[]).join('; ')}`);
  printSummary(summary);
  process.exitCode = summary.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`controller demo: ${String(err)}\n`);
  process.exit(1);
});
