/**
 * Runs a compiled demo (dist/scripts/demo/<name>.js) as a real process and returns its JSON
 * summary line. The demos must be built first (`npm run build`, which `npm test` does): a missing
 * or stale build fails the test instead of skipping it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../harness/servers';

const ROOT = repoRoot();

/** The compiled demo, after checking it exists and is not older than any demo source. */
export function builtDemo(name: string): string {
  const js = path.join(ROOT, 'dist', 'scripts', 'demo', `${name}.js`);
  if (!fs.existsSync(js)) throw new Error(`${js} is missing: run \`npm run build\` before these tests`);
  const sources = [path.join(ROOT, 'scripts', 'demo'), path.join(ROOT, 'scripts', 'demo', 'lib')].flatMap((d) =>
    fs.readdirSync(d).filter((f) => f.endsWith('.ts')).map((f) => path.join(d, f)),
  );
  for (const src of sources) {
    const out = path.join(ROOT, 'dist', path.relative(ROOT, src)).replace(/\.ts$/, '.js');
    if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
      throw new Error(`${out} is missing or older than ${src}: run \`npm run build\` before these tests`);
    }
  }
  return js;
}

export interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: Record<string, unknown>;
}

/**
 * Runs the demo in its own process group, so a hung run can be killed together with the
 * processes it started. Rejects if it does not finish within timeoutMs or prints no summary.
 */
export function runDemo(name: string, args: readonly string[], timeoutMs: number): Promise<DemoRun> {
  const js = builtDemo(name);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [js, ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`${name} demo did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout
        .trimEnd()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"summary"'));
      if (!line) return reject(new Error(`${name} demo printed no summary (exit ${code})\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr, summary: JSON.parse(line) as Record<string, unknown> });
    });
  });
}

/** The run's output, for failure messages. */
export function explain(run: DemoRun): string {
  return `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}
