import path from 'node:path';
import { ConfigError, assertNoErrors, loadConfig, resolveClientAddress } from '../config';
import { fourLetterWord } from '../client/fourletter';

/**
 * `zabkeeper status`: zkServer.sh status for scripts. It finds the client address the way
 * zkServer.sh does (clientPortAddress + clientPort, else this server's `server.<myid>=...;port`
 * line), asks `srvr` and prints the `Mode:` line. Exit codes: 0 serving (leader, follower,
 * observer, standalone), 1 not reachable (zkServer.sh's only failure code), 2 usage, 3 invalid
 * zoo.cfg, 4 running but not serving (no quorum, election in progress).
 */
export const STATUS_EXIT = { serving: 0, notRunning: 1, usage: 2, badConfig: 3, notServing: 4 } as const;

export interface StatusOptions {
  config?: string;
  /** host:port, instead of reading zoo.cfg. */
  server?: string;
  json?: boolean;
  timeoutMs?: number;
}

interface Io {
  out(line: string): void;
  err(line: string): void;
}

const defaultIo: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

/** Where to connect: from --server, else from zoo.cfg (a wildcard address means this host). */
function target(o: StatusOptions & { quiet?: boolean }, io: Io): { host: string; port: number; shown: string } | number {
  if (o.server) {
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(o.server);
    if (!m) {
      io.err(`zabkeeper status: --server must be host:port, got '${o.server}'`);
      return STATUS_EXIT.usage;
    }
    return { host: m[1]!, port: Number(m[2]), shown: m[1]! };
  }
  const file = o.config ?? process.env.ZOOCFG ?? path.join(process.env.ZOOCFGDIR ?? '/conf', 'zoo.cfg');
  if (!o.quiet) io.err(`Using config: ${file}`);
  let address;
  try {
    address = resolveClientAddress(assertNoErrors(loadConfig(file), file)).address;
  } catch (err) {
    io.err(err instanceof ConfigError ? err.message : `zabkeeper status: cannot read ${file}: ${(err as Error).message}`);
    return STATUS_EXIT.badConfig;
  }
  if (!address) {
    io.out('Unable to find either secure or unsecure client port in any configs. Terminating.');
    return STATUS_EXIT.notRunning;
  }
  const wildcard = address.host === '0.0.0.0' || address.host === '::';
  return { host: wildcard ? '127.0.0.1' : address.host, port: address.port, shown: wildcard ? 'localhost' : address.host };
}

/** `zabkeeper ruok`: the liveness probe. Prints the answer; exit 0 only for `imok`, else 1 (2, 3 as status). */
export async function runRuok(o: StatusOptions, io: Io = defaultIo): Promise<number> {
  const t = target({ ...o, quiet: true }, io);
  if (typeof t === 'number') return t;
  const reply = await fourLetterWord(t.host, t.port, 'ruok', o.timeoutMs ?? 5000).catch((err: Error) => `error: ${err.message}`);
  io.out(reply);
  return reply === 'imok' ? STATUS_EXIT.serving : STATUS_EXIT.notRunning;
}

/** srvr's `Key: value` lines as a map. */
function parseSrvr(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 2));
  }
  return fields;
}

export async function runStatus(o: StatusOptions, io: Io = defaultIo): Promise<number> {
  const t = target(o, io);
  if (typeof t === 'number') return t;
  if (!o.json) io.out(`Client port found: ${t.port}. Client address: ${t.shown}. Client SSL: false.`);
  let reply: string;
  try {
    reply = await fourLetterWord(t.host, t.port, 'srvr', o.timeoutMs ?? 5000);
  } catch {
    reply = '';
  }
  const fields = parseSrvr(reply);
  const mode = fields.get('Mode');
  const state = mode ? 'serving' : reply.includes('not currently serving') ? 'notServing' : 'notRunning';
  if (o.json) {
    const zxid = fields.get('Zxid');
    io.out(JSON.stringify({ host: t.host, port: t.port, state, mode: mode ?? null, zxid: zxid ?? null, nodeCount: fields.has('Node count') ? Number(fields.get('Node count')) : null, version: fields.get('Zookeeper version') ?? null }));
  } else if (mode) io.out(`Mode: ${mode}`);
  else if (state === 'notServing') io.out('Error contacting service. The server is running but not serving requests (no quorum, or an election is in progress).');
  else io.out('Error contacting service. It is probably not running.');
  return STATUS_EXIT[state];
}
