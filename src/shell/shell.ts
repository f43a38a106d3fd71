/**
 * The zkCli session engine (ZooKeeperMain's processZKCmd): one ZkClient, the numbered command
 * history behind `history`/`redo`, `printwatches`, `connect`/`close`/`quit`, dispatch to the
 * command table, and the default watcher that prints `WATCHER::` blocks. It writes through the
 * Output it is given and never touches process state, so tests drive it directly.
 *
 * Exit codes follow zkCli 3.8: 0 for success (and, as in zkCli, for "Not connected"), 1 for a
 * failed command, 127 for an unknown command; `quit` leaves with the previous command's code.
 */
import type { PersistentWatch, ZkClient } from '../client/client';
import { ZkClient as ZkClientClass } from '../client/client';
import { parseConnectString } from '../client/connectString';
import type { ClientOptions, ConnectionState, SaslOutcome, WatchedEvent } from '../client/types';
import {
  CliError,

  JavaCrash,
  parseCommand,
  SERVER_COMMANDS,
  usageOf,
  type CommandContext,
} from './commands';
import { ALL_COMMANDS_BY_NAME } from './extras';
import { watchedEventString } from './format';
import { tokenize } from './tokenize';

export interface Output {
  /** Writes text to stdout / stderr as is (callers add newlines). */
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface ShellOptions {
  json?: boolean;
  /** ANSI colours for errors, events and the prompt (callers decide: TTY and no NO_COLOR). */
  color?: boolean;
  timeoutMs?: number;
  readOnly?: boolean;
  timeZone?: string;
  /** TLS, SASL and jute.maxbuffer from -client-configuration and CLIENT_JVMFLAGS (clientConfig.ts). */
  clientOptions?: Pick<ClientOptions, 'tls' | 'sasl' | 'maxFrameBytes'>;
  /** Injected for tests; defaults to `new ZkClient(connectString, opts)`. */
  clientFactory?: (connectString: string, opts: ClientOptions) => ZkClient;
}

/** Shell-level commands and their option strings (ZooKeeperMain.commandMap). */
const SHELL_COMMANDS: Readonly<Record<string, string>> = {
  connect: 'host:port',
  history: '',
  redo: 'cmdno',
  printwatches: 'on|off',
  quit: '',
};

/** Every command name with its option string, sorted as zkCli's usage() prints them. */
export const COMMAND_USAGE: ReadonlyMap<string, string> = new Map(
  [...Object.entries(SHELL_COMMANDS), ...SERVER_COMMANDS.map((c) => [c.name, c.optionStr] as [string, string])].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  ),
);

export const COMMAND_NAMES: readonly string[] = [...COMMAND_USAGE.keys()];

/** Java's ZooKeeper.States names, as the prompt shows them. */
type JavaState = 'CONNECTING' | 'CONNECTED' | 'CONNECTEDREADONLY' | 'CLOSED' | 'AUTH_FAILED';
const ALIVE: ReadonlySet<JavaState> = new Set(['CONNECTING', 'CONNECTED', 'CONNECTEDREADONLY']);

/** What each client state change prints, and the Java state it leaves the session in. */
const STATE_EVENTS: Readonly<Partial<Record<ConnectionState, { keeper: string; java: JavaState }>>> = {
  connected: { keeper: 'syncConnected', java: 'CONNECTED' },
  reconnected: { keeper: 'syncConnected', java: 'CONNECTED' },
  readOnly: { keeper: 'connectedReadOnly', java: 'CONNECTEDREADONLY' },
  suspended: { keeper: 'disconnected', java: 'CONNECTING' },
  // The Java client does not outlive an expired session or a rejected credential: it is closed.
  lost: { keeper: 'expired', java: 'CLOSED' },
  authFailed: { keeper: 'authFailed', java: 'AUTH_FAILED' },
};

const REMOVAL_TYPES: ReadonlySet<string> = new Set(['dataWatchRemoved', 'childWatchRemoved', 'persistentWatchRemoved']);

const ANSI = { red: '\x1b[31m', cyan: '\x1b[36m', dim: '\x1b[2m', green: '\x1b[32m', yellow: '\x1b[33m', reset: '\x1b[0m' } as const;

export type LineResult = { exitCode: number; quit: boolean };

export class Shell {
  readonly history = new Map<number, string>();
  commandCount = 0;
  printWatches = true;
  /** The code the process would exit with now (zkCli's exitCode field). */
  exitCode = 0;
  host = '';

