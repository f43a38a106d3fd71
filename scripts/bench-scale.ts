/**
 * Scale benchmark: a 3-member ensemble of zabkeeper and one of Apache ZooKeeper 3.8 (Debian), one
 * after the other on this machine, each filled with 100-byte znodes by the same load generator
 * (32 connections x 32 outstanding creates, spread over the members) to 100k, 300k and 1M znodes.
 * At each size it prints: fill rate, errors, RSS per server, data dir size, restart time (all
 * three stopped and started until each serves), the longest event-loop stall (zabkeeper's mntr),
 * the create latency p50/p99 during that part of the fill, the longest snapshot and database load,
 * and getData/setData throughput and latency at that size. Before the fill it measures a
 * single client's synchronous write through a follower. Not a test: prints tables.
 *
 *   npm run bench:scale -- [--sizes 100000,300000,1000000] [--targets zabkeeper,apache]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { Command } from 'commander';
import { WireConnection } from '../src/client/wire';
import { requests as rq } from '../src/client/requests';
import { fourLetter, type TargetKind } from './lib/zk-process';
import { startEnsemble, type TestEnsemble } from './lib/ensemble-process';
import { runLoad } from './lib/load';

const HOST = '127.0.0.1';
const PARENTS = 1000;
const VALUE = Buffer.alloc(100, 0x76);
const STEADY_MS = 5000;

interface SizeFigures {
  znodes: number;
  fillPerSec: number;
  errors: number;
  rssMb: number[];
  dataDirMb: number[];
  restartMs: number;
  maxStallMs: number | undefined;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** p99 of the worst one-second window of the fill, and the median window's p99. */
  worstWindowP99Ms: number;
  medianWindowP99Ms: number;
  /** Longest snapshot the members took during the fill (mntr max_snapshottime), ms. */
  snapshotMs: number | undefined;
  /** Longest database load of the members at the restart (mntr max_dbinittime), ms. */
  loadMs: number | undefined;
  /** Steady state at this size, 32 x 32 over all members, for STEADY_MS each. */
  reads: Steady;
  writes: Steady;
}

