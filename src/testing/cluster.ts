/**
 * startTestCluster(): a real replicated zabkeeper ensemble for users' tests (Curator's
 * TestingCluster): N member processes on loopback, each with its own zoo.cfg, myid and SQLite data
 * directory, so kill() is a real SIGKILL, pause() a real SIGSTOP and restart() recovers from disk.
 *
 * Partitions need no root: the server with the larger id dials the smaller one (one TCP link per
 * pair), so each member's zoo.cfg names its lower-id peers at a proxy port instead of their real
 * quorum port. Blocking a pair's proxy silences the link (open connections stall, new ones are
 * refused) exactly like dropped packets, without touching the members.
 *
 * Members are children with an IPC channel: they stop by themselves if the test process dies, and
 * answer status and expireSession requests (./control.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProxy, type Proxy } from './proxy';
import { freePort, zooCfgText } from './ports';
import type { ControlReply, ControlRequest, ServerStatus } from './control';

export interface TestClusterOptions {
  /** Members (all voting). Default 3. */
  servers?: number;
  /** Default 200 ms; session timeouts are clamped to [2, 20] ticks. */
  tickTimeMs?: number;
  /** Ticks; defaults 10 and 5. */
  initLimit?: number;
  syncLimit?: number;
  /** More zoo.cfg keys for every member. */
  config?: Record<string, string>;
  /** How long start, restart and leader() wait. Default 60 s. */
  timeoutMs?: number;
  /** Serve the web console on every member (on 127.0.0.1, a port of its own: `member.consoleUrl`). */
  console?: { edits?: boolean };
}

export interface TestClusterMember {
  /** Its myid (1-based). */
  readonly id: number;
  /** Client port on 127.0.0.1. */
  readonly port: number;
  /** This member alone. */
  readonly connectString: string;
  readonly dataDir: string;
  /** Its stdout/stderr (pino JSON), for diagnosing a failed test. */
  readonly logPath: string;
  /** `http://127.0.0.1:<port>/console/` when the cluster was started with `console`. */
  readonly consoleUrl: string | undefined;
  readonly running: boolean;
  readonly paused: boolean;
  /** The member's process id while it runs. */
  readonly pid: number | undefined;
  /** SIGKILL: nothing is flushed, nothing is closed (data already fsynced survives). */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
  /** Stops it if running, starts it on the same ports and data, and waits until it serves clients. */
  restart(opts?: { waitServing?: boolean }): Promise<void>;
  /** SIGSTOP: the process freezes (timers, sockets, everything), as in a long GC pause. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Cuts this member off from every other member (its clients still reach it). */
  partition(): void;
  /** Restores this member's links. */
  heal(): void;
  /** Role and zxid as the member sees them; undefined when it is not running or does not answer. */
  status(timeoutMs?: number): Promise<ServerStatus | undefined>;
}

