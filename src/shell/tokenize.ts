/**
 * Splits a shell line into words exactly as zkCli 3.8 does (ZooKeeperMain.MyCommandOptions):
 * a word is either a run of non-blanks that does not start with a quote, or a whole '...' / "..."
 * string whose quotes are dropped. Everything else (an unmatched quote, say) is skipped. The
 * pattern is kept as is so odd inputs tokenize the same way: a blank-only line yields one blank
 * "word", which zkCli then reports as an unknown command.
 */
const ARGS_PATTERN = /\s*([^"']\S*|"[^"]*"|'[^']*')\s*/g;
const QUOTED_PATTERN = /^(['"])(.*)(\1)$/s;

export function tokenize(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(ARGS_PATTERN)) {
    let value = m[1]!;
    if (QUOTED_PATTERN.test(value)) value = value.slice(1, -1);
    words.push(value);
  }
  return words;
}

/** Launch options of `zabkeeper shell`: zkCli's single-dash flags plus our own. */
export interface LaunchOptions {
  server: string;
  timeoutMs: number;
  readOnly: boolean;
  waitForConnection: boolean;
  clientConfiguration: string | undefined;
  /** `-c "cmd"` (repeatable): run these lines and exit. */
  commands: string[];
  /** The trailing `cmd args...` after the options, as zkCli runs it. */
  trailing: string[] | undefined;
  json: boolean;
  /** false with --no-color. */
  color: boolean | undefined;
  failFast: boolean;
  help: boolean;
}

export class LaunchError extends Error {}

/** Options taking a value, and where the value goes. */
const VALUE_FLAGS: Readonly<Record<string, (o: LaunchOptions, v: string) => void>> = {
  '-server': (o, v) => (o.server = v),
  '-timeout': (o, v) => (o.timeoutMs = Number.parseInt(v, 10)),
  '-client-configuration': (o, v) => (o.clientConfiguration = v),
  '-c': (o, v) => o.commands.push(v),
  '--command': (o, v) => o.commands.push(v),
};

const BOOL_FLAGS: Readonly<Record<string, (o: LaunchOptions) => void>> = {
  '-r': (o) => (o.readOnly = true),
  '-waitforconnection': (o) => (o.waitForConnection = true),
  '--json': (o) => (o.json = true),
  '--no-color': (o) => (o.color = false),
  '--fail-fast': (o) => (o.failFast = true),
  '-h': (o) => (o.help = true),
  '--help': (o) => (o.help = true),
};

/**
 * Mirrors ZooKeeperMain.parseOptions: flags are read until the first word that does not start
 * with '-', which begins the trailing command (everything after it belongs to the command).
 * Unknown dash words are ignored, as zkCli ignores them. `--` ends the options explicitly.
 */
export function parseLaunchArgs(argv: readonly string[]): LaunchOptions {
  const o: LaunchOptions = {
    server: 'localhost:2181',
    timeoutMs: 30000,
    readOnly: false,
    waitForConnection: false,
    clientConfiguration: undefined,
    commands: [],
    trailing: undefined,
    json: false,
    color: undefined,
    failFast: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      if (i + 1 < argv.length) o.trailing = argv.slice(i + 1);
      break;
    }
    const setValue = VALUE_FLAGS[a];
    if (setValue) {
      if (i + 1 >= argv.length) throw new LaunchError(`Error: no argument found for option ${a}`);
      setValue(o, argv[++i]!);
      continue;
    }
    const setBool = BOOL_FLAGS[a];
    if (setBool) {
      setBool(o);
      continue;
    }
    if (!a.startsWith('-')) {
      o.trailing = argv.slice(i);
      break;
    }
  }
  if (!Number.isInteger(o.timeoutMs) || o.timeoutMs <= 0) throw new LaunchError('Error: -timeout must be a positive integer (ms)');
  return o;
}
