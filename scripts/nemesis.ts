/**
 * A real-process nemesis in the spirit of Jepsen: a zabkeeper ensemble of real server processes,
 * each in its own network namespace behind a bridge, under a seeded schedule of faults (isolate
 * the leader, majority/minority splits, one-way loss, flapping links, kill -9 and restart,
 * SIGSTOP past the session timeout, a full disk), while real client sessions run registers,
 * unique creates, the Mutex and LeaderLatch recipes; then checkers decide.
 *
 *   npm run nemesis -- --seed S --secs T [--members 3|5] [--faults kill,pause,...] [--keep]
 *
 * `--cleanup-stale` removes what runs killed with SIGKILL left behind (each run also does it first).
 *
 * Prints its seed, a timeline of faults, a one-line summary and, on failure, the smallest failing
 * window of history for each finding. Exit 0 = every check passed, 1 = a check failed, 2 = the run
 * could not be carried out (setup), 77 = skipped (no root / no network namespaces).
 *
 * Two processes: the outer one (here, in the host namespace) builds the network and owns cleanup,
 * on every path including SIGINT: it kills by pid whatever is left in the run's namespaces, then
 * deletes them (with their veths and bridge). The inner one (`--inner`) runs inside the clients'
 * namespace, where it mounts the members' tmpfs data dirs (in its own mount namespace, so they
 * vanish with it), starts the members, drives workload and faults, and checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  checkCreates,
  checkExclusion,
  checkFencing,
  checkRegisters,
  checkSessionMoved,
  unavailability,
  type Finding,
  type History,
} from './lib/nemesis-checkers';
import { Cluster, FAIL_STOP_EXIT_CODES, mountsUnder, umount, type ClusterConfig } from './lib/nemesis-cluster';
import { cleanStaleRuns, cleanUpIfOrphaned, readPlan, runIsolated, type InnerPlan } from './lib/nemesis-outer';
import { FAULT_KINDS, Nemesis, schedule, type FaultKind } from './lib/nemesis-faults';
import { INITIAL_VALUE, SET, Workload } from './lib/nemesis-workload';
import { zabkeeperCli } from './lib/zk-process';

interface RunPlan extends InnerPlan {
  seed: number;
  secs: number;
  members: number;
  faults: FaultKind[];
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  sessionMs: number;
}

const DISK_MIB = 64;

type Args = Omit<RunPlan, keyof InnerPlan> & { keep: boolean; inner?: string; cleanupStale: boolean };

function parseArgs(argv: string[]): Args {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = get('seed') !== undefined ? Number(get('seed')) : Math.floor(Math.random() * 1e9);
  const secs = Number(get('secs') ?? 60);
  const members = Number(get('members') ?? 3);
  const faults = (get('faults')?.split(',') ?? [...FAULT_KINDS]) as FaultKind[];
  const bad = faults.filter((f) => !(FAULT_KINDS as readonly string[]).includes(f));
  if (!Number.isInteger(seed) || !(secs > 0) || ![3, 5].includes(members) || bad.length > 0) {
    throw new Error(`usage: nemesis --seed <int> --secs <n> [--members 3|5] [--faults ${FAULT_KINDS.join(',')}] [--tick-time 200] [--sync-limit 5] [--init-limit 10] [--session-ms 3000] [--keep]${bad.length ? ` (unknown fault ${bad.join(',')})` : ''}`);
  }
  const num = (name: string, dflt: number) => {
    const v = Number(get(name) ?? dflt);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
    return v;
  };
  return {
    seed,
    secs,
    members,
    faults,
    // Fast by default (many faults per minute); --tick-time 2000 --session-ms 6000 is production-like.
    tickTime: num('tick-time', 200),
    initLimit: num('init-limit', 10),
    syncLimit: num('sync-limit', 5),
    sessionMs: num('session-ms', 3000),
    keep: argv.includes('--keep'),
    inner: get('inner'),
    cleanupStale: argv.includes('--cleanup-stale'),
  };
}

// ------------------------------------------------------------------------------ outer

function outer(a: Args): Promise<number> {
  return runIsolated({
    label: 'nemesis',
    members: a.members,
    script: __filename,
    plan: { seed: a.seed, secs: a.secs, members: a.members, faults: a.faults, tickTime: a.tickTime, initLimit: a.initLimit, syncLimit: a.syncLimit, sessionMs: a.sessionMs },
    keep: a.keep,
    banner: (t, runDir) =>
      `nemesis: seed ${a.seed}, ${a.members} members, ${a.secs} s, faults ${a.faults.join(',')}; tickTime ${a.tickTime} ms, ` +
      `initLimit ${a.initLimit}, syncLimit ${a.syncLimit}, sessions ${a.sessionMs} ms; namespaces ${t.tag}-*; run dir ${runDir}`,
  });
}

// ------------------------------------------------------------------------------ inner

const secsText = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function inner(planPath: string): Promise<number> {
  const plan = readPlan<RunPlan>(planPath);
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const log = (line: string) => console.log(`[${(clock() / 1000).toFixed(1).padStart(6)}s] ${line}`);
  const config: ClusterConfig = { tickTime: plan.tickTime, initLimit: plan.initLimit, syncLimit: plan.syncLimit, diskMiB: DISK_MIB };
  const cluster = new Cluster(plan.topology, config, plan.runDir, zabkeeperCli(), clock);
  const stopNow = () => {
    cluster.killAllNow();
    process.exit(130);
  };
  process.on('SIGINT', stopNow);
  process.on('SIGTERM', stopNow);
  cleanUpIfOrphaned(plan, () => cluster.killAllNow());
  try {
    return await runInner(plan, cluster, clock, log);
  } finally {
    cluster.killAllNow();
    for (const m of mountsUnder(plan.runDir).reverse()) umount(m);
  }
}

async function runInner(plan: RunPlan, cluster: Cluster, clock: () => number, log: (l: string) => void): Promise<number> {
  cluster.prepare();
  for (const m of cluster.members) m.start();
  const up = await cluster.waitServing(60_000);
  if (!up.ok) {
    log(`the ensemble did not form within 60 s (modes: ${up.modes.join(', ')})`);
    return 2;
  }
  log(`ensemble serving after ${secsText(up.ms)}: ${up.modes.map((m, i) => `m${i + 1} ${m}`).join(', ')}`);

  const keyPeriodMs = 5000;
  const workload = new Workload(
    {
      connectString: cluster.connectString,
      seed: plan.seed,
      registerClients: 4,
      mutexClients: 3,
      latchClients: 3,
      sessionTimeoutMs: plan.sessionMs,
      opTimeoutMs: Math.max(4000, plan.sessionMs + 1000),
      keyPeriodMs,
      keys: Math.ceil((plan.secs * 1000) / keyPeriodMs) + 1,
    },
    clock,
  );
  await workload.setup();
  await workload.start();
  const runStart = clock();
  const nemesis = new Nemesis(cluster, plan.topology, plan.seed, clock, log);
  const plans = schedule(plan.seed, plan.secs, plan.faults, plan.sessionMs);
  for (const p of plans) {
    const wait = runStart + p.at - clock();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // A member that died on its own is brought back (and reported): the run goes on.
    for (const m of cluster.members) if (!m.running) m.start();
    await nemesis.apply(p);
  }
  const rest = runStart + plan.secs * 1000 - clock();
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  const runEnd = clock();

  // Heal everything, bring every member back, let it settle, then read the final state.
  await nemesis.healNetwork();
  for (const m of cluster.members) {
    if (m.paused) m.signal('SIGCONT');
    if (!m.running) m.start();
  }
  const healed = await cluster.waitServing(60_000);
  log(healed.ok ? `healed: serving again after ${secsText(healed.ms)}` : `healed: NOT serving after 60 s (${healed.modes.join(', ')})`);
  await workload.stop();
  const finalSets: History['finalSets'] = {};
  for (const m of cluster.members) finalSets[`m${m.id}`] = await workload.finalReads(`${m.ip}:2181`, 900 + m.id);
  await cluster.stopAll();

  const history: History = {
    ...workload.history,
    faults: nemesis.records,
    finalSets,
    sessionTimeoutMs: plan.sessionMs,
    initialValue: INITIAL_VALUE,
  };
  fs.writeFileSync(path.join(plan.runDir, 'history.json'), JSON.stringify({ plan, history, exits: cluster.exits }, null, 1));
  const verdict = judge(plan, history, cluster, healed.ok, workload, runStart, runEnd);
  for (const f of verdict.findings) {
    console.log(`FAIL [${f.checker}] ${f.message}`);
    for (const w of f.window ?? []) console.log(`    ${w}`);
  }
  console.log(verdict.summary);
  return verdict.findings.length === 0 ? 0 : 1;
}

function judge(plan: RunPlan, h: History, cluster: Cluster, healed: boolean, { stuck, orphans }: Pick<Workload, 'stuck' | 'orphans'>, runStart: number, runEnd: number): { findings: Finding[]; summary: string } {
  const regs = checkRegisters(h);
  const creates = checkCreates(h, SET);
  const mutex = checkExclusion(h.holds.filter((x) => x.what === 'mutex'), h.stalls, h.sessionTimeoutMs, { start: runStart, end: runEnd });
  const latch = checkExclusion(h.holds.filter((x) => x.what === 'latch'), h.stalls, h.sessionTimeoutMs, { start: runStart, end: runEnd });
  const fencing = checkFencing(h.fenced);
  const exits = cluster.exits.flatMap((e): Finding[] => {
    if (e.cause === 'kill' || e.cause === 'stop') return [];
    if (e.cause === 'disk-full' && e.code !== null && FAIL_STOP_EXIT_CODES.includes(e.code)) return [];
    const how = e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
    const what = e.cause === 'disk-full' ? `did not fail-stop cleanly on a full disk (${how}; fail-stop is exit ${FAIL_STOP_EXIT_CODES.join('/')})` : `exited unexpectedly (${how})`;
    return [{ checker: 'process', message: `m${e.member} ${what} at ${secsText(e.at)}`, window: e.logTail?.split('\n') }];
  });
  const liveness: Finding[] = healed ? [] : [{ checker: 'liveness', message: 'the ensemble did not serve again within 60 s of healing' }];
  if (orphans.length > 0) liveness.push({ checker: 'recipes', message: `${orphans.length} lock/latch nodes outlived their Mutex/LeaderLatch (all released and closed, sessions alive): each blocks later contenders while its session lives`, window: orphans.slice(0, 10) });
  for (const s of stuck) liveness.push({ checker: 'liveness', message: `client ${s.client} stuck in ${s.what} since ${secsText(s.since)} (still there 20 s after the workload stopped)` });
  const moved = checkSessionMoved(h, 2 * h.sessionTimeoutMs);
  const findings = [...regs.findings, ...creates.findings, ...mutex.findings, ...latch.findings, ...fencing, ...moved, ...exits, ...liveness];
  const ops = h.registers.length + h.creates.length;
  const count = (t: string) => h.registers.filter((o) => o.type === t).length + h.creates.filter((o) => o.type === t).length;
  const u = unavailability(h, runStart, runEnd);
  const fast = plan.tickTime === 200 && plan.syncLimit === 5 && plan.initLimit === 10 && plan.sessionMs === 3000;
  const config = fast ? '' : ` tick=${plan.tickTime} initLimit=${plan.initLimit} syncLimit=${plan.syncLimit} session=${plan.sessionMs}`;
  const kinds = Object.entries(u.byKind).map(([k, ms]) => `${k} ${secsText(ms)}`).join(', ');
  const summary =
    `nemesis seed=${plan.seed} members=${plan.members} secs=${plan.secs}${config} ${findings.length === 0 ? 'PASS' : `FAIL (${findings.length} findings)`}: ` +
    `${ops} ops (ok ${count('ok')}, fail ${count('fail')}, info ${count('info')}); ` +
    `registers ${regs.linearizable}/${regs.keys} keys linearizable${regs.unknown ? ` (${regs.unknown} undecided)` : ''}; ` +
    `creates ${creates.acked} acked, ${creates.present} present, ${creates.unknown} unknown; ` +
    `mutex ${mutex.holds} holds (longest without a holder ${secsText(mutex.longestIdleMs)}), ${mutex.overlaps} overlaps${mutex.excused ? ` (+${mutex.excused} excused)` : ''}, ${h.fenced.length} fenced writes; ` +
    `latch ${latch.holds} terms (longest without a leader ${secsText(latch.longestIdleMs)}), ${latch.overlaps} overlaps${latch.excused ? ` (+${latch.excused} excused)` : ''}; ` +
    `faults ${h.faults.length}; worst unavailability ${secsText(u.longestMs)}${kinds ? ` (${kinds})` : ''}`;
  return { findings, summary };
}

async function main(): Promise<void> {
  let a: Args;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  if (a.cleanupStale) {
    cleanStaleRuns((m) => console.log(`nemesis: ${m}`));
    process.exit(0);
  }
  const code = a.inner ? await inner(a.inner) : await outer(a);
  process.exit(code);
}

main().catch((err: unknown) => {
  console.error(`nemesis: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(2);
});
