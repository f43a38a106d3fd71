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
 * Blocks written as Jest or Vitest test files (importing '@jest/globals' or 'vitest') are run by a
 * small runner with those frameworks' semantics (describe/test/it, the four hooks, expect), since
 * they execute inside this Jest test; Vitest's API is type-checked as Jest's, which it mirrors.
 *
 * The section may grow, but it cannot silently shrink: the block count has a floor and the APIs
 * the README promises to show (every recipe, startTestServer, typed errors...) must each appear.
 */
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import ts from 'typescript';
import { startTestServer, type TestServer } from '../../src/testing/server';
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
const MIN_BLOCKS = 24;
/** Names the section promises to demonstrate, each in at least one executed block. */
const MUST_SHOW = [
  'createClient', 'states()', "on('state'", 'addWatch', 'transaction()', 'NoNodeError', 'NodeExistsError',
  'BadVersionError', 'AbortSignal', 'AbortError', 'Mutex', 'Semaphore', 'ReadWriteLock', 'LeaderLatch',
  'LeaderElection', 'DistributedCounter', 'TreeCache', 'ConfigWatcher', 'ServiceRegistry', 'ServiceDiscovery',
  'discovery.cache', 'Barrier', 'DoubleBarrier', 'DistributedQueue', 'startTestServer', 'retryPolicy', 'retry(',
  'ExponentialBackoff', "storage: 'memory'", 'expireSession', 'startTestCluster', '.kill()', '.partition()', '.restart()',
  "from '@jest/globals'", "from 'vitest'", 'resumable: true', 'from: saved',
  'PersistentNode', 'GroupMember', 'SharedCount',
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
  const files = new Map(examples.map((ex, i) => [path.join(dir, `example-${i}-line-${ex.line}.ts`), asModule(ex.code.replace(/from 'vitest'/g, "from '@jest/globals'"), README_CONNECT)]));
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
  servers: { server: { stop(): Promise<void> }; stopped: boolean }[];
}

/** One package entry as the block sees it: the real exports, with createClient/startTestServer tracked. */
function trackedEntry(entry: string, opened: Opened): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const real = require(entry) as Partial<typeof import('../../src/index')>;
  const tracked: Record<string, unknown> = { ...real };
  const { createClient, startTestServer, startTestCluster } = real;
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
  if (startTestCluster) {
    tracked.startTestCluster = async (...args: Parameters<typeof startTestCluster>) => {
      const cluster = await startTestCluster(...args);
      const entry = { server: cluster, stopped: false };
      opened.servers.push(entry);
      const stop = cluster.stop.bind(cluster);
      return Object.assign(cluster, { stop: () => ((entry.stopped = true), stop()) });
    };
  }
  return tracked;
}

// ------------------------------------------------------------------ a runner for Jest/Vitest-style blocks

type Fn = () => unknown | Promise<unknown>;
interface Suite {
  name: string;
  hooks: Record<'beforeAll' | 'afterAll' | 'beforeEach' | 'afterEach', Fn[]>;
  tests: { name: string; fn: Fn }[];
  suites: Suite[];
}

const newSuite = (name: string): Suite => ({ name, hooks: { beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] }, tests: [], suites: [] });

/**
 * describe/test/it/hooks as Jest and Vitest define them: hooks run outer-to-inner before a test and
 * inner-to-outer after it; after-hooks run even when a test failed; the first failure is thrown.
 */
function miniRunner(): { api: Record<string, unknown>; run(): Promise<void> } {
  const root = newSuite('');
  let current = root;
  const hook = (kind: keyof Suite['hooks']) => (fn: Fn) => void current.hooks[kind].push(fn);
  const register = (name: string, fn: Fn) => void current.tests.push({ name, fn });
  const api = {
    describe: (name: string, body: () => void) => {
      const suite = newSuite(name);
      current.suites.push(suite);
      const parent = current;
      current = suite;
      try {
        body();
      } finally {
        current = parent;
      }
    },
    test: register,
    it: register,
    beforeAll: hook('beforeAll'),
    afterAll: hook('afterAll'),
    beforeEach: hook('beforeEach'),
    afterEach: hook('afterEach'),
    expect,
  };
  const runSuite = async (suite: Suite, outer: Suite[], errors: unknown[]): Promise<number> => {
    const chain = [...outer, suite];
    let ran = 0;
    const attempt = async (fn: Fn, what: string) => {
      try {
        await fn();
      } catch (err) {
        errors.push(new Error(`${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
      }
    };
    for (const fn of suite.hooks.beforeAll) await attempt(fn, `${suite.name} beforeAll`);
    if (errors.length === 0) {
      for (const t of suite.tests) {
        const name = [...chain.map((s) => s.name), t.name].filter((n) => n).join(' › ');
        for (const s of chain) for (const fn of s.hooks.beforeEach) await attempt(fn, `${name} beforeEach`);
        if (errors.length === 0) await attempt(t.fn, name);
        for (const s of [...chain].reverse()) for (const fn of s.hooks.afterEach) await attempt(fn, `${name} afterEach`);
        ran++;
      }
      for (const child of suite.suites) ran += await runSuite(child, chain, errors);
    }
    for (const fn of suite.hooks.afterAll) await attempt(fn, `${suite.name} afterAll`);
    return ran;
  };
  return {
    api,
    async run() {
      const errors: unknown[] = [];
      const ran = await runSuite(root, [], errors);
      if (errors.length > 0) throw errors[0];
      if (ran === 0) throw new Error('the block registers no test');
    },
  };
}

const TEST_FRAMEWORKS = new Set(['@jest/globals', 'vitest']);

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
  const runner = miniRunner();
  const usesFramework = [...TEST_FRAMEWORKS].some((f) => ex.code.includes(`from '${f}'`));
  const sandboxRequire = (id: string): unknown => (TEST_FRAMEWORKS.has(id) ? runner.api : (entries.get(id) ?? require(id)));
  const js = transpile(asModule(ex.code, connectString), `README.md:${ex.line}.ts`);
  const mod: { exports: { example?: () => Promise<void> } } = { exports: {} };
  new Function('require', 'module', 'exports', 'console', js)(sandboxRequire, mod, mod.exports, quiet);
  let failure: unknown;
  try {
    const body = async () => {
      await mod.exports.example!();
      if (usesFramework) await runner.run();
    };
    await withTimeout(body(), BLOCK_TIMEOUT_MS, `README.md:${ex.line} (${ex.title})`);
  } catch (err) {
    failure = err;
  }
  // Clean up whatever the block left behind; a leak only counts against a block that passed
  // (a failed assertion naturally skips the block's own close()).
  const leakedClients = opened.clients.filter((c) => c.state !== 'closed');
  const leakedServers = opened.servers.filter((s) => !s.stopped);
  await Promise.all(leakedClients.map((c) => c.close()));
  await Promise.all(opened.servers.map((s) => s.server.stop()));
  if (failure !== undefined) {
    // What the block printed is part of the diagnosis.
    if (failure instanceof Error && logs.length > 0) failure.message += `\n--- the block's console output:\n${logs.join('\n')}`;
    throw failure;
  }
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
      expect(`${ex.line}: ${ex.code}`).toMatch(/\bassert\.|\bexpect\(/);
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