  private zk: ZkClient | undefined;
  private rawClient: ZkClient | undefined;
  private javaState: JavaState = 'CLOSED';
  private generation = 0;
  private lastWords: string[] | undefined;
  private printed = new WeakSet<object>();
  private removalBatch: Set<string> | undefined;
  private readonly json: boolean;
  private readonly color: boolean;
  private readonly factory: (cs: string, o: ClientOptions) => ZkClient;

  constructor(
    private readonly output: Output,
    private readonly opts: ShellOptions = {},
  ) {
    this.json = opts.json ?? false;
    this.color = (opts.color ?? false) && !this.json;
    this.factory = opts.clientFactory ?? ((cs, o) => new ZkClientClass(cs, o));
  }

  // ------------------------------------------------------------------ output

  private paint(colour: keyof typeof ANSI, text: string): string {
    return this.color ? `${ANSI[colour]}${text}${ANSI.reset}` : text;
  }

  /** stdout line (suppressed in --json, where the command result is printed instead). */
  out(line: string): void {
    if (!this.json) this.output.stdout(`${line}\n`);
  }

  private errLine(line: string, colour?: keyof typeof ANSI): void {
    if (!this.json) this.output.stderr(`${colour ? this.paint(colour, line) : line}\n`);
  }

  private emitJson(obj: unknown, toStderr = false): void {
    const text = JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
    if (toStderr) this.output.stderr(text);
    else this.output.stdout(text);
  }

  /** ZooKeeperMain.printMessage: a blank line before each of `WATCHER::` and the event. */
  private printEvent(state: string, type: string, path: string | null): void {
    if (!this.printWatches) return;
    const text = watchedEventString(state, type, path);
    if (this.json) {
      const [, s, t] = /state:(\S+) type:(\S+)/.exec(text)!;
      this.emitJson({ event: { state: s, type: t, path } });
      return;
    }
    this.output.stdout(`\n${this.paint('cyan', 'WATCHER::')}\n\n${this.paint('cyan', text)}\n`);
  }

  private onWatchEvent(ev: WatchedEvent): void {
    // Connection-state events reach watches too; the session listener prints those once.
    if (ev.type === 'none' || this.printed.has(ev)) return;
    // One server event fires every local watch on its path; Java's default watcher prints it once.
    this.printed.add(ev);
    if (REMOVAL_TYPES.has(ev.type) && this.removalBatch) {
      const key = `${ev.type} ${ev.path}`;
      if (this.removalBatch.has(key)) return;
      this.removalBatch.add(key);
    }
    this.printEvent(ev.state, ev.type, ev.path);
  }

  // ------------------------------------------------------------------ session

  get state(): JavaState {
    return this.javaState;
  }

  get alive(): boolean {
    return this.zk !== undefined && ALIVE.has(this.javaState);
  }

  get client(): ZkClient | undefined {
    return this.zk;
  }

  prompt(): string {
    return `[zk: ${this.host}(${this.javaState}) ${this.commandCount}] `;
  }

  coloredPrompt(): string {
    const colour = this.javaState === 'CONNECTED' ? 'green' : 'yellow';
    return this.color ? `${ANSI.dim}[zk: ${this.host}(${ANSI.reset}${this.paint(colour, this.javaState)}${ANSI.dim}) ${this.commandCount}]${ANSI.reset} ` : this.prompt();
  }

  /** ZooKeeperMain.connectToZK: closes a live session, starts a new one without waiting. */
  async connect(host: string): Promise<void> {
    if (this.zk && this.alive) await this.closeSession(true);
    this.host = host;
    const gen = ++this.generation;
    let zk: ZkClient;
    try {
      parseConnectString(host);
      zk = this.factory(host, {
        ...this.opts.clientOptions,
        sessionTimeoutMs: this.opts.timeoutMs ?? 30000,
        connectTimeoutMs: this.opts.timeoutMs ?? 30000,
        canBeReadOnly: this.opts.readOnly ?? false,
      });
    } catch (err) {
      throw new CliError(`${(err as Error).message}`);
    }
    this.zk = zk;
    this.javaState = 'CONNECTING';
    zk.on('state', (s) => this.onState(gen, zk, s));
    zk.on('sasl', (o) => this.onSasl(gen, o));
    zk.connect().catch(() => {
      // Reported by the commands that need the connection (ConnectionLoss), as in zkCli.
      if (gen === this.generation) this.javaState = 'CLOSED';
    });
  }

  /** Waits for the first connection (zkCli's -waitforconnection). */
  async waitForConnection(): Promise<void> {
    if (!this.zk) throw new Error('not connected');
    await this.zk.connect();
  }

