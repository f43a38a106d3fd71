/**
 * `zabkeeper shell`: the process side of the zkCli-compatible shell. Modes, as zkCli 3.8:
 *
 * - trailing command (`zabkeeper shell -server h:p ls /`): run it, exit with its code;
 * - `-c "cmd"` (ours, repeatable): run each, stop at the first failure, exit with its code;
 * - stdin not a TTY: read commands line by line (`Welcome to ZooKeeper!` banner and all), exit
 *   with the LAST command's code, or at `quit` with the code of the command before it;
 *   `--fail-fast` (ours) stops at the first failure instead;
 * - a TTY: line editing with tab completion, persistent history (~/.zabkeeper_history or
 *   $ZABKEEPER_HISTORY), zkCli's prompt, colours unless NO_COLOR / --no-color.
 *
 * A Java exception zkCli does not catch (e.g. `set -v abc /a x`) ends zkCli with exit code 1; the
 * non-interactive modes do the same, the interactive one just reports it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CliError, JavaCrash } from './commands';
import { ALL_COMMANDS_BY_NAME } from './extras';
import { cachedLister, completeLine } from './complete';
import { Shell, COMMAND_NAMES, type ShellOptions } from './shell';
import { LaunchError, parseLaunchArgs, type LaunchOptions } from './tokenize';
import { ClientConfigError, loadClientOptions } from './clientConfig';

export interface ShellIO {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
}

export function processIO(): ShellIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
  };
}

const HELP = `usage: zabkeeper shell [-server host:port[,host:port...][/chroot]] [-timeout ms] [-r]
                       [-waitforconnection] [-client-configuration file] [--json] [--no-color]
                       [--fail-fast] [-c "cmd args"]... [cmd args...]

A zkCli.sh-compatible shell. Without a command it reads commands from the terminal (with tab
completion and history) or, when stdin is not a terminal, from stdin.
TLS and SASL as for zkCli: zookeeper.client.secure, zookeeper.ssl.*, zookeeper.sasl.* in the
-client-configuration file or as -D flags in CLIENT_JVMFLAGS, and the JAAS Client section named
by -Djava.security.auth.login.config.
Type an unknown command (or 'help') for the list of commands.`;

const HISTORY_LIMIT = 1000;
const HISTORY_SHUTDOWN_MS = 3000;

/** Runs the shell and resolves with the process exit code. */
export async function runShell(argv: readonly string[], io: ShellIO = processIO()): Promise<number> {
  let opts: LaunchOptions;
  try {
    opts = parseLaunchArgs(argv);
  } catch (err) {
    if (!(err instanceof LaunchError)) throw err;
    io.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (opts.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const interactive = opts.trailing === undefined && opts.commands.length === 0 && io.stdinIsTTY;
  // Colour only on a terminal, never with NO_COLOR (https://no-color.org) or --no-color.
  const noColorEnv = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  let clientOptions: ShellOptions['clientOptions'];
  try {
    clientOptions = loadClientOptions(opts.clientConfiguration, io.env);
  } catch (err) {
    if (!(err instanceof ClientConfigError)) throw err;
    // zkCli exits 2 (INVALID_INVOCATION) for a configuration it cannot read.
    io.stderr.write(`${err.message}\n`);
    return 2;
  }
  const shellOpts: ShellOptions = {
    clientOptions,
    json: opts.json,
    color: io.stdoutIsTTY && !noColorEnv && opts.color !== false,
    timeoutMs: opts.timeoutMs,
    readOnly: opts.readOnly,
  };
  // While the interactive prompt waits for input, asynchronous output (watch events) is printed
  // above it and the prompt redrawn, instead of being spliced into the line being typed.
  const idle: { rl: readline.Interface | undefined } = { rl: undefined };
  const writeAbovePrompt = (stream: NodeJS.WritableStream, text: string) => {
    const rl = idle.rl;
    if (!rl) return void stream.write(text);
    readline.clearLine(io.stdout, 0);
    readline.cursorTo(io.stdout, 0);
    stream.write(text);
    rl.setPrompt(shell.coloredPrompt()); // the event may have changed the state it shows
    rl.prompt(true);
  };
  const shell = new Shell({ stdout: (t) => writeAbovePrompt(io.stdout, t), stderr: (t) => writeAbovePrompt(io.stderr, t) }, shellOpts);
  const say = (line: string) => {
    if (!opts.json) io.stdout.write(`${line}\n`);
  };

  say(`Connecting to ${opts.server}`);
  try {
    await shell.connect(opts.server);
    if (opts.waitForConnection) await shell.waitForConnection();
  } catch (err) {
    // What zkCli's constructor throws when -waitforconnection times out (or the string is bad).
    const why = err instanceof CliError ? err.message : 'org.apache.zookeeper.KeeperException$ConnectionLossException: KeeperErrorCode = ConnectionLoss';
    io.stderr.write(`Exception in thread "main" java.io.IOException: ${why}\n`);
    await shell.closeSession(false);
    return 1;
  }

  let code: number;
  try {
    if (opts.trailing !== undefined) code = (await shell.processCmd(opts.trailing)).exitCode;
    else if (opts.commands.length > 0) code = await runLines(shell, opts.commands, true);
    else if (interactive) code = await runInteractive(shell, io, say, idle);
    else code = await runStdin(shell, io, opts, say);
  } catch (err) {
    if (!(err instanceof JavaCrash)) throw err;
    io.stderr.write(`Exception in thread "main" ${err.javaException}\n`);
    code = 1;
  }
  // zkCli exits without closing the session; we close it (silently: the transcript is unchanged)
  // so ephemerals go now rather than after the session timeout.
  await withTimeout(shell.closeSession(false), HISTORY_SHUTDOWN_MS);
  return code;
}

async function runLines(shell: Shell, lines: readonly string[], failFast: boolean): Promise<number> {
  for (const line of lines) {
    const r = await shell.executeLine(line);
    if (r.quit) return r.exitCode;
    if (failFast && r.exitCode !== 0) return r.exitCode;
  }
  return shell.exitCode;
}

async function runStdin(shell: Shell, io: ShellIO, opts: LaunchOptions, say: (l: string) => void): Promise<number> {
  say('Welcome to ZooKeeper!');
  say('JLine support is disabled');
  const rl = readline.createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of rl) {
      const r = await shell.executeLine(line);
      if (r.quit) return r.exitCode;
      if (opts.failFast && r.exitCode !== 0) return r.exitCode;
    }
  } finally {
    rl.close();
  }
  return shell.exitCode;
}

