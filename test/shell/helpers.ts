/**
 * Runs `zabkeeper shell` (the built CLI, as users run it) and Apache's zkCli.sh side by side.
 */
import { execFile } from 'child_process';
import { zabkeeperCli } from '../harness/servers';
import { bashArgs, ZKCLI, ZKCLI_ENV } from '../compat/zkcli';

export interface ProcResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Spawns a command, feeds stdin (closed at once when undefined), collects output and exit code. */
export function run(file: string, args: readonly string[], stdin?: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
      if (e?.killed) return reject(new Error(`${file} timed out:\n${stdout}\n${stderr}`));
      resolve({ stdout, stderr, code: typeof e?.code === 'number' ? e.code : e ? 1 : 0 });
    });
    child.stdin!.end(stdin ?? '');
  });
}

/** `zabkeeper shell args...`; NO_COLOR unset so tests see what a pipe gets by default. */
export function runShell(args: readonly string[], stdin?: string, env: NodeJS.ProcessEnv = {}): Promise<ProcResult> {
  return run(process.execPath, [zabkeeperCli(), 'shell', ...args], stdin, env);
}

/** Both streams through one pipe (2>&1), so their interleaving is kept, as runZkCli does. */
export function runShellMerged(connectString: string, commands: readonly string[], extra: readonly string[] = []): Promise<ProcResult> {
  return run('bash', bashArgs('exec "$0" "$1" shell -server "$2" "${@:3}" 2>&1', process.execPath, zabkeeperCli(), connectString, ...extra), commands.join('\n') + '\n');
}

export function runZkCliArgs(args: readonly string[], stdin?: string): Promise<ProcResult> {
  return run('bash', bashArgs('exec "$0" "$@" 2>&1', ZKCLI, ...args), stdin, ZKCLI_ENV, 60_000);
}

/** Drops SLF4J noise and blank lines (zkCli prints a blank line before each watcher line). */
export function meaningful(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('SLF4J:'));
}
