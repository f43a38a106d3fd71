/**
 * The host-side half of a network-namespace run (the nemesis and the config matrix): builds the
 * run's namespaces, optionally gives them an /etc/hosts (`ip netns exec` bind-mounts
 * /etc/netns/<ns>/hosts over /etc/hosts, so zoo.cfg files can keep their host names), runs the
 * inner script inside the clients' namespace, and cleans up on every path, SIGINT included:
 * processes left in the run's namespaces (by pid), the namespaces with their veths and bridge,
 * the hosts files, and any mount under the run dir. The run dir is removed on success only.
 */
import { spawn } from 'node:child_process';
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
  const tag = runTag(process.pid, Math.random());
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `zabkeeper-${r.label}-${tag}-`));
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
