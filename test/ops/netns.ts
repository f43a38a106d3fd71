/**
 * The namespace lab for the container test, on the nemesis's topology (scripts/lib/nemesis-net.ts:
 * member namespaces and a client namespace on a bridge in a hub namespace; nothing is added to the
 * host's namespace). Adds what pods have: a hostname per member (ip netns exec bind-mounts
 * /etc/netns/<ns>/hosts), and a probe process living in the client namespace that the test drives
 * over stdin/stdout (four-letter words and client requests to the members' addresses).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { buildTopology, planTopology, runTag, teardown, type Topology } from '../../scripts/lib/nemesis-net';
import { writeOwner } from '../../scripts/lib/nemesis-outer';

export function canUseNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network and PID namespaces)';
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['unshare', ['--version']]] as const) {
    if (spawnSync(cmd, args).status !== 0) return `\`${cmd}\` does not work here`;
  }
  return undefined;
}

export interface Lab {
  topology: Topology;
  /** Address of member i (1-based). */
  addr(i: number): string;
  /** Runs a command inside member i's network namespace (the pid returned is the command's: ip netns exec execs). */
  spawnIn(i: number, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Asks the probe in the client namespace (see PROBE below). */
  probe<T>(request: Record<string, unknown>): Promise<T>;
  cleanup(): void;
}

/**
 * The probe: JSON lines in, JSON lines out. `srvr` gives each address's Mode (or null); `create`
 * creates paths through one member; `children` syncs and lists through one member.
 */
const PROBE = `
const readline = require('node:readline');
const { fourLetterWord } = require(process.argv[1] + '/dist/src/client/fourletter.js');
const { WireConnection } = require(process.argv[1] + '/dist/src/client/wire.js');
const { requests: rq } = require(process.argv[1] + '/dist/src/client/requests.js');
const { OpCode } = require(process.argv[1] + '/dist/protocol/jute/constants.js');
const { writeSyncRequest } = require(process.argv[1] + '/dist/protocol/jute/records.js');
const connect = (host) => WireConnection.connect({ host, port: 2181, sessionTimeoutMs: 10000, connectTimeoutMs: 5000 });
const ops = {
  async srvr(r) {
    return Promise.all(r.hosts.map(async (h) => (/Mode: (\\w+)/.exec(await fourLetterWord(h, 2181, 'srvr', 2000).catch(() => '')) || [])[1] || null));
  },
  async create(r) {
    const c = await connect(r.host);
    try {
      const errs = [];
      for (const p of r.paths) errs.push((await rq.create(c, p, Buffer.from('x'))).err);
      return errs;
    } finally { c.close(); }
  },
  async children(r) {
    const c = await connect(r.host);
    try {
      await c.request(OpCode.sync, (w) => writeSyncRequest(w, { path: r.path }));
      return (await rq.getChildren(c, r.path)).body.children.sort();
    } finally { c.close(); }
  },
};
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const r = JSON.parse(line);
  try { process.stdout.write(JSON.stringify({ id: r.id, ok: await ops[r.op](r) }) + '\\n'); }
  catch (e) { process.stdout.write(JSON.stringify({ id: r.id, error: String(e && e.message || e) }) + '\\n'); }
});
`;

export function createLab(members: number, hostNames: (i: number) => string, repoRoot: string): Lab {
  const topology = planTopology(runTag(process.pid, Math.random()), members);
  const nsDirs = [...topology.members.map((m) => m.ns), topology.client.ns].map((ns) => `/etc/netns/${ns}`);
  // Claimed before any namespace exists, so a concurrent nemesis run's stale sweep leaves them alone.
  const ownerDir = fs.mkdtempSync(path.join(os.tmpdir(), `zabkeeper-lab-${topology.tag}-`));
  writeOwner(ownerDir);
  let probe: ChildProcess | undefined;
  const cleanup = () => {
    probe?.stdin?.destroy();
    probe?.stdout?.destroy();
    probe?.kill('SIGKILL');
    teardown(topology);
    for (const d of nsDirs) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(ownerDir, { recursive: true, force: true });
  };
  try {
    buildTopology(topology);
    const hosts = ['127.0.0.1 localhost', ...topology.members.map((m, k) => `${m.ip} ${hostNames(k + 1)}`)].join('\n') + '\n';
    for (const d of nsDirs) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'hosts'), hosts);
    }
    probe = spawn('ip', ['netns', 'exec', topology.client.ns, process.execPath, '-e', PROBE, repoRoot], { stdio: ['pipe', 'pipe', 'inherit'] });
  } catch (err) {
    cleanup();
    throw err;
  }
  const waiting = new Map<number, (r: { ok?: unknown; error?: string }) => void>();
  readline.createInterface({ input: probe.stdout! }).on('line', (line) => {
    const r = JSON.parse(line) as { id: number; ok?: unknown; error?: string };
    waiting.get(r.id)?.(r);
    waiting.delete(r.id);
  });
  let next = 0;
  const p = probe;
  return {
    topology,
    addr: (i) => topology.members[i - 1]!.ip,
    spawnIn: (i, cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', topology.members[i - 1]!.ns, cmd, ...args], opts),
    probe: <T>(request: Record<string, unknown>) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        waiting.set(id, (r) => (r.error !== undefined ? reject(new Error(`probe ${String(request.op)}: ${r.error}`)) : resolve(r.ok as T)));
        p.stdin!.write(JSON.stringify({ ...request, id }) + '\n');
      }),
    cleanup,
  };
}

/** The pid (in our namespace) of the process `parent` forked: PID 1 of the PID namespace unshare made. */
export function childOf(parent: number): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (new RegExp(`^PPid:\\s+${parent}$`, 'm').test(status)) return Number(entry);
    } catch {
      // exited while we looked
    }
  }
  return undefined;
}

/** The process's pid as seen inside its own PID namespace (the last NSpid field). */
export function pidInNamespace(pid: number): number | undefined {
  const m = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]!.trim().split(/\s+/).pop()) : undefined;
}
