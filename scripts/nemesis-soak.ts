/**
 * Runs the test suites repeatedly with CPU hogs beside them (busy loops, one per core by default,
 * at normal priority) until they pass `--streak` times in a row or `--max-runs` is reached, and
 * prints one line per run plus the failing test names. The point is to find flaky tests on a
 * loaded 2-core machine, as CI is.
 *
 *   npm run soak -- --streak 10 --hogs 2 [--max-runs 30] [--run-timeout-min 30] [--jest "test/ensemble test/shell"]
 *
 * Each run's full jest output goes to <out-prefix>XXXXXX/run-<n>.log (a fresh dir, printed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface SoakArgs {
  /** A run still going after this long is killed and counts as red (a test that hangs). */
  runTimeoutMs: number;
  streak: number;
  maxRuns: number;
  hogs: number;
  jestArgs: string[];
  out: string;
}

function parseArgs(argv: string[]): SoakArgs {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const streak = Number(get('streak') ?? 10);
  return {
    runTimeoutMs: Number(get('run-timeout-min') ?? 30) * 60_000,
    streak,
    maxRuns: Number(get('max-runs') ?? streak * 3),
    hogs: Number(get('hogs') ?? os.cpus().length),
    jestArgs: (get('jest') ?? '').split(/\s+/).filter((s) => s !== ''),
    out: fs.mkdtempSync(get('out') ?? path.join(os.tmpdir(), 'zabkeeper-soak-')),
  };
}

/** One busy-looping node process per hog; killed by pid when the soak ends. */
function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function runJest(jestArgs: string[], logPath: string, timeoutMs: number): Promise<{ code: number; ms: number; failed: string[]; summary: string }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const log = fs.openSync(logPath, 'w');
    const jest = require.resolve('jest/bin/jest');
    // Its own process group, so a hung run is killed with everything it started.
    const child = spawn(process.execPath, [jest, '--ci', ...jestArgs], { stdio: ['ignore', log, log], detached: true });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fs.closeSync(log);
      const text = fs.readFileSync(logPath, 'utf8');
      const failed = [...new Set([...text.matchAll(/^\s*● (.+)$/gm)].map((m) => m[1]!).filter((t) => t !== 'Console'))];
      if (hung) failed.push(`(run killed after ${timeoutMs / 60_000} min: something hung; see ${logPath})`);
      const summary = /^Tests:.*$/m.exec(text)?.[0] ?? '(no jest summary)';
      resolve({ code: hung ? 1 : (code ?? 1), ms: Date.now() - t0, failed, summary });
    });
  });
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const hogs = startHogs(a.hogs);
  const stopHogs = () => hogs.forEach((h) => h.exitCode === null && h.kill('SIGKILL'));
  process.on('exit', stopHogs);
  process.on('SIGINT', () => process.exit(130));
  console.log(`soak: ${a.hogs} CPU hogs, until ${a.streak} green runs in a row (at most ${a.maxRuns}); logs in ${a.out}`);
  let streak = 0;
  for (let run = 1; run <= a.maxRuns && streak < a.streak; run++) {
    const r = await runJest(a.jestArgs, path.join(a.out, `run-${run}.log`), a.runTimeoutMs);
    streak = r.code === 0 ? streak + 1 : 0;
    console.log(`run ${run}: ${r.code === 0 ? 'green' : 'RED'} in ${(r.ms / 1000).toFixed(0)} s; ${r.summary}; streak ${streak}`);
    for (const f of r.failed) console.log(`  failed: ${f}`);
  }
  stopHogs();
  console.log(streak >= a.streak ? `soak: ${a.streak} green runs in a row` : `soak: stopped with a streak of ${streak}`);
  process.exitCode = streak >= a.streak ? 0 : 1;
}

void main();
