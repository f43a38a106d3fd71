/**
 * One Kafka-style broker of the controller demo (controller.ts starts several; it also runs by hand:
 * `node dist/scripts/demo/broker.js --id 1 --connect 127.0.0.1:2181`).
 *
 * What it does, in Kafka 2.x's ZooKeeper layout (see lib/kafka.ts):
 *   - registers /brokers/ids/<id> (ephemeral), again after every session loss;
 *   - races to create /controller. The winner does it in one multi together with bumping
 *     /controller_epoch at its expected version, so no two brokers ever win the same epoch;
 *   - the controller watches /brokers/ids, elects partition leaders when brokers come and go, and
 *     keeps ISRs up to date (lib/kafka.ts decides; this file only does I/O);
 *   - EVERY controller write is a multi that starts with check(/controller_epoch, version it won).
 *     A controller that was paused (GC, SIGSTOP) and wakes up still believing it leads is stopped
 *     by that check (BadVersion), and steps down.
 *
 * Events are handled one at a time in arrival order (lib/common.ts EventQueue, the shape of Kafka's
 * ControllerEventManager). That order is what makes the fencing visible: a write the controller
 * queued as it woke is processed before the session-expired event that would have told it to
 * resign, exactly the window the epoch check exists for.
 *
 * Connection states: `suspended` changes nothing (the session may survive); `lost` queues an
 * 'expire' event: resign, register again on the new session, join the election again.
 */
import { Command } from 'commander';
import {
  ConnectionLossError,
  NoNodeError,
  NodeExistsError,
  SessionExpiredError,
  ZkError,
  createClient,
  type MultiResult,
  type Transaction,
  type ZkClient,
} from '../../src/client';
import { EventQueue, DEFAULT_CONNECT, intOption, makeReporter, sleep } from './lib/common';
import {
  PATHS,
  brokerPath,
  brokerRegistration,
  controllerData,
  electPartition,
  encodeState,
  maintainIsr,
  parseAssignment,
  parseControllerId,
  parseEpoch,
  parseState,
  partitionPath,
  partitionsPath,
  statePath,
  topicPath,
  type Assignment,
  type PartitionState,
} from './lib/kafka';

interface Args {
  id: number;
  connect: string;
  sessionTimeoutMs: number;
  churnMs: number;
  json: boolean;
  host: string;
  port: number;
}

type BrokerEvent = { kind: 'startup' | 'expire' | 'controllerChange' | 'brokerChange' | 'isrTick' | 'resync' };

/** A controller write was rejected by the epoch check: a newer controller exists. */
class ControllerMovedError extends Error {
  constructor(readonly epoch: number, readonly code: string) {
    super(`controller epoch ${epoch} is stale (${code} on ${PATHS.controllerEpoch})`);
  }
}

interface TopicContext {
  assignment: Assignment;
  partitionsNode: boolean;
  partitionNodes: Set<number>;
  stateNodes: Set<number>;
  states: Map<number, PartitionState>;
}

/** What a controller knows; exists only while this broker believes it is the controller. */
interface ControllerContext {
  epoch: number;
  /** /controller_epoch's version after our bump: the fence every write checks. */
  epochZkVersion: number;
  live: Set<number>;
  topics: Map<string, TopicContext>;
  cursor: number;
}

interface StateChange {
  topic: string;
  partition: number;
  from: PartitionState | undefined;
  to: PartitionState;
}

const CONTROLLER_WRITE_RETRY_MS = 100;
const CONTROLLER_WRITE_DEADLINE_MS = 30_000;
const PAUSE_PROBE_MS = 100;
const PAUSE_REPORT_MS = 1000;

const sessionHex = (id: bigint): string => `0x${id.toString(16)}`;

function zxidOf(results: readonly MultiResult[]): bigint {
  for (const r of results) {
    if (r.type === 'setData') return r.stat.mzxid;
    if (r.type === 'create' && r.stat) return r.stat.czxid;
  }
  return -1n;
}

