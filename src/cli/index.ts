#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, assertNoErrors, ConfigError, parseZooCfg, serverJvmFlags, issueLocation } from '../config';
import { createLogger } from '../util/logger';
import { ZkServer } from '../server/zkserver';
import { defaultServerOptions, type ServerOptions } from '../server/options';
import { NoClientPortError, optionsFromConfig } from '../server/fromConfig';
import { PACKAGE_VERSION } from '../util/version';
import { runShell } from '../shell';
import { runLocalEnsemble } from './ensemble';
import { serveParentControl } from '../testing/control';
import { ConsoleConfigError, ConsoleServer, type ConsoleOptions } from '../console/server';
import { runRuok, runStatus } from './status';
import { addToolCommands } from './tools';

/** Exit codes (README "Exit codes"): 1 failed to start, 2 fail-stop after a storage error, 3 bad configuration. */
export const EXIT_START_FAILED = 1;
export const EXIT_FATAL = 2;
export const EXIT_CONFIG = 3;

/**
 * `zabkeeper` command line. Every subcommand runs in the foreground and stops gracefully on
 * SIGTERM/SIGINT (connections closed, storage closed) so supervisors and Ctrl-C behave.
 */
function intArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

async function runServer(options: ServerOptions, consoleFlags: Record<string, unknown> = {}): Promise<void> {
  const logger = createLogger({ name: 'zabkeeper' });
  for (const w of pendingWarnings.splice(0)) logger.warn(w);
  let server: ZkServer;
  const consoles: ConsoleServer[] = [];
  // Signals are caught from the start: a SIGTERM while the server starts (it may already have
  // logged "serving clients") is a graceful stop once it has started, never the default kill
  // (a supervisor stopping a member mid-start; seen as a SIGTERM death on a loaded CI machine).
  let requested: string | undefined;
  let stop = (signal: string): void => void (requested ??= signal);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    const consoleOpts = consoleOptionsFromFlags(consoleFlags);
    server = await ZkServer.start(options, logger);
    if (consoleOpts) {
      try {
        consoles.push(...(await startConsoles(server, consoleOpts, logger)));
      } catch (err) {
        await server.close();
        throw err;
      }
    }
  } catch (err) {
    logger.fatal({ err }, 'server failed to start');
    process.exitCode = EXIT_START_FAILED;
    return;
  }
  let stopping = false;
  stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void Promise.all(consoles.map((c) => c.close()))
      .then(() => server.close())
      .then(() => process.exit(0));
  };
  // Started by `zabkeeper ensemble`: stop with the parent, however it ended.
  if (process.send) process.on('disconnect', () => stop('parent exited'));
  // Started by a test harness (startTestCluster): answer its expireSession/status requests.
  serveParentControl(server);
  server.on('fatal', () => {
    // Fail-stop: a storage failure must not leave a process that looks alive. The server is already
    // closing; exit with EXIT_FATAL once it has (or after a bound), never with 0. The bound is
    // generous: on a starved machine (7.6 s stalls seen) a close that has not finished in 2 s is
    // not hung, and an exit while the store's worker is inside SQLite aborts the process.
    process.exitCode = EXIT_FATAL;
    const exit = () => process.exit(EXIT_FATAL);
    setTimeout(exit, 15_000).unref();
    void server.close().then(exit, exit);
  });
  if (requested !== undefined) stop(requested);
}

const pendingWarnings: string[] = [];

const collect = (v: string, all: string[]): string[] => [...all, v];

/**
 * The web console goes where ZooKeeper users look for HTTP: on the AdminServer's port (under
 * /console, bound like the AdminServer) when it runs, and on its own --console-port when given
 * (or when there is no AdminServer).
 */
async function startConsoles(server: ZkServer, opts: ConsoleOptions & { ownPort: boolean }, logger: ReturnType<typeof createLogger>): Promise<ConsoleServer[]> {
  const out: ConsoleServer[] = [];
  const admin = server.adminServer;
  if (admin) {
    const mounted = ConsoleServer.create(server, { ...opts, address: admin.address }, logger);
    admin.mount((req, res) => mounted.handle(req, res));
    out.push(mounted);
    logger.info({ port: server.operationPorts.admin, address: admin.address }, 'web console on the AdminServer port under /console');
  }
  if (opts.ownPort) out.push(await ConsoleServer.start(server, opts, logger));
  if (out.length === 0) throw new ConsoleConfigError('--console: no AdminServer runs here (admin.enableServer=false?); give --console-port');
  return out;
}

