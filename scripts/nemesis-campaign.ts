/**
 * A nemesis campaign: many `nemesis` runs one after another (never two at once: on a 2-core
 * machine a second run would distort the first's timings), each with its own seed, then the
 * campaign's totals and the worst unavailability per fault kind.
 *
 *   npm run nemesis:campaign -- --runs 20 --secs 60 --members 3 [--first-seed 3001] [--out DIR] [-- <nemesis args>]
 *
 * Seeds are first-seed, first-seed+1, ... (default members*1000+1). Each run's full output goes
 * to DIR/m<members>-seed<seed>.log; a run whose log already holds a summary line is not run again,
 * so an interrupted campaign resumes where it stopped. Prints one line per run (seed, exit, wall
 * time, load, summary), the findings of failed runs, and a markdown table at the end (also
 * written to DIR/m<members>-campaign.md). Exit 0 when every run passed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { aggregate, formatTotals, HelpAsked, parseCampaignArgs, parseRun, type CampaignArgs, type RunRecord } from './lib/nemesis-campaign';
import { repoRoot } from './lib/zk-process';

/** Validated arguments, then the output dir (made only for a valid command). */
function parseArgs(argv: string[]): CampaignArgs & { out: string } {
  const a = parseCampaignArgs(argv);
  const out = a.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-campaign-'));
  fs.mkdirSync(out, { recursive: true });
  return { ...a, out };
}

/**
 * A private copy of dist for the whole campaign, so a rebuild while it runs (a fix being made)
 * never swaps the server under test mid-run: a member restarted during tsc's writes would load a
 * half-written module. It lives inside the repo, so the copy still finds node_modules.
 */
function snapshotDist(): string {
  const root = repoRoot();
  const snap = path.join(root, '.nemesis-campaign', `dist-${process.pid}`);
  fs.rmSync(snap, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'dist'), snap, { recursive: true });
  process.on('exit', () => fs.rmSync(snap, { recursive: true, force: true }));
  return snap;
}

/** Runs one nemesis to completion with its output in `logPath`; samples the load meanwhile. */
function runOne(a: CampaignArgs, dist: string, seed: number, logPath: string): Promise<RunRecord> {
  const t0 = Date.now();
  const loads: number[] = [os.loadavg()[0]!];
  const sampler = setInterval(() => loads.push(os.loadavg()[0]!), 5000);
  const script = path.join(dist, 'scripts', 'nemesis.js');
  const args = [script, '--seed', String(seed), '--secs', String(a.secs), '--members', String(a.members), ...a.extra];
  return new Promise((resolve) => {
    const log = fs.openSync(logPath, 'w');
    const env = { ...process.env, ZABKEEPER_CLI: path.join(dist, 'src', 'cli', 'index.js') };
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log], env });
    child.once('exit', (code, signal) => {
      clearInterval(sampler);
      fs.closeSync(log);
      const load = { mean: loads.reduce((x, y) => x + y, 0) / loads.length, max: Math.max(...loads) };
      const rec = parseRun(fs.readFileSync(logPath, 'utf8'), { seed, members: a.members, code: code ?? (signal ? 2 : 1), wallMs: Date.now() - t0, load });
      fs.writeFileSync(`${logPath}.json`, JSON.stringify(rec));
      resolve(rec);
    });
  });
}

/** A finished run from an earlier, interrupted campaign in the same dir. */
function previous(logPath: string): RunRecord | undefined {
  try {
    const rec = JSON.parse(fs.readFileSync(`${logPath}.json`, 'utf8')) as RunRecord;
    return rec.summary ? rec : undefined;
  } catch {
    return undefined;
  }
}

const runLine = (r: RunRecord) =>
  `seed ${r.seed}: exit ${r.code} in ${(r.wallMs / 1000).toFixed(0)} s, load ${r.load.mean.toFixed(1)} (max ${r.load.max.toFixed(1)}): ${r.summary ?? '(no summary line)'}`;

async function main(): Promise<void> {
  let a: CampaignArgs & { out: string };
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof HelpAsked) {
      console.log(err.message);
      process.exit(0);
    }
    console.error((err as Error).message);
    process.exit(2);
  }
  console.log(`nemesis campaign: ${a.runs} runs x ${a.secs} s, ${a.members} members, seeds ${a.firstSeed}..${a.firstSeed + a.runs - 1}; logs in ${a.out}`);
  const dist = snapshotDist();
  process.on('SIGINT', () => process.exit(130));
  const records: RunRecord[] = [];
  for (let i = 0; i < a.runs; i++) {
    const seed = a.firstSeed + i;
    const logPath = path.join(a.out, `m${a.members}-seed${seed}.log`);
    const r = previous(logPath) ?? (await runOne(a, dist, seed, logPath));
    records.push(r);
    console.log(runLine(r));
    for (const f of r.findings) console.log(`  ${f}`);
    if (r.code !== 0) console.log(`  (full output: ${logPath})`);
  }
  const table = formatTotals(aggregate(records), a.members, a.secs);
  fs.writeFileSync(path.join(a.out, `m${a.members}-campaign.md`), [...records.map(runLine), '', ...table, ''].join('\n'));
  console.log('');
  for (const l of table) console.log(l);
  process.exitCode = records.every((r) => r.code === 0) ? 0 : 1;
}

void main();
