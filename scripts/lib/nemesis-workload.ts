/**
 * The nemesis's workload: several real client sessions (zabkeeper's TypeScript client; each
 * shuffles the member list, so sessions spread over the members) recording what they saw.
 *
 *  - register clients: compare-and-set registers (setData with and without a version, sync+read,
 *    plain getData) on keys that rotate every few seconds, so each key's history stays small for
 *    the linearizability search; and unique persistent creates
 *  - mutex clients: Mutex (revokeOnSuspended) holders doing lock-fenced writes
 *    (multi: check(our lock node), setData)
 *  - latch clients: LeaderLatch participants that now and then step out and rejoin
 *
 * Every operation gets a deadline; an operation whose outcome is unknown (connection loss,
 * timeout, session expiry) is recorded as `info`.
 */
import {
  BadVersionError,
  NoNodeError,
  NodeExistsError,
  RetryUntilElapsed,
  createClient,
  type ConnectionState,
  type ZkClient,
} from '../../src/client';
import { LeaderLatch, Mutex, type LockHandle } from '../../src/recipes';
import { Prng } from '../../src/util/prng';
import type { CreateOp, FencedWrite, History, HoldInterval, Outcome, RegisterOp } from './nemesis-checkers';

export const ROOT = '/nemesis';
export const SET = `${ROOT}/set`;
const REG = `${ROOT}/reg`;
const LOCK = `${ROOT}/lock`;
const LATCH = `${ROOT}/latch`;
const FENCE = `${ROOT}/fence`;
export const INITIAL_VALUE = 'init';

export interface WorkloadOptions {
  connectString: string;
  seed: number;
  registerClients: number;
  mutexClients: number;
  latchClients: number;
  sessionTimeoutMs: number;
  opTimeoutMs: number;
  /** A new register key every this many ms. */
  keyPeriodMs: number;
  /** Enough keys for the whole run. */
  keys: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ZooKeeper's definite answers (it ordered the op and refused it); anything else is unknown. */
function classify(err: unknown): { type: Outcome; error: string } {
  if (err instanceof BadVersionError) return { type: 'fail', error: 'BadVersion' };
  if (err instanceof NoNodeError) return { type: 'fail', error: 'NoNode' };
  if (err instanceof NodeExistsError) return { type: 'fail', error: 'NodeExists' };
  const name = (err as Error)?.name ?? String(err);
  return { type: 'info', error: name.replace(/Error$/, '') };
}

const hex = (n: bigint) => n.toString(16);

export class Workload {
  readonly history: Pick<History, 'registers' | 'creates' | 'holds' | 'fenced' | 'stalls'> = { registers: [], creates: [], holds: [], fenced: [], stalls: [] };
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly loopClients: number[] = [];
  private readonly clients: ZkClient[] = [];
  private readonly rng: Prng;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Set when setup finished: the start of the recorded history. */
  startedAt = 0;
  /** What each client loop is waiting on, and since when (to name a stuck one). */
  private readonly doing = new Map<number, { what: string; since: number }>();
  /** Loops that had not finished 20 s after stop(): client, what it waited on, since when. */
  readonly stuck: { client: number; what: string; since: number }[] = [];
  /** Lock/latch nodes still there after every recipe was closed (see findOrphans). */
  readonly orphans: string[] = [];

  constructor(
    private readonly o: WorkloadOptions,
    private readonly clock: () => number,
  ) {
    this.rng = new Prng(o.seed).fork().fork().fork();
  }

  private async client(): Promise<ZkClient> {
    const c = await createClient(this.o.connectString, { sessionTimeoutMs: this.o.sessionTimeoutMs, connectTimeoutMs: 60_000, random: () => this.rng.next() });
    this.clients.push(c);
    return c;
  }

  /** The key in use now (rotates every keyPeriodMs). */
  private key(): string {
    const k = Math.min(this.o.keys - 1, Math.floor((this.clock() - this.startedAt) / this.o.keyPeriodMs));
    return `${REG}/k${k}`;
  }

