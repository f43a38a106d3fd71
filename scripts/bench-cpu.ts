/**
 * CPU per operation: a 3-member ensemble of zabkeeper and one of Apache ZooKeeper 3.8 (Debian), one
 * after the other, each driven by the same load generator through the same fixed amount of work
 * (N creates of 100-byte znodes, then N setData, then N getData; connections x outstanding spread
 * over the members). For each system and phase it prints the CPU time (user + sys from
 * /proc/<pid>/stat, sampled right before and after the phase) divided by the ops, per member and for
 * the ensemble, the wall rate for context, and zabkeeper / apache. CPU time, unlike wall time,
 * hardly depends on what else the machine runs, so these figures compare the systems' cost per
 * write even on a busy machine: on 2 cores, three members' CPU per write caps the write rate.
 * The load generator's own CPU (this process) is shown apart: it is the same for both. Not a test.
 *
 *   npm run bench:cpu -- [--ops 30000] [--targets zabkeeper,apache] [--phases create,setData,getData] [--connections 32] [--depth 32]
 *
 * To profile zabkeeper's members through one phase: --targets zabkeeper --phases create with
 * ZABKEEPER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (then scripts/cpuprofile-top.ts DIR/*.cpuprofile).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { WireConnection } from '../src/client/wire';
import { requests as rq } from '../src/client/requests';
import type { TargetKind } from './lib/zk-process';
import { startEnsemble, type TestEnsemble } from './lib/ensemble-process';
import { runLoad, type Workload } from './lib/load';

const HOST = '127.0.0.1';
/** Parents of the created znodes (load.ts's 'create' workload spreads them over /bench/n0..n999). */
const PARENTS = 1000;
const VALUE = Buffer.alloc(100, 0x76);
/** Ops of each phase run first, unmeasured: the JVM's JIT and V8's optimizer warm up on the same code paths. */
const WARMUP_OPS = 5000;
/** Names the warm-up's creates use, far from the measured ones. */
const WARMUP_FIRST_CREATE = 10_000_000;

/** user + sys CPU of a process (all its threads), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14 and stime 15 (proc(5)); comm may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** This process's CPU (the load generator), in seconds. */
function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface PhaseFigures {
  phase: Workload;
  ops: number;
  errors: number;
  perSec: number;
  /** CPU µs per op of each member, in member order. */
  memberUs: number[];
  ensembleUs: number;
  loadgenUs: number;
}

interface TargetFigures {
  kind: TargetKind;
  /** Role of each member ('leader' / 'follower'), in member order. */
  roles: string[];
  phases: PhaseFigures[];
  loadBefore: number[];
  loadAfter: number[];
}

async function setup(port: number): Promise<void> {
  const c = await WireConnection.connect({ host: HOST, port, sessionTimeoutMs: 30_000 });
  try {
    await rq.create(c, '/bench', null);
    // Pipelined: 1,000 sequential round trips would take seconds on a busy machine.
    const made = await Promise.all(Array.from({ length: PARENTS }, (_, i) => rq.create(c, `/bench/n${i}`, VALUE)));
    const failed = made.filter((r) => r.err !== 0);
    if (failed.length > 0) throw new Error(`setup: ${failed.length} creates failed (first err ${failed[0].err})`);
  } finally {
    c.close();
  }
}

async function phase(ens: TestEnsemble, workload: Workload, ops: number, a: Load, firstCreate: number): Promise<PhaseFigures> {
  const pids = ens.members.map((m) => m.pid() ?? NaN);
  const ports = ens.members.map((m) => m.clientPort);
  const before = pids.map(cpuSeconds);
  const self0 = selfCpuSeconds();
  const r = await runLoad({ host: HOST, port: ports[0], ports, connections: a.connections, depth: a.depth, durationMs: 3_600_000, maxOps: ops, valueBytes: 100, root: '/bench', workload, firstCreate });
  const after = pids.map(cpuSeconds);
  const self1 = selfCpuSeconds();
  const memberUs = after.map((t, k) => ((t - before[k]) * 1e6) / r.ops);
  return {
    phase: workload,
    ops: r.ops,
    errors: r.errors,
    perSec: r.opsPerSec,
    memberUs,
    ensembleUs: memberUs.reduce((x, y) => x + y, 0),
    loadgenUs: ((self1 - self0) * 1e6) / r.ops,
  };
}

