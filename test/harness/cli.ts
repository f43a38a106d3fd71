import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/src/cli/index.js');

/** Fails loudly (never skips) when the build output is missing: `npm test` builds first. */
export function requireBuiltCli(): string {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it in pretest)`);
  return CLI;
}

export interface CliServer {
  proc: ChildProcess;
  port: number;
  stderr: () => string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `zabkeeper server` as a real process and waits until `ruok` answers `imok`. */
export async function startCliServer(args: string[], port: number): Promise<CliServer> {
  const proc = spawn(process.execPath, [requireBuiltCli(), 'server', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${err}`);
    if ((await fourLetter(port, 'ruok').catch(() => '')) === 'imok') break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server did not answer ruok: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    port,
    stderr: () => err,
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

export function fourLetter(port: number, cmd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(cmd));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error('4lw timeout'));
    });
  });
}