  private deadline(): AbortSignal {
    return AbortSignal.timeout(this.o.opTimeoutMs);
  }

  /**
   * The znodes the workload needs. The ensemble may still be settling (a second election on a
   * busy machine): these idempotent creates are retried on connection loss for up to a minute.
   */
  async setup(): Promise<void> {
    const admin = await createClient(this.o.connectString, { sessionTimeoutMs: this.o.sessionTimeoutMs, connectTimeoutMs: 60_000, retryPolicy: new RetryUntilElapsed(60_000, 200) });
    this.clients.push(admin);
    for (const p of [ROOT, REG, SET, LOCK, LATCH]) await admin.create(p).catch((e) => (e instanceof NodeExistsError ? undefined : Promise.reject(e)));
    await admin.create(FENCE, 'none').catch((e) => (e instanceof NodeExistsError ? undefined : Promise.reject(e)));
    for (let k = 0; k < this.o.keys; k++) await admin.create(`${REG}/k${k}`, INITIAL_VALUE).catch((e) => (e instanceof NodeExistsError ? undefined : Promise.reject(e)));
    await admin.close();
    this.clients.splice(this.clients.indexOf(admin), 1);
  }

  async start(): Promise<void> {
    this.startedAt = this.clock();
    this.watchStalls();
    const run = (client: number, loop: (c: number, zk: ZkClient, rng: Prng) => Promise<void>, zk: ZkClient) => {
      this.loopClients.push(client);
      this.loops.push(loop.call(this, client, zk, this.rng.fork()));
    };
    for (let i = 0; i < this.o.registerClients; i++) run(i + 1, this.registerLoop, await this.client());
    for (let i = 0; i < this.o.mutexClients; i++) run(100 + i + 1, this.mutexLoop, await this.client());
    for (let i = 0; i < this.o.latchClients; i++) run(200 + i + 1, this.latchLoop, await this.client());
  }