class Broker {
  private ctx: ControllerContext | undefined;
  private knownController: number | undefined;
  private churnTimer: NodeJS.Timeout | undefined;
  private fenced = 0;
  private shuttingDown = false;
  private readonly report: ReturnType<typeof makeReporter>;
  private readonly queue: EventQueue<BrokerEvent>;
  private readonly handlers: Record<BrokerEvent['kind'], () => Promise<void>> = {
    startup: () => this.joinCluster(),
    expire: () => this.onExpire(),
    controllerChange: () => this.onControllerChange(),
    brokerChange: () => this.onBrokerChange(),
    isrTick: () => this.onIsrTick(),
    resync: () => this.onResync(),
  };

  constructor(
    private readonly client: ZkClient,
    private readonly args: Args,
  ) {
    this.report = makeReporter(`broker-${args.id}`, args.json);
    this.queue = new EventQueue<BrokerEvent>((e) => this.handlers[e.kind](), (e, err) => this.onError(e, err));
  }

  start(): void {
    this.report('started', { session: sessionHex(this.client.sessionId), sessionTimeoutMs: this.client.sessionTimeoutMs, pid: process.pid });
    this.client.on('state', (s) => {
      this.report('state', { state: s, session: sessionHex(this.client.sessionId) });
      if (s === 'lost') this.queue.push({ kind: 'expire' });
    });
    this.watchForPauses();
    this.queue.push({ kind: 'startup' });
  }

  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.stopChurn();
    this.report('shutdown', { wasController: this.ctx !== undefined, epoch: this.ctx?.epoch ?? null, fencedWrites: this.fenced });
    await this.client.close();
  }

  // ------------------------------------------------------------------ membership and election

  private async joinCluster(): Promise<void> {
    await this.register();
    await this.elect();
  }

  private async onExpire(): Promise<void> {
    this.resign('session expired');
    await this.joinCluster();
  }

  /** Creates /brokers/ids/<id>; a leftover from our previous (not yet expired) session is waited out. */
  private async register(): Promise<void> {
    const path = brokerPath(this.args.id);
    for (;;) {
      try {
        await this.client.create(path, brokerRegistration(this.args.host, this.args.port, Date.now()), { mode: 'ephemeral', createParents: true });
        break;
      } catch (err) {
        if (!(err instanceof NodeExistsError)) throw err;
        const { stat, watch } = await this.client.exists(path, { watch: true });
        if (stat && stat.ephemeralOwner === this.client.sessionId) break; // our own create, retried
        if (stat) {
          this.report('registrationTaken', { owner: sessionHex(stat.ephemeralOwner) });
          await Promise.race([watch, sleep(1000)]);
        }
      }
    }
    this.report('registered', { session: sessionHex(this.client.sessionId) });
  }

  /** Follows the current controller, or becomes it if there is none. */
  private async elect(): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      if (this.ctx) return;
      const { stat, watch } = await this.client.exists(PATHS.controller, { watch: true });
      void watch.then(() => this.queue.push({ kind: 'controllerChange' }));
      if (stat && (await this.followController())) return;
      if (!stat && (await this.tryBecomeController())) return;
    }
    throw new Error('no stable controller after 20 attempts');
  }

  /** Reads who leads; true once known. Also recovers a win whose reply we lost to a disconnect. */
  private async followController(): Promise<boolean> {
    let data: Buffer | null;
    let owner: bigint;
    let czxid: bigint;
    try {
      const r = await this.client.getData(PATHS.controller);
      [data, owner, czxid] = [r.data, r.stat.ephemeralOwner, r.stat.czxid];
    } catch (err) {
      if (err instanceof NoNodeError) return false;
      throw err;
    }
    const id = parseControllerId(data);
    if (id === this.args.id && owner === this.client.sessionId) return this.recoverWin(czxid);
    if (id !== this.knownController) this.report('controllerIs', { brokerid: id ?? null });
    this.knownController = id;
    return true;
  }

  /** /controller is ours but we missed the reply: the epoch bump shares its zxid (same multi). */
  private async recoverWin(czxid: bigint): Promise<boolean> {
    const r = await this.client.getData(PATHS.controllerEpoch);
    if (r.stat.mzxid !== czxid) return false;
    await this.becomeController(parseEpoch(r.data), r.stat.version, czxid);
    return true;
  }

  private async readEpoch(): Promise<{ epoch: number; version: number }> {
    try {
      const r = await this.client.getData(PATHS.controllerEpoch);
      return { epoch: parseEpoch(r.data), version: r.stat.version };
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      await this.client.create(PATHS.controllerEpoch, '0').catch((e: unknown) => {
        if (!(e instanceof NodeExistsError)) throw e;
      });
      return this.readEpoch();
    }
  }

  /** One multi: create /controller and bump the epoch at the version we read. Either both or neither. */
  private async tryBecomeController(): Promise<boolean> {
    const { epoch, version } = await this.readEpoch();
    let results: MultiResult[];
    try {
      results = await this.client
        .transaction()
        .create(PATHS.controller, controllerData(this.args.id, Date.now()), { mode: 'ephemeral' })
        .setData(PATHS.controllerEpoch, String(epoch + 1), version)
        .commit();
    } catch (err) {
      // NodeExists: another broker won the race. BadVersion: the epoch moved; look again.
      if (err instanceof ZkError && err.failedOpIndex !== undefined) return false;
      throw err;
    }
    const bump = results[1];
    if (bump?.type !== 'setData') throw new Error('unexpected multi result');
    await this.becomeController(epoch + 1, bump.stat.version, bump.stat.mzxid);
    return true;
  }

  private async becomeController(epoch: number, epochZkVersion: number, zxid: bigint): Promise<void> {
    this.ctx = { epoch, epochZkVersion, live: new Set(), topics: new Map(), cursor: 0 };
    this.knownController = this.args.id;
    this.report('elected', { epoch, zxid, session: sessionHex(this.client.sessionId) });
    await this.loadContext();
    this.report('failover', { epoch, live: [...this.ctx.live].sort((a, b) => a - b), topics: [...this.ctx.topics.keys()] });
    await this.reconcile('failover');
    this.startChurn();
  }

  private resign(reason: string): void {
    if (!this.ctx) return;
    this.stopChurn();
    this.report('resigned', { epoch: this.ctx.epoch, reason, fencedWrites: this.fenced });
    this.ctx = undefined;
    this.knownController = undefined;
  }

  private async onControllerChange(): Promise<void> {
    if (this.ctx) {
      const { stat, watch } = await this.client.exists(PATHS.controller, { watch: true });
      void watch.then(() => this.queue.push({ kind: 'controllerChange' }));
      if (stat && stat.ephemeralOwner === this.client.sessionId) return; // still ours (e.g. our own create fired it)
      this.resign(stat ? '/controller belongs to another broker' : '/controller is gone');
    }
    await this.elect();
  }

  // ------------------------------------------------------------------ controller work

  private requireCtx(): ControllerContext {
    if (!this.ctx) throw new Error('not the controller');
    return this.ctx;
  }

  private async watchBrokers(): Promise<Set<number>> {
    const { children, watch } = await this.client.getChildren(PATHS.brokerIds, { watch: true });
    void watch.then(() => this.queue.push({ kind: 'brokerChange' }));
    return new Set(children.map(Number).filter(Number.isSafeInteger));
  }

  private async loadContext(): Promise<void> {
    const ctx = this.requireCtx();
    ctx.live = await this.watchBrokers();
    ctx.topics = new Map();
    let topics: string[] = [];
    try {
      topics = (await this.client.getChildren(PATHS.topics)).children.sort();
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
    }
    for (const t of topics) ctx.topics.set(t, await this.loadTopic(t));
  }

  private async loadTopic(topic: string): Promise<TopicContext> {
    const assignment = parseAssignment((await this.client.getData(topicPath(topic))).data);
    const tc: TopicContext = { assignment, partitionsNode: true, partitionNodes: new Set(), stateNodes: new Set(), states: new Map() };
    let children: string[] = [];
    try {
      children = (await this.client.getChildren(partitionsPath(topic))).children;
    } catch (err) {
      if (!(err instanceof NoNodeError)) throw err;
      tc.partitionsNode = false;
    }
    for (const p of children.map(Number).filter(Number.isSafeInteger)) {
      tc.partitionNodes.add(p);
      try {
        const s = parseState((await this.client.getData(statePath(topic, p))).data);
        tc.stateNodes.add(p);
        if (s) tc.states.set(p, s);
      } catch (err) {
        if (!(err instanceof NoNodeError)) throw err;
      }
    }
    return tc;
  }

  private async onBrokerChange(): Promise<void> {
    if (!this.ctx) return; // a watch from an earlier reign
    const ctx = this.ctx;
    const live = await this.watchBrokers();
    const added = [...live].filter((b) => !ctx.live.has(b));
    const removed = [...ctx.live].filter((b) => !live.has(b));
    ctx.live = live;
    if (added.length + removed.length > 0) this.report('brokersChanged', { live: [...live].sort((a, b) => a - b), added, removed });
    await this.reconcile('broker change');
  }

  /** Re-elects every partition against the live set; all changes go in one fenced multi. */
  private async reconcile(reason: string): Promise<void> {
    const ctx = this.requireCtx();
    const changes: StateChange[] = [];
    for (const [topic, tc] of ctx.topics) {
      for (const [p, replicas] of tc.assignment) {
        const to = electPartition(replicas, ctx.live, tc.states.get(p), ctx.epoch);
        if (to) changes.push({ topic, partition: p, from: tc.states.get(p), to });
      }
    }
    if (changes.length === 0) return;
    await this.writeStates(changes, reason);
    const moved = changes.filter((c) => c.from?.leader !== c.to.leader).map((c) => ({ topic: c.topic, partition: c.partition, from: c.from?.leader ?? null, to: c.to.leader }));
    this.report('leaders', { reason, epoch: ctx.epoch, changed: changes.length, moved, offline: changes.filter((c) => c.to.leader === -1).length });
  }

  private async onIsrTick(): Promise<void> {
    if (!this.ctx) return;
    const ctx = this.ctx;
    const all = [...ctx.topics].flatMap(([topic, tc]) => [...tc.assignment.keys()].map((p) => ({ topic, tc, p })));
    for (let i = 0; i < all.length; i++) {
      const k = (ctx.cursor + i) % all.length;
      const { topic, tc, p } = all[k]!;
      const from = tc.states.get(p);
      const to = from && maintainIsr(tc.assignment.get(p)!, ctx.live, from, ctx.epoch);
      if (!to) continue;
      ctx.cursor = k + 1;
      await this.writeStates([{ topic, partition: p, from, to }], 'isr');
      this.report('isr', { topic, partition: p, leader: to.leader, leader_epoch: to.leader_epoch, isr: to.isr });
      return;
    }
  }

  private async onResync(): Promise<void> {
    if (!this.ctx) return this.elect();
    await this.loadContext();
    await this.reconcile('resync');
  }

  private async writeStates(changes: readonly StateChange[], label: string): Promise<void> {
    const ctx = this.requireCtx();
    await this.fencedWrite((tx) => {
      const creatingParents = new Set<string>();
      for (const c of changes) {
        const tc = ctx.topics.get(c.topic)!;
        if (!tc.partitionsNode && !creatingParents.has(c.topic)) {
          creatingParents.add(c.topic);
          tx.create(partitionsPath(c.topic));
        }
        if (!tc.partitionNodes.has(c.partition)) tx.create(partitionPath(c.topic, c.partition));
        if (tc.stateNodes.has(c.partition)) tx.setData(statePath(c.topic, c.partition), encodeState(c.to));
        else tx.create(statePath(c.topic, c.partition), encodeState(c.to));
      }
    }, label);
    for (const c of changes) {
      const tc = ctx.topics.get(c.topic)!;
      tc.partitionsNode = true;
      tc.partitionNodes.add(c.partition);
      tc.stateNodes.add(c.partition);
      tc.states.set(c.partition, c.to);
    }
  }

  /**
   * The fence: check(/controller_epoch, our version) first, then the writes, atomically.
   * ConnectionLoss / SessionExpired are retried (the request may not have run; the client is
   * getting a connection or a new session). A failed check means a newer controller exists.
   */
  private async fencedWrite(build: (tx: Transaction) => void, label: string): Promise<void> {
    const ctx = this.requireCtx();
    const deadline = Date.now() + CONTROLLER_WRITE_DEADLINE_MS;
    for (let retries = 0; ; retries++) {
      const tx = this.client.transaction().check(PATHS.controllerEpoch, ctx.epochZkVersion);
      build(tx);
      try {
        const results = await tx.commit();
        this.report('write', { epoch: ctx.epoch, zxid: zxidOf(results), label, ops: tx.size, retries });
        return;
      } catch (err) {
        const transient = err instanceof ConnectionLossError || err instanceof SessionExpiredError;
        if (transient && Date.now() < deadline) {
          if (retries === 0) this.report('writeRetry', { epoch: ctx.epoch, label, error: (err as Error).name });
          await sleep(CONTROLLER_WRITE_RETRY_MS);
          continue;
        }
        if (err instanceof ZkError && err.failedOpIndex === 0) {
          this.fenced++;
          this.report('fenced', { epoch: ctx.epoch, label, error: err.codeName, fencedWrites: this.fenced });
          throw new ControllerMovedError(ctx.epoch, err.codeName);
        }
        throw err;
      }
    }
  }

  private startChurn(): void {
    this.stopChurn();
    if (this.args.churnMs > 0) this.churnTimer = setInterval(() => this.queue.push({ kind: 'isrTick' }), this.args.churnMs);
  }

  private stopChurn(): void {
    clearInterval(this.churnTimer);
    this.churnTimer = undefined;
  }

  private onError(e: BrokerEvent, err: unknown): void {
    if (this.shuttingDown) return;
    if (err instanceof ControllerMovedError) {
      this.resign(`fenced: ${err.message}`);
      this.queue.push({ kind: 'controllerChange' });
      return;
    }
    // Losing the connection or the session mid-step is what a broker lives with (a pause, a
    // partition, a server failover): it is reported as such and the step is redone, like any
    // other interruption. Only other failures are errors.
    const interrupted = err instanceof ConnectionLossError || err instanceof SessionExpiredError;
    this.report(interrupted ? 'interrupted' : 'error', { event: e.kind, error: String(err) });
    // Controller: re-read everything and reconcile. Broker: try the step again.
    const retry: BrokerEvent['kind'] | undefined = this.ctx ? 'resync' : e.kind === 'brokerChange' || e.kind === 'isrTick' ? undefined : e.kind;
    if (retry) setTimeout(() => this.queue.push({ kind: retry }), 200);
  }

  /** A timer that notices when the whole process was frozen (GC pause, SIGSTOP): only for the timeline. */
  private watchForPauses(): void {
    let last = Date.now();
    setInterval(() => {
      const now = Date.now();
      if (now - last > PAUSE_REPORT_MS) this.report('paused', { ms: now - last - PAUSE_PROBE_MS, controller: this.ctx !== undefined });
      last = now;
    }, PAUSE_PROBE_MS).unref();
  }
}

