/**
 * Plumbing shared by the demos: the child-process line protocol, a readable timeline, polling
 * waits and a small event queue. This is the imperative shell; the decisions live in kafka.ts.
 *
 * Line protocol: a child started with `--json` writes one JSON object per stdout line,
 * `{"t":<epoch ms>,"ev":"<name>",...}` (bigints as decimal strings). Anything else on its stdout
 * or stderr is passed through as text. Without `--json` the same events print as readable lines,
 * so every role can also be run by hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

export const DEFAULT_CONNECT = '127.0.0.1:2181';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ChildEvent {
  t: number;
  ev: string;
  [field: string]: unknown;
}

/** JSON.stringify that writes bigints as decimal strings. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** The child side of the line protocol. */
export function makeReporter(who: string, json: boolean): (ev: string, fields?: Record<string, unknown>) => void {
  return (ev, fields = {}) => {
    const t = Date.now();
    if (json) process.stdout.write(toJson({ t, ev, ...fields }) + '\n');
    else process.stdout.write(`${new Date(t).toISOString()} ${who} ${ev} ${toJson(fields)}\n`);
  };
}

/** Prints `t+  1234 ms  who  text` lines relative to the demo's start. */
export class Timeline {
  readonly t0 = Date.now();

  rel(at: number): number {
    return at - this.t0;
  }

  line(who: string, text: string, at = Date.now()): void {
    process.stdout.write(`t+${String(this.rel(at)).padStart(6)} ms  ${who.padEnd(10)} ${text}\n`);
  }
}

/** A compiled sibling demo script (dist/scripts/demo/<name>.js). */
export function siblingScript(name: string): string {
  return path.resolve(__dirname, '..', `${name}.js`);
}

/** One spawned demo role whose stdout is parsed with the line protocol. */
export class DemoChild {
  readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedFlag = false;

  constructor(
    readonly name: string,
    script: string,
    args: readonly string[],
    onEvent: (e: ChildEvent) => void,
    onText: (line: string) => void,
  ) {
    this.proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
      }),
    );
    readline.createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      const e = parseEvent(l);
      if (e) onEvent(e);
      else if (l.trim() !== '') onText(l);
    });
    readline.createInterface({ input: this.proc.stderr! }).on('line', (l) => onText(l));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get alive(): boolean {
    return !this.exitedFlag;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.proc.kill(sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.proc.kill('SIGCONT'); // a stopped process cannot handle SIGTERM
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

function parseEvent(line: string): ChildEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as ChildEvent;
    return typeof v.ev === 'string' && typeof v.t === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Polls until `pred` holds; returns the elapsed ms, or throws naming what it waited for. */
export async function waitFor(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await pred()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * A single-consumer event queue (the shape of Kafka's ControllerEventManager): events are handled
 * one at a time, in arrival order, and an event of a kind already waiting is not queued twice.
 */
export class EventQueue<E extends { kind: string }> {
  private readonly queue: E[] = [];
  private running = false;

  constructor(
    private readonly handle: (e: E) => Promise<void>,
    private readonly onError: (e: E, err: unknown) => void,
  ) {}

  push(e: E): void {
    if (this.queue.some((q) => q.kind === e.kind)) return;
    this.queue.push(e);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let e = this.queue.shift(); e; e = this.queue.shift()) {
      try {
        await this.handle(e);
      } catch (err) {
        this.onError(e, err);
      }
    }
    this.running = false;
  }
}

/** Parses a positive integer option (commander hands strings over). */
export function intOption(name: string, v: unknown, min = 1): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(v)}`);
  return n;
}

/** Writes the one-line JSON summary the tests read (always the last stdout line). */
export function printSummary(summary: Record<string, unknown>): void {
  process.stdout.write(toJson(summary) + '\n');
}
