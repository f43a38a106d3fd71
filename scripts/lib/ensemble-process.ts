/**
 * Starts a replicated ensemble of real server processes on loopback — zabkeeper or Apache
 * ZooKeeper 3.8 (QuorumPeerMain) — from the same zoo.cfg files and myid files, for the ensemble
 * tests and the side-by-side benchmark. Node builtins only, so dist/scripts can use it.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { apacheClasspath, baseCfg, fourLetter, freePort, zabkeeperCli, zooCfgText, type TargetKind } from './zk-process';

export interface EnsembleMember {
  id: number;
  clientPort: number;
  dataDir: string;
  cfgPath: string;
  running(): boolean;
  /** The running process's pid (undefined when stopped). */
  pid(): number | undefined;
  /** Where the member's stdout and stderr go. */
  logPath: string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  mode(): Promise<string>;
  /** Sends a signal to the running process (SIGSTOP/SIGCONT to pause and resume it). */
  signal(sig: NodeJS.Signals): void;
  /** Resolves with the exit code of the running process when it exits by itself or is stopped. */
  exited(): Promise<number | null>;
  /** Everything the member has logged so far (all incarnations). */
  log(): string;
}

export interface TestEnsemble {
  kind: TargetKind;
  members: EnsembleMember[];
  connectString: string;
  /** Index of the current leader (polls srvr until one answers "leader"). */
  waitLeader(timeoutMs?: number): Promise<number>;
  /** Waits until every running member serves (srvr answers with a Mode). */
  waitServing(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface EnsembleOptions {
  tickTime?: number;
  extraCfg?: Record<string, string>;
  /** Per-member keys (e.g. each member's own metrics or AdminServer port), after extraCfg. */
  memberCfg?: (id: number) => Record<string, string>;
  dataDirOf?: (id: number) => string | undefined;
  /** JVM flags for Apache members (default: a small heap and quick start-up, for tests). */
  jvmArgs?: string[];
  /** How long a started member may take to answer ruok (default 30 s; Apache loads its database first). */
  startTimeoutMs?: number;
}

export async function startEnsemble(kind: TargetKind, n: number, opts: EnsembleOptions = {}): Promise<TestEnsemble> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `zkens-${kind}-`));
  // 500 ms ticks: with initLimit 10 and syncLimit 5 a member tolerates a 2.5 s stall (a loaded 2-core
  // CI machine pauses processes for over a second) without re-electing mid-test.
  const tickTime = opts.tickTime ?? 500;
  const ports = [];
  for (let i = 1; i <= n; i++) ports.push({ client: await freePort(), quorum: await freePort(), election: await freePort() });
  const serverLines: Record<string, string> = {};
  ports.forEach((p, k) => (serverLines[`server.${k + 1}`] = `${HOST}:${p.quorum}:${p.election};${HOST}:${p.client}`));
  const children = new Map<number, ChildProcess>();
  const members: EnsembleMember[] = ports.map((p, k) => {
    const id = k + 1;
    const dataDir = opts.dataDirOf?.(id) ?? path.join(root, `s${id}`);
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'myid'), `${id}\n`);
    const cfgPath = path.join(root, `zoo${id}.cfg`);
    fs.writeFileSync(cfgPath, zooCfgText({ ...baseCfg(p.client, dataDir, tickTime), initLimit: '10', syncLimit: '5', ...serverLines, ...(opts.extraCfg ?? {}), ...(opts.memberCfg?.(id) ?? {}) }));
    const logPath = path.join(root, `s${id}.log`);
    const m: EnsembleMember = {
      id,
      clientPort: p.client,
      dataDir,
      cfgPath,
      running: () => children.has(id),
      pid: () => children.get(id)?.pid,
      logPath,
      async start() {
        if (children.has(id)) return;
        const out = fs.openSync(logPath, 'a');
        const child =
          kind === 'apache'
            ? spawn('java', [...(opts.jvmArgs ?? ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']), '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-Dzookeeper.admin.enableServer=false', '-cp', apacheClasspath(), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfgPath], { stdio: ['ignore', out, out], cwd: root })
            : spawn(process.execPath, [...nodeArgs(), requireCli(), 'server', '--config', cfgPath], { stdio: ['ignore', out, out], cwd: root });
        fs.closeSync(out);
        live.add(child);
        child.once('exit', () => {
          live.delete(child);
          if (children.get(id) === child) children.delete(id);
        });
        children.set(id, child);
        const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
        const deadline = Date.now() + startTimeoutMs;
        while ((await fourLetter(p.client, 'ruok', 1000).catch(() => '')) !== 'imok') {
          if (!children.has(id)) throw new Error(`member ${id} exited; log:\n${fs.readFileSync(logPath, 'utf8').slice(-3000)}`);
          if (Date.now() > deadline) throw new Error(`member ${id} did not answer ruok within ${startTimeoutMs} ms`);
          await sleep(100);
        }
      },
      async kill9() {
        const c = children.get(id);
        if (!c) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited;
      },
      async stop() {
        const c = children.get(id);
        if (!c) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      },
      signal(sig) {
        children.get(id)?.kill(sig);
      },
      exited() {
        const c = children.get(id);
        if (!c) return Promise.resolve(null);
        return new Promise((resolve) => c.once('exit', (code) => resolve(code)));
      },
      log: () => fs.readFileSync(logPath, 'utf8'),
      async mode() {
        const text = await fourLetter(p.client, 'srvr', 2000).catch(() => '');
        return /Mode: (\w+)/.exec(text)?.[1] ?? 'none';
      },
    };
    return m;
  });
  const ens: TestEnsemble = {
    kind,
    members,
    connectString: ports.map((p) => `${HOST}:${p.client}`).join(','),
    async waitLeader(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (let k = 0; k < members.length; k++) {
          if (members[k].running() && (await members[k].mode()) === 'leader') return k;
        }
        if (Date.now() > deadline) throw new Error('no leader elected');
        await sleep(100);
      }
    },
    async waitServing(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const modes = await Promise.all(members.filter((m) => m.running()).map((m) => m.mode()));
        if (modes.every((m) => m === 'leader' || m === 'follower' || m === 'observer') && modes.includes('leader')) return;
        if (Date.now() > deadline) throw new Error(`ensemble not serving: ${modes.join(',')}`);
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all(members.map((m) => m.stop()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  await Promise.all(members.map((m) => m.start()));
  return ens;
}

/** Extra node flags for zabkeeper members (ZABKEEPER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" to profile a benchmark). */
function nodeArgs(): string[] {
  return (process.env.ZABKEEPER_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
}

function requireCli(): string {
  const cli = zabkeeperCli();
  if (!fs.existsSync(cli)) throw new Error(`${cli} does not exist (run \`npm run build\` first)`);
  return cli;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
