/**
 * 3-server ensembles side by side: zabkeeper and Apache ZooKeeper 3.8 (QuorumPeerMain), same
 * machine, same zoo.cfg, one after the other, same load. Reports throughput and p50/p99 for
 * setData / getData / sequential create with connections spread over all members, single-client
 * write latency, leader kill -9 → first write acknowledged again (ms), and restart time with a
 * large tree. Not a test: prints a table with ratios.
 *
 *   npm run bench:ensemble -- [--seconds 5] [--znodes 300000] [--targets zabkeeper,apache]
 */
import { Command } from 'commander';
import { CreateFlags } from '../protocol/jute/constants';
import { WireConnection } from '../src/client/wire';
import { requests as rq } from '../src/client/requests';
import { startEnsemble, type TestEnsemble } from './lib/ensemble-process';
import type { TargetKind } from './lib/zk-process';
import { prepareRoot, runLoad, type LoadResult, type Workload } from './lib/load';

interface Figures {
  load: Map<Workload, LoadResult>;
  singleWriteP50Ms: number;
  singleWriteP99Ms: number;
  failoverMs: number;
  restartMs: number;
  znodes: number;
}

const HOST = '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function singleClientLatency(port: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const r = await runLoad({ host: HOST, port, connections: 1, depth: 1, durationMs: seconds * 1000, valueBytes: 100, workload: 'setData', root: '/bench' });
  return { p50: r.p50Ms, p99: r.p99Ms };
}

/** Kills the leader and measures until a write through a surviving member is acknowledged again. */
async function failover(ens: TestEnsemble): Promise<number> {
  const leader = await ens.waitLeader();
  const survivors = ens.members.filter((_, i) => i !== leader);
  const t0 = Date.now();
  await ens.members[leader].kill9();
  for (;;) {
    for (const m of survivors) {
      try {
        const c = await WireConnection.connect({ host: HOST, port: m.clientPort, sessionTimeoutMs: 10_000, connectTimeoutMs: 500 });
        const r = await Promise.race([rq.create(c, '/bench/failover-', null, CreateFlags.persistentSequential), sleep(1000).then(() => undefined)]);
        c.close();
        if (r && r.err === 0) {
          const ms = Date.now() - t0;
          await ens.members[leader].start();
          await ens.waitServing(60_000);
          return ms;
        }
      } catch {
        // not serving yet
      }
    }
    if (Date.now() - t0 > 60_000) throw new Error('no write acknowledged within 60 s of the leader kill');
    await sleep(20);
  }
}

async function fillTree(ens: TestEnsemble, znodes: number): Promise<void> {
  const c = await WireConnection.connect({ host: HOST, port: ens.members[0].clientPort, sessionTimeoutMs: 30_000 });
  await rq.create(c, '/big', null);
  const value = Buffer.alloc(32, 0x7a);
  let next = 0;
  const lanes = Array.from({ length: 64 }, async () => {
    while (next < znodes) {
      const i = next++;
      const r = await rq.create(c, `/big/n${i}`, value);
      if (r.err !== 0 && r.err !== -110) throw new Error(`fill failed: ${r.err}`);
    }
  });
  await Promise.all(lanes);
  c.close();
}

/** Stops every member (graceful), starts them again and measures until the ensemble serves. */
async function restart(ens: TestEnsemble): Promise<number> {
  await Promise.all(ens.members.map((m) => m.stop()));
  const t0 = Date.now();
  await Promise.all(ens.members.map((m) => m.start()));
  await ens.waitServing(300_000);
  return Date.now() - t0;
}

