/**
 * The host-side half of a network-namespace run (the nemesis and the config matrix): builds the
 * run's namespaces, optionally gives them an /etc/hosts (`ip netns exec` bind-mounts
 * /etc/netns/<ns>/hosts over /etc/hosts, so zoo.cfg files can keep their host names), runs the
 * inner script inside the clients' namespace, and cleans up on every path, SIGINT included:
 * processes left in the run's namespaces (by pid), the namespaces with their veths and bridge,
 * the hosts files, and any mount under the run dir. The run dir is removed on success only.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mountsUnder, umount } from './nemesis-cluster';
import { buildTopology, namespaces, netnsSupport, planTopology, runTag, teardown, type Topology } from './nemesis-net';

export const SKIPPED_EXIT = 77;

export interface IsolatedRun {
  /** Short label for the run dir name and messages. */
  label: string;
  members: number;
  /** The inner script (absolute path of a compiled .js) and its arguments after `--inner <plan>`. */
  script: string;
  /** Written to <runDir>/plan.json (plus runDir and topology) for the inner script. */
  plan: Record<string, unknown>;
  /** Host names of members 1..n (written into every namespace's /etc/hosts). */
  hostnames?: string[];
  keep?: boolean;
  /** Printed once the topology is up. */
  banner?: (t: Topology, runDir: string) => string;
}

export interface InnerPlan {
  runDir: string;
  topology: Topology;
}

function writeHosts(t: Topology, hostnames: string[]): void {
  const lines = ['127.0.0.1 localhost', ...t.members.map((m, i) => `${m.ip} ${hostnames[i] ?? ''}`), `${t.client.ip} nemesis-client`, ''];
  for (const ns of namespaces(t)) {
    fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    fs.writeFileSync(`/etc/netns/${ns}/hosts`, lines.join('\n'));
  }
}

function removeHosts(t: Topology): void {
  for (const ns of namespaces(t)) fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
}

/** Runs `r.script --inner <plan>` inside a fresh topology; resolves with its exit code. */
export async function runIsolated(r: IsolatedRun): Promise<number> {
  const support = netnsSupport();
  if (!support.ok) {
    console.log(`${r.label}: skipped: ${support.why}`);
    return SKIPPED_EXIT;
  }
  cleanStaleRuns((m) => console.log(`${r.label}: ${m}`));
  const tag = runTag(process.pid, Math.random());
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `zabkeeper-${r.label}-${tag}-`));
  writeOwner(runDir);
  const topology = planTopology(tag, r.members);
  const planPath = path.join(runDir, 'plan.json');
  fs.writeFileSync(planPath, JSON.stringify({ ...r.plan, runDir, topology }, null, 2));

  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    teardown(topology, (m) => console.log(`${r.label}: cleanup: ${m}`));
    removeHosts(topology);
    for (const m of mountsUnder(runDir).reverse()) umount(m);
  };
  process.on('exit', cleanup);
  let inner: ReturnType<typeof spawn> | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    console.log(`${r.label}: ${sig}: stopping and cleaning up`);
    inner?.kill('SIGKILL');
    cleanup();
    console.log(`${r.label}: member logs kept in ${runDir}`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    buildTopology(topology);
    if (r.hostnames) writeHosts(topology, r.hostnames);
  } catch (err) {
    console.log(`${r.label}: could not build the network: ${(err as Error).message}`);
    cleanup();
    return 2;
  }
  if (r.banner) console.log(r.banner(topology, runDir));
  const code = await new Promise<number>((resolve) => {
    inner = spawn('ip', ['netns', 'exec', topology.client.ns, process.execPath, r.script, '--inner', planPath], { stdio: 'inherit' });
    inner.once('exit', (c, s) => resolve(c ?? (s ? 2 : 1)));
  });
  cleanup();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', cleanup);
  if (code === 0 && !r.keep) fs.rmSync(runDir, { recursive: true, force: true });
  else console.log(`${r.label}: history and member logs kept in ${runDir}`);
  return code;
}

/** The inner side: reads the plan written by runIsolated. */
export function readPlan<P>(planPath: string): P & InnerPlan {
  return JSON.parse(fs.readFileSync(planPath, 'utf8')) as P & InnerPlan;
}

/**
 * The inner side: if the outer process dies without cleaning up (SIGKILL), this process is
 * re-parented; it then stops its members (`stopMembers`), removes the run's namespaces and hosts
 * files itself, and exits, so even a killed run leaves nothing behind.
 */
export function cleanUpIfOrphaned(plan: InnerPlan, stopMembers: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    // The namespaces themselves can only be removed from the host's mount namespace (ours is a
    // private copy): the next run removes them (cleanStaleRuns), or `nemesis --cleanup-stale`.
    console.log('the outer process is gone: stopping the members; the next run removes the namespaces');
    stopMembers();
    removeHosts(plan.topology);
    process.exit(2);
  }, 500);
  timer.unref();
}

/** A process identity that survives pid reuse: pid plus its start time (clock ticks since boot). */
function processStart(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Claims a run's namespaces for this process (cleanStaleRuns leaves a live owner's alone). */
export function writeOwner(runDir: string): void {
  fs.writeFileSync(path.join(runDir, 'owner.json'), JSON.stringify({ pid: process.pid, start: processStart(process.pid) }));
}

function ownerAlive(ownerFile: string): boolean {
  try {
    const o = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as { pid: number; start?: string };
    return processStart(o.pid) === o.start;
  } catch {
    return false;
  }
}

/**
 * Removes what runs killed by SIGKILL (which no handler can catch) left behind: namespaces whose
 * run's owner process is gone, with their hosts files. Runs of other live processes are never
 * touched: a tag is stale only when its run dir names its owner and that process is gone. A tag
 * nobody claims is left alone: its namespaces may be being built right now (no process in them
 * yet) by a run that has not claimed them — removing those broke a concurrent test's setup.
 */
export function cleanStaleRuns(log: (msg: string) => void): void {
  const names = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  const tags = new Map<string, string[]>();
  for (const n of names) {
    const m = /^(zkn[0-9a-z]+)-(hub|c|m\d+)$/.exec(n);
    if (m) tags.set(m[1]!, [...(tags.get(m[1]!) ?? []), m[2]!]);
  }
  const tmp = os.tmpdir();
  for (const [tag, parts] of tags) {
    const owners = fs
      .readdirSync(tmp)
      .filter((d) => d.startsWith('zabkeeper-') && d.includes(`-${tag}-`))
      .map((d) => path.join(tmp, d, 'owner.json'))
      .filter((f) => fs.existsSync(f));
    if (owners.length === 0 || owners.some(ownerAlive)) continue;
    const members = parts.filter((p) => p.startsWith('m')).length;
    const t = planTopology(tag, members);
    teardown(t, log);
    removeHosts(t);
    log(`removed the namespaces of dead run ${tag}`);
  }
}
