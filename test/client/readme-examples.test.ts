/**
 * The README's "Using zabkeeper from TypeScript" examples are executed, so they cannot rot.
 *
 * Every ```ts block of that section is type-checked against the real package entry point and then
 * run against a fresh in-process server (startTestServer): `from 'zabkeeper'` points at src/index
 * (`'zabkeeper/client'` and `'zabkeeper/testing'` at their src/entries files),
 * the connect string `127.0.0.1:2181` becomes the test server's, the block becomes the body of an
 * async function (its import lines stay at the top), TypeScript transpiles it to CommonJS and the
 * result runs with this file's `require`. A block passes when it settles within its timeout without
 * throwing: the `assert` calls inside it are the README's claims. Blocks must also close every
 * client and test server they open.
 *
 * The section may grow, but it cannot silently shrink: the block count has a floor and the APIs
 * the README promises to show (every recipe, startTestServer, typed errors...) must each appear.
 */
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import ts from 'typescript';
import { startTestServer, type TestServer } from '../../src/client/testing';
import type { ZkClient } from '../../src/client';

const ROOT = path.resolve(__dirname, '../..');
const README = path.join(ROOT, 'README.md');
/**
 * The package's export paths and the sources behind them (without the extension, so both require()
 * and the type checker resolve them); package.json's `exports` maps the same names to dist/.
 */
const ENTRIES: Record<string, string> = {
  zabkeeper: path.join(ROOT, 'src', 'index'),
  'zabkeeper/client': path.join(ROOT, 'src', 'entries', 'client'),
  'zabkeeper/testing': path.join(ROOT, 'src', 'entries', 'testing'),
};
const PACKAGE_IMPORT = /from '(zabkeeper(?:\/client|\/testing)?)'/;
const HEADING = '## Using zabkeeper from TypeScript';
const README_CONNECT = '127.0.0.1:2181';
const BLOCK_TIMEOUT_MS = 20_000;
/** Raise this when adding examples; removing one must be a visible decision. */
const MIN_BLOCKS = 19;
/** Names the section promises to demonstrate, each in at least one executed block. */
const MUST_SHOW = [
  'createClient', 'states()', "on('state'", 'addWatch', 'transaction()', 'NoNodeError', 'NodeExistsError',
  'BadVersionError', 'AbortSignal', 'AbortError', 'Mutex', 'Semaphore', 'ReadWriteLock', 'LeaderLatch',
  'LeaderElection', 'DistributedCounter', 'TreeCache', 'ConfigWatcher', 'ServiceRegistry', 'ServiceDiscovery',
  'discovery.cache', 'Barrier', 'DoubleBarrier', 'DistributedQueue', 'startTestServer', 'retryPolicy', 'retry(',
  'ExponentialBackoff',
];
const RECIPES = [
  'Mutex', 'Semaphore', 'ReadWriteLock', 'LeaderLatch', 'LeaderElection', 'DistributedCounter', 'TreeCache',
  'ConfigWatcher', 'ServiceRegistry', 'Barrier', 'DoubleBarrier', 'DistributedQueue',
];

interface Example {
  /** Nearest heading or bold lead-in above the block, for test names. */
  title: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
  code: string;
}

// ------------------------------------------------------------------ pure: markdown -> examples