interface Load {
  connections: number;
  depth: number;
}

async function benchTarget(kind: TargetKind, ops: number, phases: Workload[], a: Load): Promise<TargetFigures> {
  const loadBefore = os.loadavg();
  const ens = await startEnsemble(kind, 3, {
    tickTime: 2000,
    extraCfg: { maxClientCnxns: '0' },
    // zkServer.sh's default heap and the JVM's default collector and JIT, as bench:scale runs it.
    jvmArgs: ['-Xmx1000m'],
    startTimeoutMs: 120_000,
  });
  try {
    await ens.waitServing(120_000);
    await setup(ens.members[0].clientPort);
    for (const w of phases) await phase(ens, w, WARMUP_OPS, a, WARMUP_FIRST_CREATE);
    const leader = await ens.waitLeader();
    const measured: PhaseFigures[] = [];
    for (const w of phases) {
      const p = await phase(ens, w, ops, a, 0);
      log(`${kind} ${w}: ${JSON.stringify(p)}`);
      measured.push(p);
    }
    const roles = ens.members.map((_, k) => (k === leader ? 'leader' : 'follower'));
    return { kind, roles, phases: measured, loadBefore, loadAfter: os.loadavg() };
  } finally {
    await ens.stop();
  }
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

const us = (v: number) => v.toFixed(1);
const loads = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');

/** Leader first, then the followers: members are compared by role, not by id. */
function byRole(t: TargetFigures, p: PhaseFigures): { leader: number; followers: number[] } {
  const at = t.roles.indexOf('leader');
  return { leader: p.memberUs[at], followers: p.memberUs.filter((_, k) => k !== at) };
}

function table(all: TargetFigures[]): string {
  const rows = [
    '| system | phase | ops (errors) | wall rate | CPU µs/op leader | follower | follower | ensemble | load generator |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of all) {
    for (const p of t.phases) {
      const r = byRole(t, p);
      rows.push(`| ${t.kind} | ${p.phase} | ${p.ops} (${p.errors}) | ${Math.round(p.perSec).toLocaleString('en')}/s | ${us(r.leader)} | ${r.followers.map(us).join(' | ')} | **${us(p.ensembleUs)}** | ${us(p.loadgenUs)} |`);
    }
  }
  if (all.length === 2) {
    rows.push('', `| phase | ${all[0].kind} / ${all[1].kind}: ensemble CPU per op | leader | follower (mean) | wall rate |`, '|---|---|---|---|---|');
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    for (const [i, p] of all[0].phases.entries()) {
      const q = all[1].phases[i];
      const [a, b] = [byRole(all[0], p), byRole(all[1], q)];
      rows.push(`| ${p.phase} | ${(p.ensembleUs / q.ensembleUs).toFixed(2)}x | ${(a.leader / b.leader).toFixed(2)}x | ${(mean(a.followers) / mean(b.followers)).toFixed(2)}x | ${(p.perSec / q.perSec).toFixed(2)}x |`);
    }
  }
  rows.push('', ...all.map((t) => `load average (1/5/15 min) ${t.kind}: before ${loads(t.loadBefore)}, after ${loads(t.loadAfter)}`));
  return rows.join('\n');
}

async function main(): Promise<void> {
  const o = new Command('bench-cpu')
    .option('--ops <n>', 'operations per phase', '30000')
    .option('--targets <list>', 'ensembles to compare', 'zabkeeper,apache')
    .option('--phases <list>', 'workloads, in order (one alone, to profile it)', 'create,setData,getData')
    .option('--connections <n>', 'client connections (spread over the members)', '32')
    .option('--depth <n>', 'outstanding requests per connection', '32')
    .parse(process.argv)
    .opts();
  const a = { connections: Number(o.connections), depth: Number(o.depth) };
  const all: TargetFigures[] = [];
  for (const t of String(o.targets).split(',') as TargetKind[]) all.push(await benchTarget(t, Number(o.ops), String(o.phases).split(',') as Workload[], a));
  process.stdout.write(`${new Date().toISOString()} CPU per operation, ${o.ops} ops per phase, ${a.connections} x ${a.depth}, CLK_TCK ${CLK_TCK}\n${table(all)}\n`);
}

// Stopped early (Ctrl-C): exit so the ensembles' members are killed (ensemble-process's exit hook).
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
