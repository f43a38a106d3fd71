/** Runs a compat Python script with Debian's interpreter (which has python3-kazoo) and parses JSON lines. */
import { execFile } from 'child_process';
import * as path from 'path';

export const PYTHON = '/usr/bin/python3';

export type Scenario = Record<string, unknown> & { scenario: string; error?: string; trace?: string };

export function runPython(script: string, args: string[], timeoutMs = 120_000): Promise<Map<string, Scenario>> {
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      [path.join(__dirname, 'python', script), ...args],
      // No __pycache__ left in the source tree (the scripts import kazoo_common.py).
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout, stderr) => {
        const results = new Map<string, Scenario>();
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          const s = JSON.parse(line) as Scenario;
          results.set(s.scenario, s);
        }
        if (err && results.size === 0) reject(new Error(`${script} failed: ${err.message}\n${stderr}`));
        else resolve(results);
      },
    );
  });
}

/** The scenario's result; throws (failing the test) if it is missing or reported an error. */
export function scenario(results: Map<string, Scenario>, name: string): Scenario {
  const s = results.get(name);
  if (!s) throw new Error(`scenario ${name} produced no result`);
  if (s.error) throw new Error(`scenario ${name}: ${s.error}\n${s.trace ?? ''}`);
  return s;
}
