/**
 * A small network lab for tests that need root: N network namespaces on one bridge, each with its
 * own address and an /etc/hosts (ip netns exec bind-mounts /etc/netns/<ns>/hosts) naming every
 * member, as pods on one cluster network see each other. Names carry this process's pid, so
 * parallel runs never collide; labs left behind by dead processes are removed on creation.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

const PREFIX = 'zo';

export function canUseNamespaces(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network and PID namespaces)';
  for (const tool of ['ip', 'unshare']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      return `needs ${tool}`;
    }
  }
  return undefined;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Namespaces and bridges of labs whose process is gone (a killed test run) are removed. */
function removeStaleLabs(): void {
  const stale = new Set<number>();
  for (const line of ip('netns', 'list').split('\n')) {
    const m = new RegExp(`^${PREFIX}(\\d+)-\\d+`).exec(line);
    if (m && !alive(Number(m[1]))) stale.add(Number(m[1]));
  }
  for (const pid of stale) removeLab(`${PREFIX}${pid}`, 16);
}

function removeLab(tag: string, members: number): void {
  for (let i = 1; i <= members; i++) {
    tryIp('netns', 'del', `${tag}-${i}`);
    fs.rmSync(`/etc/netns/${tag}-${i}`, { recursive: true, force: true });
  }
  tryIp('link', 'del', `${tag}br`);
}

/** A /24 in 10.77.0.0/16 that no interface on this host uses. */
function freeSubnet(): string {
  const used = ip('-4', '-o', 'addr').split('\n');
  for (let k = 0; k < 254; k++) {
    const x = ((process.pid + k) % 253) + 1;
    if (!used.some((l) => l.includes(` 10.77.${x}.`))) return `10.77.${x}`;
  }
  throw new Error('no free 10.77.x.0/24 subnet for the test network');
}

export interface Lab {
  /** Address of member i (1-based). */
  addr(i: number): string;
  ns(i: number): string;
  /** Runs a command inside member i's network namespace (a child of this process). */
  spawnIn(i: number, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  cleanup(): void;
}

export function createLab(members: number, hostNames: (i: number) => string): Lab {
  removeStaleLabs();
  const tag = `${PREFIX}${process.pid}`;
  const subnet = freeSubnet();
  const bridge = `${tag}br`;
  const lab: Lab = {
    addr: (i) => `${subnet}.${i}`,
    ns: (i) => `${tag}-${i}`,
    spawnIn: (i, cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', lab.ns(i), cmd, ...args], opts),
    cleanup: () => removeLab(tag, members),
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${subnet}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const hosts = ['127.0.0.1 localhost', ...Array.from({ length: members }, (_, k) => `${lab.addr(k + 1)} ${hostNames(k + 1)}`)].join('\n') + '\n';
    for (let i = 1; i <= members; i++) {
      const ns = lab.ns(i);
      ip('netns', 'add', ns);
      ip('link', 'add', `${tag}h${i}`, 'type', 'veth', 'peer', 'name', `${tag}n${i}`, 'netns', ns);
      ip('link', 'set', `${tag}h${i}`, 'master', bridge, 'up');
      ip('-n', ns, 'addr', 'add', `${lab.addr(i)}/24`, 'dev', `${tag}n${i}`);
      ip('-n', ns, 'link', 'set', `${tag}n${i}`, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      fs.writeFileSync(`/etc/netns/${ns}/hosts`, hosts);
    }
  } catch (err) {
    lab.cleanup();
    throw err;
  }
  return lab;
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