async function benchTarget(kind: TargetKind, a: { seconds: number; znodes: number; connections: number; depth: number }): Promise<Figures> {
  const ens = await startEnsemble(kind, 3, { tickTime: 2000, extraCfg: { maxClientCnxns: '0' } });
  try {
    await ens.waitServing(60_000);
    const ports = ens.members.map((m) => m.clientPort);
    await prepareRoot(HOST, ports[0], '/bench', a.connections, 100);
    const load = new Map<Workload, LoadResult>();
    for (const workload of ['setData', 'getData', 'createSeq'] as Workload[]) {
      const base = { host: HOST, port: ports[0], ports, connections: a.connections, depth: a.depth, valueBytes: 100, root: '/bench', workload };
      await runLoad({ ...base, durationMs: 1000 });
      const r = await runLoad({ ...base, durationMs: a.seconds * 1000 });
      load.set(workload, r);
      process.stderr.write(`${kind.padEnd(9)} ${workload.padEnd(9)} ${Math.round(r.opsPerSec)} ops/s p50 ${r.p50Ms.toFixed(2)} p99 ${r.p99Ms.toFixed(2)} ms\n`);
    }
    const single = await singleClientLatency(ports[0], Math.min(3, a.seconds));
    process.stderr.write(`${kind.padEnd(9)} single-client setData p50 ${single.p50.toFixed(2)} ms\n`);
    const failoverMs = await failover(ens);
    process.stderr.write(`${kind.padEnd(9)} leader kill -9 -> write acknowledged after ${failoverMs} ms\n`);
    await fillTree(ens, a.znodes);
    const restartMs = await restart(ens);
    process.stderr.write(`${kind.padEnd(9)} restart with ${a.znodes} znodes: serving after ${restartMs} ms\n`);
    return { load, singleWriteP50Ms: single.p50, singleWriteP99Ms: single.p99, failoverMs, restartMs, znodes: a.znodes };
  } finally {
    await ens.stop();
  }
}

async function main(): Promise<void> {
  const o = new Command('bench-ensemble')
    .option('--seconds <n>', 'measured seconds per workload', '5')
    .option('--znodes <n>', 'tree size for the restart measurement', '300000')
    .option('--connections <n>', 'client connections (spread over the members)', '30')
    .option('--depth <n>', 'outstanding requests per connection', '16')
    .option('--targets <list>', 'ensembles to compare', 'zabkeeper,apache')
    .parse(process.argv)
    .opts();
  const a = { seconds: Number(o.seconds), znodes: Number(o.znodes), connections: Number(o.connections), depth: Number(o.depth) };
  const all = new Map<TargetKind, Figures>();
  for (const t of String(o.targets).split(',') as TargetKind[]) all.set(t, await benchTarget(t, a));
  const z = all.get('zabkeeper');
  const ap = all.get('apache');
  const ratio = (x?: number, y?: number, lowerIsBetter = false) => (x && y ? (lowerIsBetter ? y / x : x / y).toFixed(2) : 'n/a');
  const rows = ['', '| 3-server ensemble | zabkeeper | apache | ratio (>1 = zabkeeper better) |', '|---|---|---|---|'];
  for (const w of ['setData', 'getData', 'createSeq'] as Workload[]) {
    const zr = z?.load.get(w);
    const ar = ap?.load.get(w);
    rows.push(`| ${w} ops/s (p50/p99 ms) | ${zr ? `${Math.round(zr.opsPerSec)} (${zr.p50Ms.toFixed(1)}/${zr.p99Ms.toFixed(1)})` : '-'} | ${ar ? `${Math.round(ar.opsPerSec)} (${ar.p50Ms.toFixed(1)}/${ar.p99Ms.toFixed(1)})` : '-'} | ${ratio(zr?.opsPerSec, ar?.opsPerSec)} |`);
  }
  rows.push(`| single-client write p50 ms | ${z?.singleWriteP50Ms.toFixed(2) ?? '-'} | ${ap?.singleWriteP50Ms.toFixed(2) ?? '-'} | ${ratio(z?.singleWriteP50Ms, ap?.singleWriteP50Ms, true)} |`);
  rows.push(`| leader kill -9 → write acked, ms | ${z?.failoverMs ?? '-'} | ${ap?.failoverMs ?? '-'} | ${ratio(z?.failoverMs, ap?.failoverMs, true)} |`);
  rows.push(`| restart with ${a.znodes} znodes, ms | ${z?.restartMs ?? '-'} | ${ap?.restartMs ?? '-'} | ${ratio(z?.restartMs, ap?.restartMs, true)} |`);
  process.stdout.write(rows.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
