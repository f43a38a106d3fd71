import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface LocalEnsembleOptions {
  servers: number;
  basePort: number;
  dataDir: string;
  tickTime: number;
  host: string;
}

/**
 * Ports of member i (1-based) of a local ensemble, in ZooKeeper's conventional layout: client
 * ports from basePort, quorum ports from basePort+707 (2888 for 2181) and election ports from
 * basePort+1707 (3888).
 */
export function memberPorts(basePort: number, i: number): { client: number; quorum: number; election: number } {
  return { client: basePort + i - 1, quorum: basePort + 707 + i - 1, election: basePort + 1707 + i - 1 };
}

/** One zoo.cfg per member, exactly what an operator would write for ZooKeeper. */
export function memberConfig(o: LocalEnsembleOptions, i: number): string {
  const lines = [
    `# member ${i} of a local ${o.servers}-server ensemble (written by \`zabkeeper ensemble\`)`,
    `tickTime=${o.tickTime}`,
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${path.resolve(o.dataDir, String(i))}`,
    `clientPort=${memberPorts(o.basePort, i).client}`,
    `clientPortAddress=${o.host}`,
    'autopurge.purgeInterval=1',
    // Each member needs its own AdminServer port on a shared host.
    `admin.serverPort=${8080 + i - 1}`,
  ];
  for (let j = 1; j <= o.servers; j++) {
    const p = memberPorts(o.basePort, j);
    lines.push(`server.${j}=${o.host}:${p.quorum}:${p.election};${o.host}:${p.client}`);
  }
  return lines.join('\n') + '\n';
}

/** What the launcher prints when member i exits on its own (crash, kill -9, fail-stop). */
export function memberExitNotice(i: number, code: number | null, signal: NodeJS.Signals | null, node: string, cliPath: string, cfg: string): string {
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return `[server ${i}] ${how}; the others keep running. Restart it with: ${node} ${cliPath} server --config ${cfg}`;
}

/**
 * Runs a local ensemble of separate server processes in the foreground: writes each member's
 * zoo.cfg and myid under dataDir, starts `zabkeeper server --config` for each, prefixes their log
 * lines with the member id, and forwards SIGINT/SIGTERM so all of them stop gracefully.
 */
export async function runLocalEnsemble(o: LocalEnsembleOptions, cliPath: string): Promise<void> {
  const children: ChildProcess[] = [];
  let stopping = false;
  for (let i = 1; i <= o.servers; i++) {
    const dir = path.resolve(o.dataDir, String(i));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'myid'), `${i}\n`);
    const cfg = path.resolve(o.dataDir, `zoo${i}.cfg`);
    fs.writeFileSync(cfg, memberConfig(o, i));
    // The IPC channel ties each member to this process: if we die (even by SIGKILL), they stop.
    const child = spawn(process.execPath, [cliPath, 'server', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    for (const stream of [child.stdout!, child.stderr!]) {
      readline.createInterface({ input: stream }).on('line', (line) => process.stderr.write(`[server ${i}] ${line}\n`));
    }
    child.once('exit', (code, signal) => {
      // A member that dies while the others run leaves a degraded ensemble: say so, and how to bring it back.
      if (!stopping) process.stderr.write(`${memberExitNotice(i, code, signal, process.execPath, cliPath, cfg)}\n`);
    });
    children.push(child);
  }
  const connect = Array.from({ length: o.servers }, (_, k) => `${o.host}:${memberPorts(o.basePort, k + 1).client}`).join(',');
  process.stderr.write(`local ensemble of ${o.servers} starting; connect with: ${connect}\n`);
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGTERM'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await Promise.all(children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())))));
  // Every member ended without being asked to: that is a failure, whatever their codes were.
  const unasked = !stopping;
  stop('SIGTERM');
  process.exitCode = unasked ? 1 : 0;
}
