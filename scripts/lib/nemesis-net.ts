/**
 * The nemesis's network: one network namespace per member and one for the clients, each joined by
 * a veth pair to a bridge that lives in its own "hub" namespace. Nothing is added to the host's
 * namespace (no bridge, route or rule there), so runs never collide with the host or with each
 * other; the names of the namespaces carry a per-run tag (pid + random), and the addresses
 * (198.18.0.0/24, the benchmarking range of RFC 2544) exist only inside this run's namespaces.
 *
 * Partitions are iptables DROP rules inside the members' namespaces (INPUT/OUTPUT by peer
 * address), so connections really stall, as on a real network. Plans are pure (lists of argv);
 * `run`/`runSync` execute them.
 */
import { execFile, spawnSync } from 'node:child_process';

export interface Endpoint {
  /** Network namespace name. */
  ns: string;
  /** Address on the bridge. */
  ip: string;
  /** The hub-side end of its veth pair (inside the hub namespace). */
  port: string;
}

export interface Topology {
  tag: string;
  hub: string;
  client: Endpoint;
  /** members[i] is member i + 1. */
  members: Endpoint[];
}

const SUBNET = '198.18.0';

/** Names and addresses for a run (pure). */
export function planTopology(tag: string, members: number): Topology {
  const ep = (name: string, host: number, port: string): Endpoint => ({ ns: `${tag}-${name}`, ip: `${SUBNET}.${host}`, port });
  return {
    tag,
    hub: `${tag}-hub`,
    client: ep('c', 2, 'pc'),
    members: Array.from({ length: members }, (_, i) => ep(`m${i + 1}`, 11 + i, `pm${i + 1}`)),
  };
}

/** A run tag: short, unique per process and per call, safe in namespace names. */
export function runTag(pid: number, random: number): string {
  return `zkn${pid.toString(36)}${Math.floor(random * 36 ** 4).toString(36).padStart(4, '0')}`;
}

/** argv lists that build the topology, in order. */
export function setupCommands(t: Topology): string[][] {
  const cmds: string[][] = [
    ['ip', 'netns', 'add', t.hub],
    ['ip', '-n', t.hub, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', t.hub, 'link', 'add', 'br0', 'type', 'bridge'],
    ['ip', '-n', t.hub, 'link', 'set', 'br0', 'up'],
  ];
  for (const e of [t.client, ...t.members]) {
    cmds.push(
      ['ip', 'netns', 'add', e.ns],
      ['ip', '-n', e.ns, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', t.hub, 'link', 'add', e.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', e.ns],
      ['ip', '-n', t.hub, 'link', 'set', e.port, 'master', 'br0'],
      ['ip', '-n', t.hub, 'link', 'set', e.port, 'up'],
      ['ip', '-n', e.ns, 'addr', 'add', `${e.ip}/24`, 'dev', 'eth0'],
      ['ip', '-n', e.ns, 'link', 'set', 'eth0', 'up'],
    );
  }
  return cmds;
}

export function namespaces(t: Topology): string[] {
  return [t.hub, t.client.ns, ...t.members.map((m) => m.ns)];
}

/** Runs argv synchronously (setup and teardown only); throws with stderr on failure. */
export function runSync(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

/** Runs argv without blocking the event loop (the workload's clocks keep running). */
export function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')} failed: ${String(stderr).trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

export function buildTopology(t: Topology): void {
  for (const c of setupCommands(t)) runSync(c);
}

/**
 * Removes the run's namespaces, after killing (SIGKILL, by pid) every process still inside one:
 * those can only be processes this run started. Deleting a namespace removes its veth ends (and
 * the bridge with the hub). Never throws: teardown must get as far as it can.
 */
export function teardown(t: Topology, log: (msg: string) => void = () => undefined): void {
  const existing = new Set(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]));
  for (const ns of namespaces(t)) {
    if (!existing.has(ns)) continue;
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
        log(`killed leftover process ${pid} in ${ns}`);
      } catch {
        // already gone
      }
    }
  }
  for (const ns of namespaces(t)) {
    if (!existing.has(ns)) continue;
    // A namespace whose last process is still dying can refuse deletion for a moment.
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
      if (r.status === 0) break;
      spawnSync('sleep', ['0.1']);
    }
  }
}

/** Whether this machine can run the nemesis: root, `ip netns` and iptables. */
export function netnsSupport(): { ok: true } | { ok: false; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (network namespaces, iptables, tmpfs mounts)' };
  for (const [cmd, args] of [['ip', ['netns', 'list']], ['iptables', ['--version']], ['mount', ['--version']]] as const) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) return { ok: false, why: `\`${cmd} ${args.join(' ')}\` does not work here: ${(r.stderr || r.error?.message || '').trim()}` };
  }
  return { ok: true };
}

// ------------------------------------------------------------------------------ partitions

/** In `at`'s namespace: drop everything from `from` (one direction of a link). */
export function dropFrom(t: Topology, at: number, from: number): string[] {
  return ['ip', 'netns', 'exec', t.members[at]!.ns, 'iptables', '-w', '-A', 'INPUT', '-s', t.members[from]!.ip, '-j', 'DROP'];
}

/** Both directions between two members, dropped in both namespaces. */
export function cutCommands(t: Topology, a: number, b: number): string[][] {
  const out = (at: number, to: number) => ['ip', 'netns', 'exec', t.members[at]!.ns, 'iptables', '-w', '-A', 'OUTPUT', '-d', t.members[to]!.ip, '-j', 'DROP'];
  return [dropFrom(t, a, b), out(a, b), dropFrom(t, b, a), out(b, a)];
}

/** Flushes the member's rules (every rule in a member namespace is ours). */
export function healCommands(t: Topology, member: number): string[][] {
  const ns = t.members[member]!.ns;
  return [
    ['ip', 'netns', 'exec', ns, 'iptables', '-w', '-F', 'INPUT'],
    ['ip', 'netns', 'exec', ns, 'iptables', '-w', '-F', 'OUTPUT'],
  ];
}
