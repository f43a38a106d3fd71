/**
 * One row of the config matrix: an ensemble started from a zoo.cfg as users have it (ZooKeeper's
 * Getting Started, Debian's example, the official Docker image's generated file, a Helm chart's,
 * Kafka's bundled standalone file...), each member in its own network namespace on the file's own
 * host names and ports (the namespaces get an /etc/hosts). Only dataDir/dataLogDir are pointed
 * into the run dir (and, for a standalone example turned into an ensemble, `server.N` lines are
 * appended as an operator would).
 *
 * Checks: the members elect exactly one leader; under a write load for `--secs` the leader never
 * changes (same member, same epoch, every member serving throughout, no write failing, the client
 * never suspended); after kill -9 of the leader a new one serves and nothing acknowledged is lost;
 * the old leader rejoins and catches up. A standalone file (one member) must serve in standalone
 * mode and keep everything acknowledged across kill -9 and restart.
 *
 *   node dist/scripts/nemesis-config-matrix.js --cfg <file> --name <row> [--secs 60]
 *     [--members 3|1] [--hosts zoo1,zoo2,zoo3] [--append-servers]
 *
 * Exit 0 = pass, 1 = a check failed, 2 = could not run, 77 = skipped (needs root).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createClient, type ZkClient } from '../src/client';
import { CLIENT_PORT, Member, fourLetter, tail } from './lib/nemesis-cluster';
import { cleanUpIfOrphaned, readPlan, runIsolated, type InnerPlan } from './lib/nemesis-outer';
import { zabkeeperCli } from './lib/zk-process';

interface MatrixPlan extends InnerPlan {
  name: string;
  cfgText: string;
  secs: number;
  members: number;
  hosts: string[];
  appendServers: boolean;
}

function parseArgs(argv: string[]) {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const members = Number(get('members') ?? 3);
  const cfg = get('cfg');
  const name = get('name') ?? (cfg ? path.basename(cfg).replace(/\.\w+$/, '') : undefined);
  if (get('inner') === undefined && (!cfg || !name || ![1, 3].includes(members))) {
    throw new Error('usage: nemesis-config-matrix --cfg <zoo.cfg> [--name <row>] [--secs 60] [--members 3|1] [--hosts zoo1,zoo2,zoo3] [--append-servers]');
  }
  return {
    inner: get('inner'),
    cfg: cfg ?? '',
    name: name ?? '',
    secs: Number(get('secs') ?? 60),
    members,
    hosts: (get('hosts') ?? Array.from({ length: members }, (_, i) => `zoo${i + 1}`).join(',')).split(','),
    appendServers: argv.includes('--append-servers'),
    keep: argv.includes('--keep'),
  };
}

/** The file as the user has it, with dataDir/dataLogDir moved into the run dir (pure). */
export function memberConfig(text: string, dataDir: string, dataLogDir: string, appendServers: string[]): string {
  const lines = text.split('\n').map((l) => l.replace(/^(\s*dataDir\s*[=:]\s*).*$/, `$1${dataDir}`).replace(/^(\s*dataLogDir\s*[=:]\s*).*$/, `$1${dataLogDir}`));
  if (appendServers.length > 0) lines.push('# appended by the config matrix, as an operator would to form an ensemble', ...appendServers);
  return lines.join('\n').replace(/\n*$/, '\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Writer {
  acked: string[];
  errors: string[];
  stop(): Promise<void>;
}

/** The lanes' parents: one per lane, so no single children list outgrows a reply frame. */
const laneParents = (parent: string, lanes: number): string[] => Array.from({ length: lanes }, (_, i) => `${parent}/l${i}`);

/**
 * Sequential creates through `lanes` concurrent loops on one session, each under its own parent,
 * until stopped. One parent for all of them outgrew jute.maxbuffer on an idle machine (70k
 * children, a 1.39 MB getChildren reply: the check's client could not read it, as ZooKeeper's
 * could not either).
 */
function writer(zk: ZkClient, parent: string, lanes: number): Writer {
  const w = { acked: [] as string[], errors: [] as string[], stopped: false };
  const loops = laneParents(parent, lanes).map(async (lane) => {
    while (!w.stopped) {
      try {
        const r = await zk.create(`${lane}/w-`, 'x', { mode: 'persistentSequential', signal: AbortSignal.timeout(10_000) });
        w.acked.push(r.path.slice(parent.length + 1));
      } catch (err) {
        w.errors.push((err as Error).name ?? String(err));
        await sleep(50);
      }
    }
  });
  return {
    acked: w.acked,
    errors: w.errors,
    stop: async () => {
      w.stopped = true;
      await Promise.all(loops);
    },
  };
}

async function modes(members: Member[], timeoutMs?: number): Promise<string[]> {
  return Promise.all(members.map((m) => m.mode(timeoutMs)));
}

/** Health samples wait long for an answer: only a changed or lost role is a finding, not a slow reply. */
const SAMPLE_TIMEOUT_MS = 10_000;

async function epochOf(m: Member): Promise<string | undefined> {
  return /^zk_zabkeeper_epoch\t(\d+)$/m.exec(await fourLetter(m.ip, 'mntr'))?.[1];
}

/** Waits (bounded) until one member leads and the other running ones follow; its index. */
async function waitLeader(members: Member[], timeoutMs: number, exclude = -1): Promise<{ leader: number; ms: number } | { error: string }> {
  const t0 = performance.now();
  let last: string[] = [];
  while (performance.now() - t0 < timeoutMs) {
    last = await modes(members);
    const live = last.filter((m) => m !== 'down');
    const leaders = last.flatMap((m, i) => (m === 'leader' && i !== exclude ? [i] : []));
    if (leaders.length === 1 && live.every((m) => m === 'leader' || m === 'follower')) return { leader: leaders[0]!, ms: performance.now() - t0 };
    if (members.length === 1 && last[0] === 'standalone') return { leader: 0, ms: performance.now() - t0 };
    await sleep(100);
  }
  return { error: `no single leader within ${secs(timeoutMs)} (modes: ${last.join(', ')})` };
}

/** Every `l<i>/w-...` under `parent`, read after a sync (a large reply frame is allowed: a 60 s run on a fast machine writes many). */
async function syncedChildren(connect: string, parent: string): Promise<Set<string>> {
  const zk = await createClient(connect, { sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000, maxFrameBytes: 64 * 1024 * 1024 });
  try {
    await zk.sync(parent, { signal: AbortSignal.timeout(30_000) });
    const found = new Set<string>();
    for (const lane of (await zk.getChildren(parent, { signal: AbortSignal.timeout(30_000) })).children) {
      for (const c of (await zk.getChildren(`${parent}/${lane}`, { signal: AbortSignal.timeout(30_000) })).children) found.add(`${lane}/${c}`);
    }
    return found;
  } finally {
    await zk.close();
  }
}

async function inner(planPath: string): Promise<number> {
  const plan = readPlan<MatrixPlan>(planPath);
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const log = (line: string) => console.log(`[${(clock() / 1000).toFixed(1).padStart(6)}s] ${plan.name}: ${line}`);
  const findings: string[] = [];
  const exits: string[] = [];
  const members = plan.topology.members.map(
    (m, i) =>
      new Member(i, m.ns, m.ip, path.join(plan.runDir, `m${i + 1}`), zabkeeperCli(), clock, (e) => {
        if (e.cause !== 'kill' && e.cause !== 'stop') exits.push(`m${e.member} exited (${e.signal ?? `code ${e.code}`}):\n${e.logTail}`);
      }),
  );
  const appended = plan.appendServers ? plan.hosts.map((h, i) => `server.${i + 1}=${h}:2888:3888`) : [];
  for (const m of members) {
    fs.mkdirSync(path.join(m.dir, 'datalog'), { recursive: true });
    fs.mkdirSync(m.dataDir, { recursive: true });
    fs.writeFileSync(path.join(m.dataDir, 'myid'), `${m.id}\n`);
    fs.writeFileSync(m.cfgPath, memberConfig(plan.cfgText, m.dataDir, path.join(m.dir, 'datalog'), appended));
  }
  const stopAll = () => members.forEach((m) => m.proc?.kill('SIGKILL'));
  process.on('SIGINT', () => (stopAll(), process.exit(130)));
  process.on('SIGTERM', () => (stopAll(), process.exit(130)));
  cleanUpIfOrphaned(plan, stopAll);
  try {
    for (const m of members) m.start();
    const elected = await waitLeader(members, 60_000);
    if ('error' in elected) {
      console.log(`${plan.name} FAIL: ${elected.error}`);
      for (const m of members) console.log(`--- m${m.id} log:\n${tail(m.logPath, 20)}`);
      return 1;
    }
    const leader = elected.leader;
    const epoch = await epochOf(members[leader]!);
    const mode = members.length === 1 ? 'standalone' : `m${leader + 1} leads (epoch ${epoch})`;
    log(`${mode} after ${secs(elected.ms)}`);

    const connect = members.map((m) => `${m.ip}:${CLIENT_PORT}`).join(',');
    const zk = await createClient(connect, { sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000 });
    const states: string[] = [];
    zk.on('state', (s) => states.push(`${s}@${secs(clock())}`));
    for (const p of ['/matrix', ...laneParents('/matrix', 4)]) await zk.create(p).catch(() => undefined);
    const w = writer(zk, '/matrix', 4);
    const bad: string[] = [];
    const until = clock() + plan.secs * 1000;
    while (clock() < until) {
      const now = await modes(members, SAMPLE_TIMEOUT_MS);
      const ok = members.length === 1 ? now[0] === 'standalone' : now.every((x, i) => x === (i === leader ? 'leader' : 'follower'));
      if (!ok && bad.length < 10) bad.push(`${secs(clock())}: ${now.map((x, i) => `m${i + 1} ${x}`).join(', ')}`);
      await sleep(500);
    }
    const epochAfter = await epochOf(members[leader]!);
    const writesBefore = w.acked.length;
    const errorsBefore = w.errors.length;
    log(`${secs(plan.secs * 1000)} under load: ${writesBefore} writes, ${errorsBefore} failed, ${bad.length} unhealthy samples, epoch ${epoch} -> ${epochAfter}, client states [${states.join(' ')}]`);
    if (bad.length > 0) findings.push(`the ensemble did not keep one leader under load: ${bad.join('; ')}`);
    if (epochAfter !== epoch) findings.push(`the epoch changed under load (${epoch} -> ${epochAfter}): a new election happened`);
    if (errorsBefore > 0) findings.push(`${errorsBefore} writes failed under load (${[...new Set(w.errors)].join(', ')})`);
    if (states.length > 0) findings.push(`the client's connection did not stay up under load: ${states.join(' ')}`);

    // kill -9 the leader (the only member, standalone): writes must resume, nothing lost.
    const tKill = clock();
    await members[leader]!.kill9();
    if (members.length === 1) members[0]!.start();
    const next = await waitLeader(members, 60_000, members.length === 1 ? -1 : leader);
    if ('error' in next) findings.push(`after kill -9 of the leader: ${next.error}`);
    const ackedAtKill = w.acked.length;
    while (w.acked.length === ackedAtKill && clock() - tKill < 60_000) await sleep(50);
    const resumedMs = clock() - tKill;
    await w.stop();
    if (w.acked.length === ackedAtKill) findings.push('writes did not resume within 60 s of the leader kill');
    const survivor = members.length === 1 ? 0 : 'error' in next ? (leader + 1) % members.length : next.leader;
    const present = await syncedChildren(`${members[survivor]!.ip}:${CLIENT_PORT}`, '/matrix');
    const lost = w.acked.filter((p) => !present.has(p));
    if (lost.length > 0) findings.push(`${lost.length} acknowledged writes missing after the leader kill: ${lost.slice(0, 5).join(', ')}`);
    log(`kill -9 of ${members.length === 1 ? 'the server' : `leader m${leader + 1}`}: ${'error' in next ? 'no new leader' : members.length === 1 ? 'restarted' : `m${next.leader + 1} leads`}, writes resumed after ${secs(resumedMs)}; ${w.acked.length} acknowledged, ${lost.length} missing`);
    if (members.length > 1) {
      members[leader]!.start();
      const back = await waitLeader(members, 60_000);
      if ('error' in back) findings.push(`the old leader did not rejoin: ${back.error}`);
      else {
        const onOld = await syncedChildren(`${members[leader]!.ip}:${CLIENT_PORT}`, '/matrix');
        const missing = w.acked.filter((p) => !onOld.has(p));
        if (missing.length > 0) findings.push(`the old leader rejoined without ${missing.length} acknowledged writes`);
        log(`old leader m${leader + 1} rejoined and holds all ${w.acked.length} writes: ${missing.length === 0}`);
      }
    }
    await zk.close();
    await Promise.all(members.map((m) => m.stop()));
    findings.push(...exits);
    for (const f of findings) console.log(`FAIL [${plan.name}] ${f}`);
    console.log(`config-matrix ${plan.name} ${findings.length === 0 ? 'PASS' : 'FAIL'}: ${mode}; ${plan.secs} s under load: ${writesBefore} writes, ${errorsBefore} failed, leader changes ${bad.length > 0 || epochAfter !== epoch ? 'yes' : 'none'}; leader kill: writes resumed after ${secs(resumedMs)}, ${lost.length} lost`);
    return findings.length === 0 ? 0 : 1;
  } finally {
    stopAll();
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.inner) process.exit(await inner(a.inner));
  const code = await runIsolated({
    label: 'config-matrix',
    members: a.members,
    script: __filename,
    plan: { name: a.name, cfgText: fs.readFileSync(a.cfg, 'utf8'), secs: a.secs, members: a.members, hosts: a.hosts, appendServers: a.appendServers },
    hostnames: a.hosts,
    keep: a.keep,
    banner: (t) => `config-matrix ${a.name}: ${a.cfg} on ${a.members} member(s) (${a.hosts.join(', ')}), ${a.secs} s under load; namespaces ${t.tag}-*`,
  });
  process.exit(code);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`config-matrix: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(2);
  });
}
