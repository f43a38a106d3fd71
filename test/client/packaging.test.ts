/**
 * Proves the client ships without the server: `zabkeeper/client` loads only the client, recipe
 * and jute codec modules (no better-sqlite3, msgpackr, pino or server code); the zero-dependency
 * `zabkeeper-client` package installs offline as a single package and works from CommonJS and
 * ESM against a real server; and both type-check from .cts and .mts consumers (nodenext).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { CLIENT_ENTRY, CLIENT_PACKAGE_NAME, distDir, loadedModules, packClient } from '../../scripts/pack-client';
import { startTestServer, type TestServer } from '../../src/testing/server';

const ROOT = path.resolve(__dirname, '../..');
const DIST = distDir();
/** Where client-side modules live; anything else loaded by the client entry is a leak. */
const CLIENT_DIRS = ['src/client', 'src/recipes', 'src/entries/client.js', 'protocol/jute', 'protocol/sasl'].map((d) => path.join(DIST, d));
const HEAVY = /node_modules[\\/](better-sqlite3|msgpackr|pino)[\\/]/;

const rel = (files: readonly string[]) => files.map((f) => path.relative(ROOT, f));
const isClientModule = (f: string) => CLIENT_DIRS.some((d) => f === d || f.startsWith(d + path.sep));

describe('the client entry loads no server code', () => {
  test('zabkeeper/client: only client, recipe and jute modules, nothing from node_modules', () => {
    const loaded = loadedModules(path.join(DIST, CLIENT_ENTRY));
    expect(loaded.length).toBeGreaterThan(20);
    expect(rel(loaded.filter((f) => !isClientModule(f)))).toEqual([]);
    expect(rel(loaded.filter((f) => HEAVY.test(f)))).toEqual([]);
  });

  test('the same check does see the server entry load its dependencies (it can fail)', () => {
    const loaded = loadedModules(path.join(DIST, 'src/index.js'));
    expect(loaded.some((f) => HEAVY.test(f))).toBe(true);
    expect(loaded.some((f) => f.startsWith(path.join(DIST, 'src/server') + path.sep))).toBe(true);
  });

  test('package.json exports ".", "./client" and "./testing" with types, and nothing undeclared', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.exports)).toEqual(['.', './client', './testing', './package.json']);
    for (const key of ['.', './client', './testing']) {
      const { types, default: main } = pkg.exports[key];
      expect(fs.existsSync(path.join(ROOT, types))).toBe(true);
      expect(fs.existsSync(path.join(ROOT, main))).toBe(true);
    }
    expect(pkg.exports['./client'].default).toBe(`./dist/${CLIENT_ENTRY}`);
  });
});

describe('installed as a consumer would', () => {
  let tmp: string;
  let server: TestServer;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zabkeeper-pack-'));
    server = await startTestServer();
    const packed = packClient(path.join(tmp, 'pkg', CLIENT_PACKAGE_NAME), { tarball: true });
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // --offline: a package with no dependencies needs nothing from any registry.
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', packed.tarball!], { cwd: app, stdio: 'pipe' });
    // The full package too, as `zabkeeper` (linked: its dependencies are the repo's).
    fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'zabkeeper'), 'dir');
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const app = () => path.join(tmp, 'app');

  test('zabkeeper-client installs as one package with no dependencies', () => {
    const installed = fs.readdirSync(path.join(app(), 'node_modules')).filter((n) => !n.startsWith('.') && n !== 'zabkeeper');
    expect(installed).toEqual([CLIENT_PACKAGE_NAME]);
    const manifest = JSON.parse(fs.readFileSync(path.join(app(), 'node_modules', CLIENT_PACKAGE_NAME, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({});
    expect(manifest.optionalDependencies).toBeUndefined();
  });

  const script = (from: string, esm: boolean) => {
    const imp = esm ? `import { createClient, Mutex } from '${from}';` : `const { createClient, Mutex } = require('${from}');`;
    return `${imp}
(async () => {
  const zk = await createClient(process.argv[2]);
  const path = '/' + process.argv[3];
  await zk.create(path, 'hello');
  const lock = await new Mutex(zk, path + '-lock').acquire();
  await lock.release();
  process.stdout.write((await zk.getData(path)).data.toString());
  await zk.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;
  };

  test.each([
    ['CommonJS', CLIENT_PACKAGE_NAME, 'cjs'],
    ['ESM', CLIENT_PACKAGE_NAME, 'mjs'],
    ['CommonJS', 'zabkeeper/client', 'cjs'],
    ['ESM', 'zabkeeper/client', 'mjs'],
  ])('%s import of %s talks to a real server', async (_kind, from, ext) => {
    const name = `${from.replace('/', '-sub-')}-${ext}`;
    const file = path.join(app(), `${name}.${ext}`);
    fs.writeFileSync(file, script(from, ext === 'mjs'));
    // Asynchronously: the server runs in this process and must keep answering.
    const { stdout } = await promisify(execFile)(process.execPath, [file, server.connectString, name], { cwd: app(), encoding: 'utf8', timeout: 30_000 });
    expect(stdout).toBe('hello');
  });

  test('types resolve for .cts and .mts consumers (module nodenext)', () => {
    const body = (from: string) =>
      `import { createClient, Mutex, NoNodeError, type ZkClient, type Stat } from '${from}';\n` +
      `export async function f(cs: string): Promise<Stat | null> {\n` +
      `  const zk: ZkClient = await createClient(cs, { sessionTimeoutMs: 5000 });\n` +
      `  void new Mutex(zk, '/l'); void NoNodeError;\n` +
      `  return (await zk.exists('/x')).stat;\n}\n`;
    const files: string[] = [];
    for (const from of [CLIENT_PACKAGE_NAME, 'zabkeeper/client', 'zabkeeper']) {
      for (const ext of ['cts', 'mts']) {
        const file = path.join(app(), `types-${from.replace('/', '-sub-')}.${ext}`);
        fs.writeFileSync(file, body(from));
        files.push(file);
      }
    }
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(errors).toEqual([]);
  });
});