  /**
   * The Java client reports SyncConnected when the server accepts the session and then, after the
   * SASL exchange, SaslAuthenticated or AuthFailed; our client reports the login first and the
   * connection once it is usable. A refused login prints the SyncConnected it came after here.
   */
  private onSasl(gen: number, o: SaslOutcome): void {
    if (gen !== this.generation) return;
    if (o.ok) this.saslJustAuthenticated = true;
    else this.printEvent('syncConnected', 'none', null);
  }

  private saslJustAuthenticated = false;

  private onState(gen: number, zk: ZkClient, s: ConnectionState): void {
    if (gen !== this.generation) return;
    if (s === 'closed') return; // closeSession prints Closed for user-initiated closes
    const ev = STATE_EVENTS[s];
    if (!ev) return;
    this.javaState = ev.java;
    this.printEvent(ev.keeper, 'none', null);
    if (this.saslJustAuthenticated && (ev.java === 'CONNECTED' || ev.java === 'CONNECTEDREADONLY')) {
      this.saslJustAuthenticated = false;
      this.printEvent('saslAuthenticated', 'none', null);
    }
    if (!ALIVE.has(ev.java)) {
      // Do not let our client quietly open a new session behind the user's back.
      this.generation++;
      void zk.close();
    }
  }

  /** Closes the session; `announce` prints the Closed event as the Java client does. */
  async closeSession(announce: boolean): Promise<void> {
    const zk = this.zk;
    const raw = this.rawClient;
    this.generation++;
    this.rawClient = undefined;
    const wasAlive = this.alive;
    this.javaState = 'CLOSED';
    if (zk && wasAlive && announce) this.printEvent('closed', 'none', null);
    await Promise.all([zk?.close(), raw?.close()].map((p) => p?.catch(() => undefined)));
  }

  /** The chroot-free client zkCli's `config` needs (getConfig ignores the chroot). */
  private unchrooted(): ZkClient {
    const zk = this.zk!;
    const slash = this.host.indexOf('/');
    if (slash < 0) return zk;
    if (!this.rawClient) {
      this.rawClient = this.factory(this.host.slice(0, slash), { ...this.opts.clientOptions, sessionTimeoutMs: this.opts.timeoutMs ?? 30000 });
    }
    return this.rawClient;
  }

  // ------------------------------------------------------------------ lines and commands

  /** ZooKeeperMain.executeLine: numbers and records the line, then runs it. */
  async executeLine(line: string): Promise<LineResult> {
    if (line === '') return { exitCode: this.exitCode, quit: false };
    let words = tokenize(line);
    // zkCli keeps the previous parse when a line yields no words (e.g. a lone quote).
    if (words.length === 0) words = this.lastWords ?? [];
    else this.lastWords = words;
    this.history.set(this.commandCount, line);
    const r = await this.processCmd(words);
    this.commandCount++;
    return r;
  }

  /** ZooKeeperMain.processCmd: runs one parsed command and records its exit code. */
  async processCmd(words: string[]): Promise<LineResult> {
    let quit = false;
    try {
      quit = await this.processZKCmd(words);
      if (!quit) this.exitCode = 0;
    } catch (err) {
      if (err instanceof JavaCrash) throw err;
      const e = err instanceof CliError ? err : new CliError(String((err as Error)?.message ?? err));
      this.exitCode = e.exitCode;
      this.reportError(words[0] ?? '', e);
    }
    return { exitCode: this.exitCode, quit };
  }

  private reportError(command: string, e: CliError): void {
    if (this.json) {
      const error = { message: e.message, exitCode: e.exitCode, ...(e.code !== undefined ? { code: e.code } : {}), ...(e.path !== undefined ? { path: e.path } : {}) };
      this.emitJson({ command, ok: false, error }, true);
    } else {
      this.errLine(e.message, 'red');
    }
  }

  private usage(): void {
    this.errLine('ZooKeeper -server host:port -client-configuration properties-file cmd args');
    for (const [cmd, opt] of COMMAND_USAGE) this.errLine(`\t${cmd} ${opt}`);
  }