  /** Stops issuing operations, waits for the loops (each op is bounded), closes every session. */
  async stop(): Promise<void> {
    this.stopping = true;
    // Every operation has a deadline, so a loop that does not end is stuck inside a recipe or the
    // client: report it rather than wait forever.
    const done = new Set<number>();
    this.loops.forEach((l, i) => void l.then(() => done.add(i)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.loops), new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    this.loops.forEach((_, i) => {
      const c = this.loopClients[i]!;
      if (!done.has(i)) this.stuck.push({ client: c, ...(this.doing.get(c) ?? { what: '?', since: 0 }) });
    });
    if (this.stuck.length === 0) await this.findOrphans();
    clearInterval(this.stallTimer);
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }

  /**
   * Every latch is closed and every lock released now, while the sessions still live: a node left
   * under /lock or /latch is an orphan that blocks every later contender for as long as its
   * session lives.
   */
  private async findOrphans(): Promise<void> {
    let zk: ZkClient | undefined;
    try {
      zk = await createClient(this.o.connectString, { sessionTimeoutMs: this.o.sessionTimeoutMs, connectTimeoutMs: 20_000 });
      for (const dir of [LOCK, LATCH]) {
        await zk.sync(dir, { signal: AbortSignal.timeout(20_000) });
        for (const name of (await zk.getChildren(dir, { signal: AbortSignal.timeout(20_000) })).children) {
          const { data, stat } = await zk.getData(`${dir}/${name}`, { signal: AbortSignal.timeout(20_000) }).catch(() => ({ data: null, stat: undefined }));
          this.orphans.push(`${dir}/${name} (data ${JSON.stringify(data?.toString() ?? '')}, session 0x${stat?.ephemeralOwner.toString(16) ?? '?'}, created at zxid 0x${stat?.czxid.toString(16) ?? '?'})`);
        }
      }
    } catch (err) {
      this.orphans.push(`(could not list the recipe nodes: ${(err as Error).message})`);
    } finally {
      await zk?.close().catch(() => undefined);
    }
  }

  /** Records stretches when this process's event loop did not run (the clients could not react). */
  private watchStalls(): void {
    const stepMs = 50;
    let last = this.clock();
    this.stallTimer = setInterval(() => {
      const now = this.clock();
      if (now - last > stepMs + 150) this.history.stalls.push({ at: last, ms: now - last - stepMs });
      last = now;
    }, stepMs);
  }

  // -------------------------------------------------------------- registers and creates

  private step(client: number, what: string): void {
    this.doing.set(client, { what, since: this.clock() });
  }

  private async registerLoop(client: number, zk: ZkClient, rng: Prng): Promise<void> {
    this.step(client, 'starting');
    let n = 0;
    const versions = new Map<string, number>();
    while (!this.stopping) {
      const key = this.key();
      const roll = rng.next();
      this.step(client, `operation ${n}`);
      if (roll < 0.2) await this.create(client, zk, `${SET}/c${client}-${n++}`);
      else {
        const f: RegisterOp['f'] = roll < 0.42 ? 'write' : roll < 0.64 ? 'cas' : roll < 0.86 ? 'read' : 'plain-read';
        const op = await this.register(client, zk, key, f, `c${client}-${n++}`, versions.get(key) ?? 0);
        if (op.version !== undefined) versions.set(key, op.version);
      }
      await sleep(rng.range(5, 40));
    }
  }

  private async register(client: number, zk: ZkClient, key: string, f: RegisterOp['f'], value: string, expected: number): Promise<RegisterOp> {
    const op: RegisterOp = { client, session: hex(zk.sessionId), key, f, call: this.clock(), ret: 0, type: 'ok' };
    if (f === 'write' || f === 'cas') op.value = value;
    if (f === 'cas') op.expected = expected;
    try {
      if (f === 'write' || f === 'cas') {
        const stat = await zk.setData(key, value, { version: f === 'cas' ? expected : -1, signal: this.deadline() });
        op.version = stat.version;
        op.mzxid = stat.mzxid.toString(16);
      } else {
        const signal = this.deadline();
        if (f === 'read') await zk.sync(key, { signal });
        const r = await zk.getData(key, { signal });
        op.read = r.data?.toString('utf8') ?? '';
        op.version = r.stat.version;
        op.mzxid = r.stat.mzxid.toString(16);
      }
    } catch (err) {
      Object.assign(op, classify(err));
    }
    op.ret = this.clock();
    op.session = hex(zk.sessionId);
    op.server = zk.connectedHost;
    this.history.registers.push(op);
    return op;
  }

  private async create(client: number, zk: ZkClient, path: string): Promise<void> {
    const op: CreateOp = { client, session: hex(zk.sessionId), path, call: this.clock(), ret: 0, type: 'ok' };
    try {
      await zk.create(path, path, { signal: this.deadline() });
    } catch (err) {
      Object.assign(op, classify(err));
    }
    op.ret = this.clock();
    this.history.creates.push(op);
  }

  // -------------------------------------------------------------- mutex

  private async mutexLoop(client: number, zk: ZkClient, rng: Prng): Promise<void> {
    this.step(client, 'starting');
    const mutex = new Mutex(zk, LOCK, { revokeOnSuspended: true });
    let n = 0;
    while (!this.stopping) {
      let lock: LockHandle | null = null;
      this.step(client, 'Mutex.acquire({ timeoutMs: 3000 })');
      try {
        lock = await mutex.acquire({ timeoutMs: 3000 });
      } catch {
        // connection trouble while queueing: try again
      }
      if (!lock) {
        await sleep(rng.range(20, 100));
        continue;
      }
      const hold: HoldInterval = { what: 'mutex', client, node: lock.path, start: this.clock(), end: 0, endReason: '' };
      const revoked = new Promise<string>((resolve) => {
        const sig = lock!.signal;
        const onAbort = () => resolve(String((sig.reason as Error)?.message ?? 'revoked').replace(/^lock .*: connection /, ''));
        if (sig.aborted) onAbort();
        else sig.addEventListener('abort', onAbort, { once: true });
      });
      let reason = '';
      void revoked.then((r) => {
        reason = r;
        if (!hold.end) hold.end = this.clock();
      });
      const until = this.clock() + rng.range(50, 400);
      while (!reason && !this.stopping && this.clock() < until) {
        this.step(client, `fenced write holding ${lock.path}`);
        await this.fencedWrite(client, zk, lock.path, `${client}-${n++}`);
        await sleep(rng.range(10, 60));
      }
      if (!hold.end) hold.end = this.clock();
      hold.endReason = reason || 'released';
      this.history.holds.push(hold);
      this.step(client, `LockHandle.release() of ${lock.path}`);
      await lock.release().catch(() => undefined);
      this.step(client, 'between holds');
      await sleep(rng.range(0, 100));
    }
  }

  private async fencedWrite(client: number, zk: ZkClient, node: string, value: string): Promise<void> {
    try {
      const res = await zk.transaction().check(node, -1).setData(FENCE, value).commit({ signal: this.deadline() });
      const set = res[1];
      if (set?.type === 'setData') this.history.fenced.push({ client, node, zxid: set.stat.mzxid.toString() } satisfies FencedWrite);
    } catch {
      // Refused (our node is gone) or unknown: nothing to record; the checker needs successes only.
    }
  }

  // -------------------------------------------------------------- leader latch

  private async latchLoop(client: number, zk: ZkClient, rng: Prng): Promise<void> {
    this.step(client, 'starting');
    let generation = 0;
    while (!this.stopping) {
      const node = `latch-${client}-${generation++}`;
      const latch = new LeaderLatch(zk, LATCH, { id: node });
      let open: HoldInterval | undefined;
      const end = (reason: string) => {
        if (!open) return;
        open.end = this.clock();
        open.endReason = reason;
        this.history.holds.push(open);
        open = undefined;
      };
      let lastState: ConnectionState | 'connecting' = zk.state;
      const onState = (s: ConnectionState) => (lastState = s);
      zk.on('state', onState);
      latch.on('isLeader', () => (open = { what: 'latch', client, node, start: this.clock(), end: 0, endReason: '' }));
      latch.on('notLeader', () => end(String(lastState)));
      latch.on('error', () => undefined);
      try {
        this.step(client, `LeaderLatch.start() (${node})`);
        await latch.start();
        this.step(client, `in the latch (${node})`);
        const stayMs = rng.range(1000, 5000);
        const until = this.clock() + stayMs;
        while (!this.stopping && this.clock() < until) await sleep(50);
      } catch {
        // could not join (connection trouble): rejoin below
      }
      end('closed');
      this.step(client, `LeaderLatch.close() (${node})`);
      await latch.close().catch(() => undefined);
      zk.off('state', onState);
      await sleep(rng.range(0, 500));
    }
  }

  // -------------------------------------------------------------- final reads

  /**
   * After healing: the /set children as `connect` (one member) reports them after a sync, and a
   * sync+read of every register key (recorded as ordinary reads, so a lost write shows).
   */
  async finalReads(connect: string, client: number): Promise<string[] | undefined> {
    let zk: ZkClient | undefined;
    try {
      zk = await createClient(connect, { sessionTimeoutMs: this.o.sessionTimeoutMs, connectTimeoutMs: 20_000 });
      for (let k = 0; k < this.o.keys; k++) await this.register(client, zk, `${REG}/k${k}`, 'read', '', 0);
      await zk.sync(SET, { signal: AbortSignal.timeout(20_000) });
      const { children } = await zk.getChildren(SET, { signal: AbortSignal.timeout(20_000) });
      return children;
    } catch {
      return undefined;
    } finally {
      await zk?.close().catch(() => undefined);
    }
  }
}
