#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { loadConfig, assertNoErrors, ConfigError, parseZooCfg, serverJvmFlags } from '../config';
import { createLogger } from '../util/logger';
import { ZkServer } from '../server/zkserver';
import { defaultServerOptions, type ServerOptions } from '../server/options';
import { NoClientPortError, optionsFromConfig } from '../server/fromConfig';
import { PACKAGE_VERSION } from '../util/version';
import { runShell } from '../shell';
import { runLocalEnsemble } from './ensemble';

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

async function runServer(options: ServerOptions): Promise<void> {
  const logger = createLogger({ name: 'zabkeeper' });
  for (const w of pendingWarnings.splice(0)) logger.warn(w);
  let server: ZkServer;
  try {
    server = await ZkServer.start(options, logger);
  } catch (err) {
    logger.fatal({ err }, 'server failed to start');
    process.exitCode = EXIT_START_FAILED;
    return;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Started by `zabkeeper ensemble`: stop with the parent, however it ended.
  if (process.send) process.on('disconnect', () => stop('parent exited'));
  server.on('fatal', () => {
    // Fail-stop: a storage failure must not leave a process that looks alive. The server is already
    // closing; exit with EXIT_FATAL once it has (or after a bound), never with 0.
    process.exitCode = EXIT_FATAL;
    const exit = () => process.exit(EXIT_FATAL);
    setTimeout(exit, 2000);
    void server.close().then(exit, exit);
  });
}

const pendingWarnings: string[] = [];

function serverOptionsFromFlags(flags: Record<string, unknown>): ServerOptions {
  if (typeof flags.config === 'string') {
    const result = loadConfig(flags.config);
    assertNoErrors(result, flags.config);
    for (const issue of result.issues) pendingWarnings.push(`${path.basename(flags.config)}:${issue.line}: ${issue.message}`);
    const overrides: Partial<ServerOptions> = {};
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
  for (const issue of fromEnv.issues) pendingWarnings.push(issue.message);
  return defaultServerOptions({
    dataDir: path.resolve((flags.dataDir as string | undefined) ?? './data'),
    host: (flags.host as string | undefined) ?? '127.0.0.1',
    port: (flags.port as number | undefined) ?? 2181,
    tickTimeMs: (flags.tickTime as number | undefined) ?? 2000,
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
    .action(async (flags) => runServer(serverOptionsFromFlags(flags)));

  program
    .command('dev')
    .description('local development server on 127.0.0.1:2181 with data under ./data (what `npm start` runs)')
    .option('-p, --port <port>', 'client port', intArg('port'), 2181)
    .option('-d, --data-dir <dir>', 'data directory', './data')
    .action(async (flags) => runServer(serverOptionsFromFlags({ ...flags, host: '127.0.0.1' })));

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

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        process.exit(EXIT_CONFIG);
      }
      process.stderr.write(`zabkeeper: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