/** The console's settings from the CLI flags; undefined when neither --console nor --console-port was given. */
function consoleOptionsFromFlags(flags: Record<string, unknown>): (ConsoleOptions & { ownPort: boolean }) | undefined {
  if (flags.consolePort === undefined && flags.console !== true) return undefined;
  const users = new Map<string, string>();
  for (const u of (flags.consoleUser as string[] | undefined) ?? []) {
    const at = u.indexOf(':');
    if (at <= 0 || at === u.length - 1) throw new InvalidArgumentError(`--console-user ${u}: expected user:digest`);
    users.set(u.slice(0, at), u.slice(at + 1));
  }
  return {
    port: (flags.consolePort as number | undefined) ?? 0,
    ownPort: flags.consolePort !== undefined,
    ...(typeof flags.consoleAddress === 'string' ? { address: flags.consoleAddress } : {}),
    enableEdits: flags.consoleEdits === true,
    users,
  };
}

function serverOptionsFromFlags(flags: Record<string, unknown>): ServerOptions {
  if (typeof flags.config === 'string') {
    const result = loadConfig(flags.config);
    assertNoErrors(result, flags.config);
    for (const issue of result.issues) pendingWarnings.push(`${issueLocation(flags.config, issue)} ${issue.message}`);
    const overrides: Partial<ServerOptions> = { configText: fs.readFileSync(flags.config, 'utf8') };
    if (flags.port !== undefined) overrides.port = flags.port as number;
    if (flags.host !== undefined) overrides.host = flags.host as string;
    try {
      return optionsFromConfig(result.config, overrides);
    } catch (err) {
      // Refuse to start rather than pick a port the operator never configured.
      if (err instanceof NoClientPortError) throw new ConfigError(flags.config, [{ line: 0, key: 'clientPort', severity: 'error', message: err.message }]);
      throw err;
    }
  }
  // No zoo.cfg: JVM flags (SERVER_JVMFLAGS/JVMFLAGS) are still honoured or refused, never ignored.
  const fromEnv = parseZooCfg('', { requireDataDir: false, jvmFlags: serverJvmFlags(process.env) });
  assertNoErrors(fromEnv, 'SERVER_JVMFLAGS/JVMFLAGS');
  // The client port comes from --port here, so the empty file's "clientPort is not set" is no news.
  for (const issue of fromEnv.issues) if (issue.key !== 'clientPort') pendingWarnings.push(issue.message);
  const env = fromEnv.config;
  return defaultServerOptions({
    dataDir: path.resolve((flags.dataDir as string | undefined) ?? './data'),
    host: (flags.host as string | undefined) ?? '127.0.0.1',
    port: (flags.port as number | undefined) ?? 2181,
    tickTimeMs: (flags.tickTime as number | undefined) ?? 2000,
    // What the flags asked for (security, -Djute.maxbuffer, -Dzookeeper.snapCount, ...): a flag
    // that parsed cleanly is in force, exactly as it would be with a zoo.cfg.
    security: env.security,
    superDigest: env.superDigest,
    maxFrameBytes: env.juteMaxBuffer,
    globalOutstandingLimit: env.globalOutstandingLimit,
    snapCount: env.snapCount,
    ttlEnabled: env.extendedTypesEnabled,
    fourLetterWhitelist: env.fourLetterWordWhitelist.includes('*') ? '*' : new Set(env.fourLetterWordWhitelist),
  });
}