/** The section's lines, from its heading up to the next level-2 heading, with their line numbers. */
function sectionLines(markdown: string, heading: string): { text: string; line: number }[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return [];
  const out: { text: string; line: number }[] = [];
  for (let i = start + 1; i < lines.length && !/^## /.test(lines[i]!); i++) out.push({ text: lines[i]!, line: i + 1 });
  return out;
}

function extractExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  let title = 'untitled';
  let open: { line: number; code: string[] } | undefined;
  for (const { text, line } of sectionLines(markdown, HEADING)) {
    if (open) {
      if (text.trim() === '```') {
        examples.push({ title, line: open.line, code: open.code.join('\n') });
        open = undefined;
      } else open.code.push(text);
      continue;
    }
    const heading = /^###\s+(.+)$/.exec(text) ?? /^\*\*(.+?)\*\*/.exec(text);
    if (heading) title = heading[1]!.replace(/\*\*/g, '');
    if (/^```ts\s*$/.test(text)) open = { line, code: [] };
  }
  return examples;
}

const IMPORT_LINE = /^import\s.+\sfrom\s+'[^']+';\s*$/;

/**
 * The block as a module: its imports on top, everything else as the body of `example()`.
 * Package imports point at the sources (ENTRIES), `connectString` replaces the README's default server.
 */
function asModule(code: string, connectString: string): string {
  const lines = code.split('\n');
  const imports = lines.filter((l) => IMPORT_LINE.test(l)).map((l) => l.replace(PACKAGE_IMPORT, (_m, name: string) => `from ${JSON.stringify(ENTRIES[name])}`));
  const body = lines.filter((l) => !IMPORT_LINE.test(l)).join('\n').split(README_CONNECT).join(connectString);
  return `${imports.join('\n')}\nexport async function example(): Promise<void> {\n${body}\n}\n`;
}

function transpile(source: string, fileName: string): string {
  const out = ts.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true },
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (errors.length > 0) throw new Error(`${fileName} does not transpile:\n${errors.join('\n')}`);
  return out.outputText;
}

/** Type errors of all blocks at once (one program, so src/ is checked only once). */
function typeErrors(examples: readonly Example[]): string[] {
  const dir = path.join(ROOT, 'test', 'client', '__readme__');
  const files = new Map(examples.map((ex, i) => [path.join(dir, `example-${i}-line-${ex.line}.ts`), asModule(ex.code, README_CONNECT)]));
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(ROOT, 'tsconfig.test.json'), ts.sys.readFile).config, ts.sys, ROOT);
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, noUnusedLocals: false, declaration: false, sourceMap: false };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => files.has(path.resolve(f)) || ts.sys.fileExists(f);
  host.readFile = (f) => files.get(path.resolve(f)) ?? readFile(f);
  host.getSourceFile = (f, lang, onError, create) => {
    const text = files.get(path.resolve(f));
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile(f, lang, onError, create);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.has(path.resolve(d.file.fileName)))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const src = d.file!.text.split('\n')[line]?.trim();
      return `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}\n    at: ${src}`;
    });
}

// ------------------------------------------------------------------ shell: running one block

interface Opened {
  clients: ZkClient[];
  servers: { server: TestServer; stopped: boolean }[];
}

/** One package entry as the block sees it: the real exports, with createClient/startTestServer tracked. */
function trackedEntry(entry: string, opened: Opened): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const real = require(entry) as Partial<typeof import('../../src/index')>;
  const tracked: Record<string, unknown> = { ...real };
  const { createClient, startTestServer } = real;
  if (createClient) {
    tracked.createClient = async (...args: Parameters<typeof createClient>) => {
      const client = await createClient(...args);
      opened.clients.push(client);
      return client;
    };
  }
  if (startTestServer) {
    tracked.startTestServer = async (...args: Parameters<typeof startTestServer>) => {
      const server = await startTestServer(...args);
      const entry = { server, stopped: false };
      opened.servers.push(entry);
      const stop = server.stop.bind(server);
      return { ...server, stop: () => ((entry.stopped = true), stop()) };
    };
  }
  return tracked;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function runExample(ex: Example, connectString: string): Promise<void> {
  const opened: Opened = { clients: [], servers: [] };
  // Examples may log (e.g. on 'lost'); keep jest's output clean.
  const logs: string[] = [];
  const quiet = { ...console, log: capture, info: capture, warn: capture, error: capture, debug: capture };
  function capture(...args: unknown[]): void {
    logs.push(format(...args));
  }
  const entries = new Map(Object.values(ENTRIES).map((e) => [e, trackedEntry(e, opened)]));
  const sandboxRequire = (id: string): unknown => entries.get(id) ?? require(id);
  const js = transpile(asModule(ex.code, connectString), `README.md:${ex.line}.ts`);
  const mod: { exports: { example?: () => Promise<void> } } = { exports: {} };
  new Function('require', 'module', 'exports', 'console', js)(sandboxRequire, mod, mod.exports, quiet);
  let failure: unknown;
  try {
    await withTimeout(mod.exports.example!(), BLOCK_TIMEOUT_MS, `README.md:${ex.line} (${ex.title})`);
  } catch (err) {
    failure = err;
  }
  // Clean up whatever the block left behind; a leak only counts against a block that passed
  // (a failed assertion naturally skips the block's own close()).
  const leakedClients = opened.clients.filter((c) => c.state !== 'closed');
  const leakedServers = opened.servers.filter((s) => !s.stopped);
  await Promise.all(leakedClients.map((c) => c.close()));
  await Promise.all(opened.servers.map((s) => s.server.stop()));
  if (failure !== undefined) throw failure;
  if (leakedClients.length + leakedServers.length > 0) {
    throw new Error(`README.md:${ex.line} (${ex.title}) leaves ${leakedClients.length} client(s) and ${leakedServers.length} test server(s) open`);
  }
}

// ------------------------------------------------------------------ tests

const examples = extractExamples(fs.readFileSync(README, 'utf8'));

describe('README: Using zabkeeper from TypeScript', () => {
  test(`the section has at least ${MIN_BLOCKS} ts examples, all importing from the package and asserting`, () => {
    expect(examples.length).toBeGreaterThanOrEqual(MIN_BLOCKS);
    for (const ex of examples) {
      expect(`${ex.line}: ${ex.code}`).toMatch(PACKAGE_IMPORT);
      expect(`${ex.line}: ${ex.code}`).toMatch(/\bassert\./);
      // Multi-line imports would end up inside the function body.
      expect(ex.code.split('\n').filter((l) => /^import\s/.test(l) && !IMPORT_LINE.test(l))).toEqual([]);
      // In-process only: no child processes from documentation examples.
      expect(ex.code).not.toMatch(/child_process|\bspawn\(|\bexec\(|\bfork\(/);
    }
  });

  test('every promised API appears in an executed example', () => {
    const all = examples.map((e) => e.code).join('\n');
    expect(MUST_SHOW.filter((name) => !all.includes(name))).toEqual([]);
  });

  test('every recipe example states its suspended/lost behaviour in a comment', () => {
    const missing = RECIPES.filter((recipe) => {
      const using = examples.filter((e) => new RegExp(`new ${recipe}\\b`).test(e.code));
      return using.length === 0 || !using.some((e) => /\/\/.*\b(suspended|lost)\b/.test(e.code));
    });
    expect(missing).toEqual([]);
  });

  test('every example type-checks against the package entries', () => {
    expect(typeErrors(examples)).toEqual([]);
  });

  describe('each example runs against a fresh server', () => {
    let server: TestServer | undefined;
    beforeEach(async () => {
      server = await startTestServer();
    });
    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });

    test.each(examples.map((ex, i) => [`#${i + 1} ${ex.title} (README.md:${ex.line})`, ex] as const))('%s', async (_name, ex) => {
      await runExample(ex, server!.connectString);
    }, BLOCK_TIMEOUT_MS + 10_000);
  });
});