interface Steady {
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Where a single synchronous write's time goes: averages of server summaries over the measured run, ms. */
interface Floor {
  followerUpdateLatency?: number;
  leaderQuorumAck?: number;
  leaderFsync?: number;
  followerFsync?: number;
  leaderBatch?: number;
}

interface TargetFigures {
  single: { p50: number; p99: number; mean: number; floor: Floor };
  sizes: SizeFigures[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

/** Disk space the directory really uses (du), in MB. */
function duMb(dir: string): number {
  const out = spawnSync('du', ['-sk', dir], { encoding: 'utf8' }).stdout;
  return Math.round(Number(out.split(/\s/)[0]) / 1024);
}

async function mntrValue(port: number, key: string): Promise<number | undefined> {
  const text = await fourLetter(port, 'mntr', 5000).catch(() => '');
  const m = new RegExp(`^zk_${key}\\t(\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The largest value of an mntr key over the members, undefined when none reports it. */
async function mntrMax(ports: number[], key: string): Promise<number | undefined> {
  const got = (await Promise.all(ports.map((p) => mntrValue(p, key)))).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return got.length > 0 ? Math.max(...got) : undefined;
}

async function steady(ports: number[], workload: 'getData' | 'setData', a: { connections: number; depth: number }): Promise<Steady> {
  const r = await runLoad({ host: HOST, port: ports[0], ports, connections: a.connections, depth: a.depth, durationMs: STEADY_MS, valueBytes: 100, root: '/bench', workload });
  return { perSec: r.opsPerSec, p50: r.p50Ms, p99: r.p99Ms, errors: r.errors };
}

async function connect(port: number): Promise<WireConnection> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await WireConnection.connect({ host: HOST, port, sessionTimeoutMs: 30_000, connectTimeoutMs: 2000 });
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`cannot connect to ${port}: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

/**
 * Creates znodes [from, to) with `connections` x `depth` outstanding creates. A lost connection
 * counts its in-flight creates as errors and reconnects; failed creates are not retried.
 */
async function fill(ports: number[], from: number, to: number, connections: number, depth: number): Promise<{ ms: number; errors: number; lat: number[]; windows: number[][] }> {
  let next = from;
  let errors = 0;
  const lat: number[] = [];
  const windows: number[][] = [];
  const t0 = performance.now();
  const conns = await Promise.all(Array.from({ length: connections }, (_, i) => connect(ports[i % ports.length])));
  const lane = async (ci: number): Promise<void> => {
    while (next < to) {
      const i = next++;
      const t = performance.now();
      try {
        const r = await rq.create(conns[ci], `/scale/p${i % PARENTS}/n${i}`, VALUE);
        if (r.err !== 0) errors++;
      } catch {
        errors++;
        if (conns[ci].isClosed) conns[ci] = await connect(ports[ci % ports.length]);
        continue;
      }
      const done = performance.now();
      lat.push(done - t);
      const w = Math.floor((done - t0) / 1000);
      (windows[w] ??= []).push(done - t);
    }
  };
  await Promise.all(conns.flatMap((_, ci) => Array.from({ length: depth }, () => lane(ci))));
  for (const c of conns) c.close();
  return { ms: performance.now() - t0, errors, lat, windows };
}

async function restart(ens: TestEnsemble): Promise<number> {
  await Promise.all(ens.members.map((m) => m.stop()));
  const t0 = Date.now();
  await Promise.all(ens.members.map((m) => m.start()));
  await ens.waitServing(300_000);
  return Date.now() - t0;
}

/** Every numeric mntr line of one server. */
async function mntrAll(port: number): Promise<Map<string, number>> {
  const text = await fourLetter(port, 'mntr', 5000).catch(() => '');
  return new Map([...text.matchAll(/^zk_(\S+)\t(-?[\d.]+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** Average of a summary over an interval, from its cumulative cnt_/sum_ (no srst: ZooKeeper's srst does not reset them all). */
function deltaAvg(before: Map<string, number>, after: Map<string, number>, name: string): number | undefined {
  const n = (after.get(`cnt_${name}`) ?? NaN) - (before.get(`cnt_${name}`) ?? NaN);
  const sum = (after.get(`sum_${name}`) ?? NaN) - (before.get(`sum_${name}`) ?? NaN);
  return n > 0 ? sum / n : undefined;
}

async function singleClientThroughFollower(ens: TestEnsemble, seconds: number): Promise<TargetFigures['single']> {
  const leaderAt = await ens.waitLeader();
  const leader = ens.members[leaderAt];
  const follower = ens.members[(leaderAt + 1) % ens.members.length];
  const base = { host: HOST, port: follower.clientPort, connections: 1, depth: 1, valueBytes: 100, root: '/bench', workload: 'setData' as const };
  await runLoad({ ...base, durationMs: 2000 });
  const [l0, f0] = await Promise.all([mntrAll(leader.clientPort), mntrAll(follower.clientPort)]);
  const r = await runLoad({ ...base, durationMs: seconds * 1000 });
  const [l1, f1] = await Promise.all([mntrAll(leader.clientPort), mntrAll(follower.clientPort)]);
  const floor: Floor = {
    followerUpdateLatency: deltaAvg(f0, f1, 'updatelatency'),
    leaderQuorumAck: deltaAvg(l0, l1, 'quorum_ack_latency'),
    leaderFsync: deltaAvg(l0, l1, 'fsynctime'),
    followerFsync: deltaAvg(f0, f1, 'fsynctime'),
    leaderBatch: deltaAvg(l0, l1, 'sync_processor_batch_size'),
  };
  return { p50: r.p50Ms, p99: r.p99Ms, mean: r.meanMs, floor };
}

async function benchTarget(kind: TargetKind, sizes: number[], a: { connections: number; depth: number }): Promise<TargetFigures> {
  const ens = await startEnsemble(kind, 3, {
    tickTime: 2000,
    extraCfg: { maxClientCnxns: '0' },
    // zkServer.sh's default heap (zkEnv.sh ZK_SERVER_HEAP=1000) and the JVM's default collector and JIT.
    jvmArgs: ['-Xmx1000m'],
    // A restart at 1M znodes on a busy machine: Apache answers ruok only after loading its database.
    startTimeoutMs: 300_000,
  });
  try {
    await ens.waitServing(120_000);
    const ports = ens.members.map((m) => m.clientPort);
    const c = await connect(ports[0]);
    await rq.create(c, '/bench', null);
    for (let i = 0; i < a.connections; i++) await rq.create(c, `/bench/n${i}`, VALUE);
    await rq.create(c, '/scale', null);
    for (let p = 0; p < PARENTS; p++) await rq.create(c, `/scale/p${p}`, null);
    c.close();
    const single = await singleClientThroughFollower(ens, 10);
    log(`${kind} single client through a follower: ${JSON.stringify(single)}`);
    const out: SizeFigures[] = [];
    let have = 0;
    for (const size of sizes) {
      const f = await fill(ports, have, size, a.connections, a.depth);
      have = size;
      const sorted = [...f.lat].sort((x, y) => x - y);
      const windowP99 = f.windows.filter((w) => w && w.length > 50).map((w) => percentile([...w].sort((x, y) => x - y), 0.99)).sort((x, y) => x - y);
      const maxStallMs = kind === 'apache' ? undefined : await mntrMax(ports, 'zabkeeper_event_loop_lag_max_ms');
      const snapshotMs = (await mntrMax(ports, 'cnt_snapshottime')) ? await mntrMax(ports, 'max_snapshottime') : undefined;
      const reads = await steady(ports, 'getData', a);
      const writes = await steady(ports, 'setData', a);
      const figures: SizeFigures = {
        znodes: size,
        fillPerSec: (f.lat.length + f.errors) / (f.ms / 1000),
        errors: f.errors,
        rssMb: ens.members.map((m) => rssMb(m.pid())),
        dataDirMb: ens.members.map((m) => duMb(m.dataDir)),
        restartMs: 0,
        maxStallMs,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        maxMs: sorted.at(-1) ?? 0,
        worstWindowP99Ms: windowP99.at(-1) ?? 0,
        medianWindowP99Ms: percentile(windowP99, 0.5),
        snapshotMs,
        loadMs: undefined,
        reads,
        writes,
      };
      if (kind !== 'apache') logSlowTurns(ens, size);
      figures.restartMs = await restart(ens);
      figures.loadMs = await mntrMax(ports, 'max_dbinittime');
      log(`${kind} ${size}: ${JSON.stringify(figures)}`);
      out.push(figures);
    }
    return { single, sizes: out };
  } finally {
    await ens.stop();
  }
}

/** Where the longest stalls went: the members' own slow-turn log lines (worst first), so a stall figure comes with its cause. */
function logSlowTurns(ens: TestEnsemble, size: number, worst = 5): void {
  const turns: { member: number; stallMs: number; line: string }[] = [];
  for (const m of ens.members) {
    let text = '';
    try {
      text = fs.readFileSync(m.logPath, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('slow event-loop turn')) continue;
      try {
        const j = JSON.parse(line) as { stallMs: number; cpuMs: number; ran: string[] };
        turns.push({ member: m.id, stallMs: j.stallMs, line: `stallMs ${j.stallMs} cpuMs ${j.cpuMs} ran ${JSON.stringify(j.ran)}` });
      } catch {
        // A line cut by a kill: not a figure.
      }
    }
  }
  turns.sort((a, b) => b.stallMs - a.stallMs);
  log(`zabkeeper ${size}: ${turns.length} slow turns logged so far; the worst: ${turns.length === 0 ? 'none' : ''}`);
  for (const t of turns.slice(0, worst)) log(`  member ${t.member}: ${t.line}`);
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const ms = (v: number | undefined, digits = 0) => (v === undefined ? 'n/a' : `${v.toFixed(digits)} ms`);
const rate = (v: number) => `${Math.round(v).toLocaleString('en')}/s`;

/** One row per figure: [label, formatted value, number for the ratio (undefined: no ratio)]. */
const FIGURES: [string, (s: SizeFigures) => string, (s: SizeFigures) => number | undefined][] = [
  ['fill rate (creates)', (s) => rate(s.fillPerSec), (s) => s.fillPerSec],
  ['fill errors', (s) => String(s.errors), () => undefined],
  ['create p50 / p99 / max', (s) => `${s.p50Ms.toFixed(1)} / ${s.p99Ms.toFixed(1)} / ${s.maxMs.toFixed(0)} ms`, (s) => s.p99Ms],
  ['create p99, worst / median 1-s window', (s) => `${s.worstWindowP99Ms.toFixed(1)} / ${s.medianWindowP99Ms.toFixed(1)} ms`, (s) => s.worstWindowP99Ms],
  ['RSS per server (MB)', (s) => s.rssMb.join(' / '), (s) => mean(s.rssMb)],
  ['data dir per server (MB)', (s) => s.dataDirMb.join(' / '), (s) => mean(s.dataDirMb)],
  ['longest snapshot', (s) => ms(s.snapshotMs), (s) => s.snapshotMs],
  ['restart of all three until each serves', (s) => `${(s.restartMs / 1000).toFixed(1)} s`, (s) => s.restartMs],
  ['longest database load at restart', (s) => ms(s.loadMs), (s) => s.loadMs],
  ['longest event-loop stall', (s) => ms(s.maxStallMs), () => undefined],
  ['getData 32x32 throughput', (s) => rate(s.reads.perSec), (s) => s.reads.perSec],
  ['getData p50 / p99', (s) => `${s.reads.p50.toFixed(2)} / ${s.reads.p99.toFixed(2)} ms`, (s) => s.reads.p99],
  ['setData 32x32 throughput', (s) => rate(s.writes.perSec), (s) => s.writes.perSec],
  ['setData p50 / p99', (s) => `${s.writes.p50.toFixed(2)} / ${s.writes.p99.toFixed(2)} ms`, (s) => s.writes.p99],
];

/** Side by side, with zabkeeper / apache for every figure both report (ratios of p99 for latency rows). */
function table(all: Map<TargetKind, TargetFigures>): string {
  const kinds = [...all.keys()];
  const ratioOf = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? '' : `${(a / b).toFixed(2)}x`);
  const rows = [`| size | figure | ${kinds.join(' | ')} | ${kinds.length === 2 ? `${kinds[0]} / ${kinds[1]}` : ''} |`, `|---|---|${kinds.map(() => '---|').join('')}---|`];
  const sizes = [...all.values()][0]?.sizes.map((s) => s.znodes) ?? [];
  for (const [i, size] of sizes.entries()) {
    const per = kinds.map((k) => all.get(k)?.sizes[i]);
    for (const [label, show, num] of FIGURES) {
      const ratio = per.length === 2 && per[0] && per[1] ? ratioOf(num(per[0]), num(per[1])) : '';
      rows.push(`| ${size / 1000}k | ${label} | ${per.map((s) => (s ? show(s) : '')).join(' | ')} | ${ratio} |`);
    }
  }
  const avg = (v: number | undefined, unit = ' ms') => (v === undefined ? 'n/a' : `${v.toFixed(2)}${unit}`);
  rows.push(
    '',
    '| single client, 1 x 1 setData through a follower | p50 | p99 | mean | follower updatelatency avg | leader quorum_ack_latency avg | fsynctime avg leader / follower | leader fsync batch avg |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [kind, t] of all) {
    const f = t.single.floor;
    rows.push(
      `| ${kind} | ${t.single.p50.toFixed(2)} ms | ${t.single.p99.toFixed(2)} ms | ${t.single.mean.toFixed(2)} ms | ${avg(f.followerUpdateLatency)} | ${avg(f.leaderQuorumAck)} | ${avg(f.leaderFsync)} / ${avg(f.followerFsync)} | ${avg(f.leaderBatch, '')} |`,
    );
  }
  return rows.join('\n');
}

async function main(): Promise<void> {
  const o = new Command('bench-scale')
    .option('--sizes <list>', 'znode counts to fill to, in order', '100000,300000,1000000')
    .option('--targets <list>', 'ensembles to compare', 'zabkeeper,apache')
    .option('--connections <n>', 'client connections (spread over the members)', '32')
    .option('--depth <n>', 'outstanding creates per connection', '32')
    .parse(process.argv)
    .opts();
  const sizes = String(o.sizes).split(',').map(Number);
  const all = new Map<TargetKind, TargetFigures>();
  log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  let failed: unknown;
  for (const t of String(o.targets).split(',') as TargetKind[]) {
    try {
      all.set(t, await benchTarget(t, sizes, { connections: Number(o.connections), depth: Number(o.depth) }));
    } catch (err) {
      // Keep what the other targets measured: print their table, then fail.
      failed = err;
      log(`${t} failed: ${(err as Error).stack ?? String(err)}`);
    }
    log(`load average after ${t}: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
  process.stdout.write(table(all) + '\n');
  if (failed) throw failed;
}

// Stopped early (Ctrl-C): exit so the ensembles' members are killed (ensemble-process's exit hook).
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