export function buildProgram(): Command {
  const program = new Command('zabkeeper')
    .description('A ZooKeeper-compatible coordination server')
    .version(PACKAGE_VERSION)
    // Root options only before the subcommand, so `shell` receives zkCli's `-server`, `-r`, ... raw.
    .enablePositionalOptions();

  program
    .command('server')
    .description('run one server in the foreground (standalone, or a member of the ensemble in zoo.cfg)')
    .option('-c, --config <zoo.cfg>', 'ZooKeeper-format configuration file')
    .option('-p, --port <port>', 'client port (overrides clientPort)', intArg('port'))
    .option('--host <address>', 'client port address (overrides clientPortAddress)')
    .option('-d, --data-dir <dir>', 'data directory when no --config is given', './data')
    .option('--tick-time <ms>', 'tickTime when no --config is given', intArg('tick-time'))
    .option('--console', 'serve the web console on the AdminServer port (under /console)')
    .option('--console-port <port>', 'serve the web console on this port too (0 = any free port)', intArg('console-port'))
    .option('--console-address <address>', 'console bind address (default 127.0.0.1; any other needs --console-user)')
    .option('--console-edits', 'allow create, edit and delete in the console (off by default)')
    .option('--console-user <user:digest>', 'console login as a ZooKeeper digest (user:base64(sha1(user:password))); repeatable', collect, [])
    .action(async (flags) => runServer(serverOptionsFromFlags(flags), flags));

  program
    .command('dev')
    .description('local development server on 127.0.0.1:2181 with data under ./data (what `npm run start:standalone` runs)')
    .option('-p, --port <port>', 'client port', intArg('port'), 2181)
    .option('-d, --data-dir <dir>', 'data directory', './data')
    .option('--console-port <port>', 'serve the web console on this port', intArg('console-port'))
    .option('--console-edits', 'allow create, edit and delete in the console')
    .action(async (flags) => runServer(serverOptionsFromFlags({ ...flags, host: '127.0.0.1' }), flags));

  program
    .command('ensemble')
    .description('run a local ensemble of separate server processes on loopback in the foreground')
    .option('-n, --servers <n>', 'number of servers', intArg('servers'), 3)
    .option('-p, --base-port <port>', 'client port of server 1 (the others follow)', intArg('base-port'), 2181)
    .option('-d, --data-dir <dir>', 'parent of each member\'s data directory', './data')
    .option('--tick-time <ms>', 'tickTime', intArg('tick-time'), 2000)
    .action(async (flags) => {
      await runLocalEnsemble({ servers: flags.servers, basePort: flags.basePort, dataDir: flags.dataDir, tickTime: flags.tickTime, host: '127.0.0.1' }, __filename);
    });

  program
    .command('shell')
    .description('zkCli.sh-compatible shell: shell [-server host:port[/chroot]] [-timeout ms] [--json] [-c cmd] [cmd args...]')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .passThroughOptions()
    .argument('[args...]', "zkCli's options and an optional command (see `zabkeeper shell -h`)")
    .action(async (args: string[]) => {
      process.exit(await runShell(args));
    });

  program
    .command('status')
    .description('zkServer.sh status: prints Mode: leader|follower|observer|standalone; exit 0 serving, 1 not running, 2 usage, 3 bad zoo.cfg, 4 not serving')
    .option('-c, --config <zoo.cfg>', 'zoo.cfg to find the client port in (default $ZOOCFG, else $ZOOCFGDIR/zoo.cfg, else /conf/zoo.cfg)')
    .option('-s, --server <host:port>', 'ask this address instead of reading zoo.cfg')
    .option('--json', 'one JSON object: host, port, state, mode, zxid, nodeCount, version')
    .option('--timeout <ms>', 'how long to wait for the answer', intArg('timeout'), 5000)
    .action(async (flags) => {
      process.exitCode = await runStatus({ config: flags.config, server: flags.server, json: flags.json, timeoutMs: flags.timeout });
    });

  program
    .command('ruok')
    .description('liveness probe: sends ruok; prints the answer; exit 0 for imok, 1 otherwise')
    .option('-c, --config <zoo.cfg>', 'zoo.cfg to find the client port in (as status)')
    .option('-s, --server <host:port>', 'ask this address instead of reading zoo.cfg')
    .option('--timeout <ms>', 'how long to wait for the answer', intArg('timeout'), 5000)
    .action(async (flags) => {
      process.exitCode = await runRuok({ config: flags.config, server: flags.server, timeoutMs: flags.timeout });
    });

  addToolCommands(program);
  return program;
}

/**
 * The command line as both launchers run it (bin/zabkeeper and `node dist/src/cli/index.js`), so
 * they exit with the same codes: 3 for an invalid zoo.cfg, 1 for any other failure, otherwise the
 * subcommand's own code.
 */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    process.stderr.write(`zabkeeper: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv);