function historyFile(env: NodeJS.ProcessEnv): string {
  return env.ZABKEEPER_HISTORY || path.join(os.homedir(), '.zabkeeper_history');
}

/** Most recent first, as readline's `history` option wants it. */
export function loadHistory(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(-HISTORY_LIMIT).reverse();
  } catch {
    return [];
  }
}

export function appendHistory(file: string, line: string): void {
  try {
    fs.appendFileSync(file, `${line.replace(/\n/g, ' ')}\n`, { mode: 0o600 });
  } catch {
    // history is a convenience; an unwritable file must not break the shell
  }
}

function flagsOf(command: string): string[] {
  return (ALL_COMMANDS_BY_NAME.get(command)?.options.opts ?? []).map((o) => `-${o.name}`);
}

async function runInteractive(shell: Shell, io: ShellIO, say: (l: string) => void, idle: { rl: readline.Interface | undefined }): Promise<number> {
  say('Welcome to ZooKeeper!');
  say('JLine support is enabled');
  const file = historyFile(io.env);
  const lister = cachedLister(
    async (p) => {
      const zk = shell.client;
      if (!zk || !shell.alive || !zk.isConnected) return [];
      return (await zk.getChildren(p, { signal: AbortSignal.timeout(2000) })).children;
    },
    2000,
    Date.now,
  );
  const rl = readline.createInterface({
    input: io.stdin,
    output: io.stdout,
    terminal: true,
    history: loadHistory(file),
    historySize: HISTORY_LIMIT,
    removeHistoryDuplicates: true,
    completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => {
      completeLine(line, { commands: COMMAND_NAMES, flags: flagsOf, listChildren: lister }).then(
        (r) => cb(null, r),
        () => cb(null, [[], line]),
      );
    },
  });
  rl.on('SIGINT', () => {
    rl.write(null, { ctrl: true, name: 'u' }); // Ctrl-C clears the line, Ctrl-D quits
    io.stdout.write('\n');
    rl.prompt();
  });
  rl.setPrompt(shell.coloredPrompt());
  rl.prompt();
  idle.rl = rl;
  try {
    for await (const line of rl) {
      idle.rl = undefined;
      if (line.trim() !== '') appendHistory(file, line);
      try {
        const r = await shell.executeLine(line);
        if (r.quit) return r.exitCode;
      } catch (err) {
        if (!(err instanceof JavaCrash)) throw err;
        io.stderr.write(`${err.javaException}\n`);
      }
      rl.setPrompt(shell.coloredPrompt());
      rl.prompt();
      idle.rl = rl;
    }
  } finally {
    idle.rl = undefined;
    rl.close();
  }
  io.stdout.write('\n');
  return shell.exitCode;
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined, () => undefined), new Promise<void>((r) => (t = setTimeout(r, ms)))]).finally(() => clearTimeout(t));
}