function parseArgs(argv: string[]): Args {
  const o = new Command('broker')
    .requiredOption('--id <n>', 'broker id')
    .option('--connect <hosts>', 'ZooKeeper connect string (host:port,...[/chroot])', DEFAULT_CONNECT)
    .option('--session-timeout <ms>', 'requested session timeout', '6000')
    .option('--churn-ms <ms>', 'controller ISR maintenance interval (0: off)', '250')
    .option('--host <host>', 'advertised host', '127.0.0.1')
    .option('--port <port>', 'advertised port (default 9091 + id)')
    .option('--json', 'one JSON event per line (for controller.ts)', false)
    .parse(argv)
    .opts();
  const id = intOption('id', o.id, 0);
  return {
    id,
    connect: String(o.connect),
    sessionTimeoutMs: intOption('session-timeout', o.sessionTimeout),
    churnMs: intOption('churn-ms', o.churnMs, 0),
    json: Boolean(o.json),
    host: String(o.host),
    port: o.port !== undefined ? intOption('port', o.port) : 9091 + id,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv);
  const client = await createClient(args.connect, { sessionTimeoutMs: args.sessionTimeoutMs });
  const broker = new Broker(client, args);
  const stop = () => void broker.shutdown().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  broker.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`broker: ${String(err)}\n`);
  process.exit(1);
});
