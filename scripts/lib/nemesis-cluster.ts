/**
 * The nemesis's ensemble: real `zabkeeper server` processes, each started with `ip netns exec`
 * inside its member namespace (the pid we hold is the server's own: `ip netns exec` execs), each
 * with its data directory on its own small tmpfs so its disk can be filled. zoo.cfg is what an
 * operator writes: every member on the same ports of its own address.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Topology } from './nemesis-net';

export const CLIENT_PORT = 2181;
const QUORUM_PORT = 2888;
const ELECTION_PORT = 3888;
/** Exit codes of a deliberate fail-stop (storage failure): README "fail-stop". */
export const FAIL_STOP_EXIT_CODES: readonly number[] = [2];

export interface ClusterConfig {
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** Size of each member's tmpfs, in MiB. */
  diskMiB: number;
}

export interface ExitRecord {
  member: number;
  at: number;
  code: number | null;
  signal: string | null;
  /** Set when the nemesis caused it (kill -9), or expected it (disk full: fail-stop). */
  cause?: 'kill' | 'disk-full' | 'stop';
  logTail?: string;
}

export function zooCfg(t: Topology, c: ClusterConfig, dataDir: string): string {
  return [
    '# written by the nemesis: one member of a real-process ensemble in network namespaces',
    `tickTime=${c.tickTime}`,
    `initLimit=${c.initLimit}`,
    `syncLimit=${c.syncLimit}`,
    `dataDir=${dataDir}`,
    '4lw.commands.whitelist=*',
    'maxClientCnxns=0',
    ...t.members.map((m, i) => `server.${i + 1}=${m.ip}:${QUORUM_PORT}:${ELECTION_PORT};${CLIENT_PORT}`),
    '',
  ].join('\n');
}

/** Sends a four-letter word to host:2181; resolves with the reply ('' when refused or silent). */
export function fourLetter(host: string, cmd: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect({ host, port: CLIENT_PORT }, () => sock.write(cmd));
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', done);
    sock.on('close', done);
  });
}

export class Member {
  proc: ChildProcess | undefined;
  /** The cause to attach to the next exit (set by the fault just before it acts). */
  expect: ExitRecord['cause'];
  paused = false;

  constructor(
    readonly index: number,
    readonly ns: string,
    readonly ip: string,
    readonly dir: string,
    private readonly cli: string,
    private readonly clock: () => number,
    private readonly onExit: (e: ExitRecord) => void,
  ) {}

  get id(): number {
    return this.index + 1;
  }
  get dataDir(): string {
    return path.join(this.dir, 'data');
  }
  get cfgPath(): string {
    return path.join(this.dir, 'zoo.cfg');
  }
  get logPath(): string {
    return path.join(this.dir, 'server.log');
  }
  get running(): boolean {
    return this.proc !== undefined;
  }

  start(): void {
    if (this.proc) return;
    const out = fs.openSync(this.logPath, 'a');
    const child = spawn('ip', ['netns', 'exec', this.ns, process.execPath, this.cli, 'server', '--config', this.cfgPath], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.proc = child;
    child.once('exit', (code, signal) => {
      if (this.proc === child) this.proc = undefined;
      this.paused = false;
      const cause = this.expect;
      this.expect = undefined;
      this.onExit({ member: this.id, at: this.clock(), code, signal, cause, logTail: cause === 'kill' ? undefined : tail(this.logPath, 15) });
    });
  }

  private exited(): Promise<void> {
    const p = this.proc;
    return p ? new Promise((r) => p.once('exit', () => r())) : Promise.resolve();
  }

  async kill9(cause: ExitRecord['cause'] = 'kill'): Promise<void> {
    if (!this.proc) return;
    this.expect = cause;
    const exited = this.exited();
    this.proc.kill('SIGKILL');
    await exited;
  }

  /** Graceful stop (SIGTERM; SIGKILL after 10 s). */
  async stop(): Promise<void> {
    if (!this.proc) return;
    if (this.paused) this.signal('SIGCONT');
    this.expect = 'stop';
    const exited = this.exited();
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }

  signal(sig: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.proc) return;
    this.proc.kill(sig);
    this.paused = sig === 'SIGSTOP';
  }

  /**
   * The member's `srvr` Mode; 'none' when it answers without one (not serving), 'unanswered' when
   * nothing came back within `timeoutMs` (on a starved machine a healthy member can be
   * descheduled for over a second: that is not a role change).
   */
  async mode(timeoutMs = 1000): Promise<string> {
    if (!this.proc || this.paused) return 'down';
    const out = await fourLetter(this.ip, 'srvr', timeoutMs);
    return out === '' ? 'unanswered' : (/Mode: (\w+)/.exec(out)?.[1] ?? 'none');
  }
}

export function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Mounts a tmpfs of `mib` MiB at dir (inside this process's mount namespace). */
export function mountTmpfs(dir: string, mib: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs at ${dir}: ${r.stderr.trim()}`);
}

export function umount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
}

/** Mount points at or below `root` (from /proc/self/mounts). */
export function mountsUnder(root: string): string[] {
  const text = fs.readFileSync('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => p === root || p.startsWith(root + '/'));
}

export class Cluster {
  readonly members: Member[];
  readonly exits: ExitRecord[] = [];

  constructor(
    readonly topology: Topology,
    readonly config: ClusterConfig,
    runDir: string,
    cli: string,
    private readonly clock: () => number,
  ) {
    this.members = topology.members.map((m, i) => new Member(i, m.ns, m.ip, path.join(runDir, `m${i + 1}`), cli, clock, (e) => this.exits.push(e)));
  }

  /** tmpfs data dirs, zoo.cfg and myid for every member. */
  prepare(): void {
    for (const m of this.members) {
      mountTmpfs(m.dataDir, this.config.diskMiB);
      fs.writeFileSync(path.join(m.dataDir, 'myid'), `${m.id}\n`);
      fs.writeFileSync(m.cfgPath, zooCfg(this.topology, this.config, m.dataDir));
    }
  }

  get connectString(): string {
    return this.members.map((m) => `${m.ip}:${CLIENT_PORT}`).join(',');
  }

  /** Index of the member that reports itself leader, if exactly one does. */
  async leader(): Promise<number | undefined> {
    const modes = await Promise.all(this.members.map((m) => m.mode()));
    const leaders = modes.flatMap((mode, i) => (mode === 'leader' ? [i] : []));
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Waits until every running, unpaused member serves and one leads (bounded). */
  async waitServing(timeoutMs: number): Promise<{ ok: boolean; modes: string[]; ms: number }> {
    const t0 = this.clock();
    for (;;) {
      const modes = await Promise.all(this.members.map((m) => m.mode()));
      const live = modes.filter((m) => m !== 'down');
      if (live.length > 0 && live.every((m) => m === 'leader' || m === 'follower') && live.filter((m) => m === 'leader').length === 1) {
        return { ok: true, modes, ms: this.clock() - t0 };
      }
      if (this.clock() - t0 > timeoutMs) return { ok: false, modes, ms: this.clock() - t0 };
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }

  killAllNow(): void {
    for (const m of this.members) m.proc?.kill('SIGKILL');
  }
}