export interface TestCluster {
  readonly members: readonly TestClusterMember[];
  /** Every member's client address. */
  readonly connectString: string;
  member(id: number): TestClusterMember;
  /** Waits until exactly one member leads with a quorum, and returns it. */
  leader(timeoutMs?: number): Promise<TestClusterMember>;
  /** Waits until every running, unpaused, unpartitioned member serves clients. */
  waitServing(timeoutMs?: number): Promise<void>;
  /** Members in different groups cannot reach each other; members in no group form one more group. */
  partition(...groups: number[][]): void;
  /** Every link restored. */
  heal(): void;
  /** Expires a session now, through the leader (see TestServer.expireSession). */
  expireSession(sessionId: bigint): Promise<void>;
  /** Stops every member and removes the cluster's directory. Idempotent. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const POLL_MS = 50;
const STOP_GRACE_MS = 10_000;

/** The compiled CLI: beside this file in dist/, or the repo's dist/ when run from sources (ts-jest). */
function cliPath(): string {
  const candidates = [path.join(__dirname, '../cli/index.js'), path.join(__dirname, '../../dist/src/cli/index.js')];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`startTestCluster: the zabkeeper CLI is not built (looked for ${candidates.join(', ')}); run npm run build`);
  return found;
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Every member process of every cluster, killed if the test process exits without stop(). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

const pairKey = (a: number, b: number) => (a < b ? `${a}-${b}` : `${b}-${a}`);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`startTestCluster: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface Ports {
  client: number;
  quorum: number;
  election: number;
}

class Member implements TestClusterMember {
  private child: ChildProcess | undefined;
  private pausedFlag = false;
  private nextId = 1;
  private readonly pending = new Map<number, (r: ControlReply) => void>();
  readonly connectString: string;
  readonly dataDir: string;
  readonly logPath: string;
  readonly cfgPath: string;

  constructor(
    readonly id: number,
    readonly ports: Ports,
    root: string,
    private readonly cluster: Cluster,
    private readonly consoleArgs: string[] = [],
    readonly consoleUrl: string | undefined = undefined,
  ) {
    this.connectString = `${HOST}:${ports.client}`;
    this.dataDir = path.join(root, `s${id}`);
    this.logPath = path.join(root, `s${id}.log`);
    this.cfgPath = path.join(root, `zoo${id}.cfg`);
  }

  get port(): number {
    return this.ports.client;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get paused(): boolean {
    return this.pausedFlag;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the member and resolves once its server is up (listening; serving if asked). */
  async start(waitServing: boolean): Promise<void> {
    if (this.child) return;
    const out = fs.openSync(this.logPath, 'a');
    const child = spawn(process.execPath, [cliPath(), 'server', '--config', this.cfgPath, ...this.consoleArgs], { stdio: ['ignore', out, out, 'ipc'], cwd: this.dataDir });
    fs.closeSync(out);
    this.child = child;
    live.add(child);
    // A forgotten cluster must not keep the test process alive; every wait below has its own timer.
    child.unref();
    child.channel?.unref();
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (msg: { zabkeeper?: string; id?: number }) => {
        if (msg?.zabkeeper === 'ready') resolve();
        if (msg?.zabkeeper === 'control-reply') this.pending.get(msg.id!)?.(msg as ControlReply);
      });
      child.once('exit', (code, signal) => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        this.pausedFlag = false;
        for (const done of this.pending.values()) done({ zabkeeper: 'control-reply', id: 0, ok: false, error: 'member exited', code: 'failed' });
        this.pending.clear();
        reject(new Error(`member ${this.id} exited (${code ?? signal}) while starting; log:\n${tail(this.logPath)}`));
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`member ${this.id} did not start within ${this.cluster.timeoutMs} ms; log:\n${tail(this.logPath)}`)), this.cluster.timeoutMs);
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
    ready.catch(() => undefined); // a later exit is reported by 'exit', not as an unhandled rejection
    if (waitServing) await until(`member ${this.id} serving`, this.cluster.timeoutMs, async () => ((await this.status())?.serving ? true : undefined));
  }

  private request(req: { op: 'status' } | { op: 'expireSession'; sessionId: string }, timeoutMs: number): Promise<ControlReply | undefined> {
    const child = this.child;
    if (!child || this.pausedFlag || !child.connected) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (r: ControlReply | undefined) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(r);
      };
      this.pending.set(id, finish);
      child.send({ ...req, zabkeeper: 'control', id } satisfies ControlRequest, (err) => err && finish(undefined));
    });
  }

  async status(timeoutMs = 2000): Promise<ServerStatus | undefined> {
    const r = await this.request({ op: 'status' }, timeoutMs);
    return r?.ok ? r.result : undefined;
  }

  /** Asks this member to expire a session: true when done, false when it is not the leader. */
  async expire(sessionId: bigint): Promise<boolean> {
    const r = await this.request({ op: 'expireSession', sessionId: sessionId.toString() }, this.cluster.timeoutMs);
    if (!r) return false;
    if (r.ok) return true;
    if (r.code === 'notLeader') return false;
    throw new Error(`expireSession: ${r.error}`);
  }

  private halt(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.pausedFlag) child.kill('SIGCONT'); // a stopped process cannot handle SIGTERM
      child.kill(signal);
    });
  }

  kill(): Promise<void> {
    return this.halt('SIGKILL');
  }

  stop(): Promise<void> {
    return this.halt('SIGTERM');
  }

  async restart(opts: { waitServing?: boolean } = {}): Promise<void> {
    await this.stop();
    await this.start(opts.waitServing ?? true);
  }

  pause(): void {
    if (!this.child || this.pausedFlag) return;
    this.child.kill('SIGSTOP');
    this.pausedFlag = true;
  }

  resume(): void {
    if (!this.child || !this.pausedFlag) return;
    this.child.kill('SIGCONT');
    this.pausedFlag = false;
  }

  partition(): void {
    this.cluster.setLinks(this.id, true);
  }

  heal(): void {
    this.cluster.setLinks(this.id, false);
  }
}

class Cluster implements TestCluster {
  members: Member[] = [];
  readonly links = new Map<string, Proxy>();
  private stopped: Promise<void> | undefined;

  constructor(
    readonly root: string,
    readonly timeoutMs: number,
  ) {}

  get connectString(): string {
    return this.members.map((m) => m.connectString).join(',');
  }

  member(id: number): Member {
    const m = this.members.find((x) => x.id === id);
    if (!m) throw new RangeError(`no member ${id} (ids are 1..${this.members.length})`);
    return m;
  }

  setLinks(id: number, blocked: boolean): void {
    for (const other of this.members) {
      if (other.id === id) continue;
      const link = this.links.get(pairKey(id, other.id))!;
      if (blocked) link.block();
      else link.unblock();
    }
  }

  partition(...groups: number[][]): void {
    const listed = new Set(groups.flat());
    for (const id of listed) this.member(id);
    const all = [...groups, this.members.map((m) => m.id).filter((id) => !listed.has(id))];
    const groupOf = (id: number) => all.findIndex((g) => g.includes(id));
    for (const a of this.members) {
      for (const b of this.members) {
        if (a.id >= b.id) continue;
        const link = this.links.get(pairKey(a.id, b.id))!;
        if (groupOf(a.id) === groupOf(b.id)) link.unblock();
        else link.block();
      }
    }
  }

  heal(): void {
    for (const link of this.links.values()) link.unblock();
  }

  /** The members `id` can reach through unblocked links (itself included). */
  private component(id: number): Set<number> {
    const seen = new Set([id]);
    const queue = [id];
    while (queue.length > 0) {
      const a = queue.pop()!;
      for (const b of this.members) {
        if (!seen.has(b.id) && !this.links.get(pairKey(a, b.id))!.blocked) {
          seen.add(b.id);
          queue.push(b.id);
        }
      }
    }
    return seen;
  }

  /**
   * A leader cut off from the majority keeps believing it leads until its lease runs out; it is
   * never the one returned: only members that can reach a majority count.
   */
  async leader(timeoutMs = this.timeoutMs): Promise<Member> {
    return until('a single serving leader with a majority', timeoutMs, async () => {
      const candidates = this.members.filter((m) => this.component(m.id).size * 2 > this.members.length);
      const statuses = await Promise.all(candidates.map(async (m) => ({ m, s: await m.status() })));
      const leaders = statuses.filter(({ s }) => (s?.mode === 'leader' || s?.mode === 'standalone') && s.serving);
      return leaders.length === 1 ? leaders[0]!.m : undefined;
    });
  }

  async waitServing(timeoutMs = this.timeoutMs): Promise<void> {
    const cut = (m: Member) => this.members.some((o) => o.id !== m.id && this.links.get(pairKey(m.id, o.id))!.blocked);
    await until('every reachable member serving', timeoutMs, async () => {
      const expected = this.members.filter((m) => m.running && !m.paused && !cut(m));
      const statuses = await Promise.all(expected.map((m) => m.status()));
      return statuses.every((s) => s?.serving) && statuses.some((s) => s?.mode === 'leader' || s?.mode === 'standalone') ? true : undefined;
    });
  }

  async expireSession(sessionId: bigint): Promise<void> {
    await until(`expiry of session 0x${sessionId.toString(16)} by the leader`, this.timeoutMs, async () => {
      const leader = await this.leader();
      return (await leader.expire(sessionId)) ? true : undefined;
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(this.members.map((m) => m.stop()));
      await Promise.all([...this.links.values()].map((l) => l.close()));
      fs.rmSync(this.root, { recursive: true, force: true });
    })();
    return this.stopped;
  }
}

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const n = opts.servers ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`startTestCluster: servers must be a positive integer, got ${n}`);
  const tickTimeMs = opts.tickTimeMs ?? 200;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `zabkeeper-cluster-${process.pid}-`));
  const cluster = new Cluster(root, opts.timeoutMs ?? 60_000);
  try {
    const ports: Ports[] = [];
    for (let i = 0; i < n; i++) ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
    const consoles: (number | undefined)[] = [];
    for (let i = 0; i < n; i++) consoles.push(opts.console ? await freePort() : undefined);
    cluster.members = ports.map((p, k) => {
      const port = consoles[k];
      if (port === undefined) return new Member(k + 1, p, root, cluster);
      const args = ['--console-port', String(port), ...(opts.console?.edits ? ['--console-edits'] : [])];
      return new Member(k + 1, p, root, cluster, args, `http://127.0.0.1:${port}/console/`);
    });
    // Member j dials every lower id i: through the proxy for the pair (i, j).
    for (const a of cluster.members) {
      for (const b of cluster.members) {
        if (a.id < b.id) cluster.links.set(pairKey(a.id, b.id), await startProxy(a.ports.quorum, HOST, { record: false }));
      }
    }
    for (const m of cluster.members) {
      fs.mkdirSync(m.dataDir, { recursive: true });
      fs.writeFileSync(path.join(m.dataDir, 'myid'), `${m.id}\n`);
      const servers: Record<string, string> = {};
      for (const o of cluster.members) {
        const quorum = o.id < m.id ? cluster.links.get(pairKey(o.id, m.id))!.port : o.ports.quorum;
        servers[`server.${o.id}`] = `${HOST}:${quorum}:${o.ports.election};${HOST}:${o.ports.client}`;
      }
      const cfg = {
        tickTime: String(tickTimeMs),
        initLimit: String(opts.initLimit ?? 10),
        syncLimit: String(opts.syncLimit ?? 5),
        dataDir: m.dataDir,
        maxClientCnxns: '0',
        '4lw.commands.whitelist': '*',
        // Members share a host: ZooKeeper's default AdminServer port 8080 would be taken by one.
        'admin.enableServer': 'false',
        ...servers,
        ...opts.config,
      };
      fs.writeFileSync(m.cfgPath, zooCfgText(cfg));
    }
    await Promise.all(cluster.members.map((m) => m.start(false)));
    await cluster.waitServing();
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