  /** Returns true when the shell should exit (quit). */
  private async processZKCmd(words: string[]): Promise<boolean> {
    const cmd = words[0];
    if (cmd === undefined) {
      this.usage();
      throw new CliError('No command entered');
    }
    if (!COMMAND_USAGE.has(cmd) && !ALL_COMMANDS_BY_NAME.has(cmd)) {
      this.usage();
      throw new CliError(`Command not found: Command not found ${cmd}`, 127);
    }
    if (cmd === 'quit') {
      await this.closeSession(true);
      return true;
    }
    if (cmd === 'redo' && words.length >= 2) {
      if (await this.redo(words[1]!)) return true;
    } else if (cmd === 'history') {
      this.printHistory();
    } else if (cmd === 'printwatches') {
      if (words.length === 1) this.out(`printwatches is ${this.printWatches ? 'on' : 'off'}`);
      else this.printWatches = words[1] === 'on';
      if (this.json) this.emitJson({ command: cmd, ok: true, result: { printwatches: this.printWatches } });
    } else if (cmd === 'connect') {
      await this.connect(words.length >= 2 ? words[1]! : this.host);
    }
    // As in zkCli, everything below (including after the shell commands above) needs a session.
    if (!this.alive) {
      this.out('Not connected');
      if (this.json && !(cmd in SHELL_COMMANDS)) this.emitJson({ command: cmd, ok: false, error: { message: 'Not connected' } }, true);
      return false;
    }
    if (cmd === 'close') {
      await this.closeSession(true);
      if (this.json) this.emitJson({ command: cmd, ok: true, result: {} });
      return false;
    }
    const def = ALL_COMMANDS_BY_NAME.get(cmd);
    if (!def) {
      if (this.json && cmd === 'connect') this.emitJson({ command: cmd, ok: true, result: { host: this.host } });
      return false;
    }
    const ctx = this.context();
    const parsed = parseCommand(def, words, ctx);
    const result = await def.run(ctx, parsed);
    if (this.json) this.emitJson({ command: cmd, ok: true, result, ...(ctx.warnings.length ? { warnings: ctx.warnings } : {}) });
    return false;
  }

  /** `redo N`: re-runs history entry N in place of this line (never another redo). */
  private async redo(arg: string): Promise<boolean> {
    const i = javaDecode(arg);
    if (this.commandCount <= i || i < 0) throw new CliError('Command index out of range');
    const line = this.history.get(i)!;
    const words = tokenize(line);
    if (words[0] === 'redo') throw new CliError('No redoing redos');
    this.lastWords = words;
    this.history.set(this.commandCount, line);
    const r = await this.processCmd(words);
    return r.quit;
  }

  private printHistory(): void {
    const entries: { index: number; line: string | undefined }[] = [];
    for (let i = this.commandCount - 10; i <= this.commandCount; ++i) {
      if (i < 0) continue;
      entries.push({ index: i, line: this.history.get(i) });
      this.out(`${i} - ${this.history.get(i)}`);
    }
    if (this.json) this.emitJson({ command: 'history', ok: true, result: { history: entries } });
  }

  private context(): CommandContext & { warnings: string[] } {
    const warnings: string[] = [];
    const zk = this.zk!;
    return {
      zk,
      warnings,
      timeZone: this.opts.timeZone,
      unchrooted: () => this.unchrooted(),
      out: (l) => this.out(l),
      outRaw: (t) => {
        if (!this.json) this.output.stdout(t);
      },
      info: (l) => this.errLine(l),
      warn: (l) => {
        if (this.json) warnings.push(l);
        else this.errLine(l);
      },
      watchOnce: (w) => {
        void w?.then((ev) => this.onWatchEvent(ev));
      },
      watchPersistent: (w: PersistentWatch) => void this.consume(w),
      removal: async (fn) => {
        const batch = new Set<string>();
        this.removalBatch = batch;
        try {
          return await fn();
        } finally {
          // Removal events resolve as microtasks after the call; keep the batch for one turn.
          setTimeout(() => {
            if (this.removalBatch === batch) this.removalBatch = undefined;
          }, 0);
        }
      },
    };
  }

  private async consume(w: PersistentWatch): Promise<void> {
    try {
      for await (const ev of w) this.onWatchEvent(ev);
    } catch {
      // the watch ended with an error (overflow): nothing more to print
    }
  }
}

/** Integer.decode: decimal, 0x/#hex, 0-octal, optional sign; zkCli does not catch its failure. */
export function javaDecode(s: string): number {
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[+-]/, '');
  const [radix, digits, ok] = /^(0[xX]|#)/.test(body)
    ? [16, body.replace(/^(0[xX]|#)/, ''), /^[0-9a-fA-F]+$/]
    : body.length > 1 && body.startsWith('0')
      ? [8, body.slice(1), /^[0-7]+$/]
      : [10, body, /^\d+$/];
  if (!ok.test(digits)) throw new JavaCrash(`java.lang.NumberFormatException: For input string: "${s}"`);
  return sign * Number.parseInt(digits, radix);
}

export { usageOf };
