/**
 * Side-by-side benchmark: the same pipelined raw-jute workload against zabkeeper and Apache
 * ZooKeeper 3.8 (Debian package) on this machine, in one run, one server at a time, warm-up first.
 * Prints ops/s, p50/p99 per workload and the zabkeeper/Apache ratio. Not a test: no assertions.
 *
 *   npm run bench -- [--connections 32] [--depth 16] [--seconds 5] [--warmup 2] [--targets zabkeeper,apache]
 */
import { Command } from 'commander';
import { startServer, type TargetKind } from './lib/zk-process';
import { prepareRoot, runLoad, type LoadResult, type Workload } from './lib/load';

interface Args {
  connections: number;
  depth: number;
  seconds: number;
  warmup: number;
  valueBytes: number;
  targets: TargetKind[];
  workloads: Workload[];
}

function parseArgs(argv: string[]): Args {
  const p = new Command('bench')
    .option('--connections <n>', 'client connections', '32')
    .option('--depth <n>', 'outstanding requests per connection', '16')
    .option('--seconds <n>', 'measured seconds per workload', '5')
    .option('--warmup <n>', 'warm-up seconds per workload', '2')
    .option('--value-bytes <n>', 'value size', '100')
    .option('--targets <list>', 'servers to compare', 'zabkeeper,apache')
    .option('--workloads <list>', 'workloads', 'setData,getData,createSeq')
    .parse(argv);
  const o = p.opts();
  return {
    connections: Number(o.connections),
    depth: Number(o.depth),
    seconds: Number(o.seconds),
    warmup: Number(o.warmup),
    valueBytes: Number(o.valueBytes),
    targets: String(o.targets).split(',') as TargetKind[],
    workloads: String(o.workloads).split(',') as Workload[],
  };
}

async function benchTarget(kind: TargetKind, a: Args): Promise<Map<Workload, LoadResult>> {
  // Same zoo.cfg for both; 4lw on so readiness checks work; big outstanding limit like Apache's default.
  const server = await startServer(kind, { extraCfg: { maxClientCnxns: '0' } });
  const results = new Map<Workload, LoadResult>();
  try {
    const base = { host: server.host, port: server.port, connections: a.connections, depth: a.depth, valueBytes: a.valueBytes, root: '/bench' };
    await prepareRoot(server.host, server.port, '/bench', a.connections, a.valueBytes);
    for (const workload of a.workloads) {
      if (a.warmup > 0) await runLoad({ ...base, workload, durationMs: a.warmup * 1000 });
      const r = await runLoad({ ...base, workload, durationMs: a.seconds * 1000 });
      results.set(workload, r);
      process.stderr.write(`${kind.padEnd(9)} ${workload.padEnd(9)} ${fmt(r.opsPerSec)} ops/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  errors ${r.errors}\n`);
    }
  } finally {
    await server.stop();
  }
  return results;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(9);
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv);
  process.stderr.write(`workload: ${a.connections} connections x ${a.depth} outstanding, ${a.valueBytes}-byte values, ${a.warmup}s warm-up + ${a.seconds}s per workload\n`);
  const all = new Map<TargetKind, Map<Workload, LoadResult>>();
  for (const t of a.targets) all.set(t, await benchTarget(t, a));
  const z = all.get('zabkeeper');
  const ap = all.get('apache');
  const lines = ['', '| workload | zabkeeper ops/s | apache ops/s | ratio | zabkeeper p50/p99 ms | apache p50/p99 ms |', '|---|---|---|---|---|---|'];
  for (const w of a.workloads) {
    const zr = z?.get(w);
    const ar = ap?.get(w);
    const ratio = zr && ar ? (zr.opsPerSec / ar.opsPerSec).toFixed(2) : 'n/a';
    const cell = (r?: LoadResult) => (r ? Math.round(r.opsPerSec).toString() : '-');
    const lat = (r?: LoadResult) => (r ? `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)}` : '-');
    lines.push(`| ${w} | ${cell(zr)} | ${cell(ar)} | ${ratio} | ${lat(zr)} | ${lat(ar)} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
