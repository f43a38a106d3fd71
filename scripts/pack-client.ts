/**
 * Builds `zabkeeper-client`, the client-only package: the exact compiled files that
 * `zabkeeper/client` loads (found by loading the entry in a fresh Node process, not by a
 * hand-kept list), their type declarations, and a package.json with no dependencies at all. A
 * client-only application installs it without better-sqlite3's native build, msgpackr or pino.
 *
 *   npm run pack:client                      # -> dist/zabkeeper-client-<version>.tgz
 *   node dist/scripts/pack-client.js --out DIR [--no-tarball]
 *
 * Node builtins only; run after `npm run build`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './lib/zk-process';

export const CLIENT_PACKAGE_NAME = 'zabkeeper-client';
/** Compiled entry of `zabkeeper/client`, relative to dist/. */
export const CLIENT_ENTRY = 'src/entries/client.js';

/** The repository's dist/ directory (from dist/scripts at run time, from scripts/ under jest). */
export function distDir(): string {
  return path.join(repoRoot(__dirname), 'dist');
}

/**
 * Every module file a fresh Node process has loaded after `require(entry)`: the entry's runtime
 * closure, node_modules included (so callers can see a dependency sneaking in).
 */
export function loadedModules(entryFile: string): string[] {
  const code = `require(${JSON.stringify(entryFile)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' })) as string[];
}

/** Relative module specifiers a declaration file refers to (imports, re-exports, import types). */
function declarationImports(dts: string): string[] {
  const specs = [...dts.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return [...new Set(specs)];
}

/** The .d.ts files reachable from the given ones through relative imports (type-only ones too). */
function declarationClosure(start: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...start];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !fs.existsSync(file)) continue;
    seen.add(file);
    for (const spec of declarationImports(fs.readFileSync(file, 'utf8'))) {
      const base = path.resolve(path.dirname(file), spec);
      queue.push(fs.existsSync(`${base}.d.ts`) ? `${base}.d.ts` : path.join(base, 'index.d.ts'));
    }
  }
  return [...seen];
}

export interface PackedClient {
  dir: string;
  files: string[];
  tarball?: string;
}

/** Writes the package into `outDir` (replacing it); with `tarball`, also runs `npm pack` there. */
export function packClient(outDir: string, opts: { tarball?: boolean } = {}): PackedClient {
  const dist = distDir();
  const entry = path.join(dist, CLIENT_ENTRY);
  const loaded = loadedModules(entry);
  const outside = loaded.filter((f) => !f.startsWith(dist + path.sep) || f.includes(`${path.sep}node_modules${path.sep}`));
  if (outside.length > 0) throw new Error(`the client entry loads modules outside dist/: ${outside.join(', ')}`);
  const js = loaded.map((f) => path.relative(dist, f));
  const dts = declarationClosure(js.map((f) => path.join(dist, f.replace(/\.js$/, '.d.ts')))).map((f) => path.relative(dist, f));
  const files = [...new Set([...js, ...dts])].sort();

  const root = JSON.parse(fs.readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as Record<string, unknown>;
  fs.rmSync(outDir, { recursive: true, force: true });
  for (const f of files) {
    fs.mkdirSync(path.join(outDir, path.dirname(f)), { recursive: true });
    fs.copyFileSync(path.join(dist, f), path.join(outDir, f));
  }
  const types = CLIENT_ENTRY.replace(/\.js$/, '.d.ts');
  const manifest = {
    name: CLIENT_PACKAGE_NAME,
    version: root.version,
    description: 'The zabkeeper ZooKeeper client and recipes alone: promise-first, typed, no runtime or native dependencies',
    license: root.license,
    type: 'commonjs',
    main: CLIENT_ENTRY,
    types,
    exports: { '.': { types: `./${types}`, default: `./${CLIENT_ENTRY}` }, './package.json': './package.json' },
    engines: root.engines,
    sideEffects: false,
    dependencies: {},
  };
  fs.writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(
    path.join(outDir, 'README.md'),
    `# ${CLIENT_PACKAGE_NAME}\n\nThe client and recipes of [zabkeeper](https://www.npmjs.com/package/zabkeeper), with no dependencies.\n` +
      `\`import { createClient, Mutex } from '${CLIENT_PACKAGE_NAME}'\` is the same API as \`'zabkeeper/client'\`.\n`,
  );
  const packed: PackedClient = { dir: outDir, files: [...files, 'package.json', 'README.md'] };
  if (opts.tarball) {
    const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', path.dirname(outDir)], { cwd: outDir, encoding: 'utf8' }).trim().split('\n').pop()!;
    packed.tarball = path.join(path.dirname(outDir), name);
  }
  return packed;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const out = at >= 0 && args[at + 1] ? path.resolve(args[at + 1]!) : path.join(distDir(), CLIENT_PACKAGE_NAME);
  const packed = packClient(out, { tarball: !args.includes('--no-tarball') });
  process.stdout.write(`${packed.dir}: ${packed.files.length} files, no dependencies${packed.tarball ? `\n${packed.tarball}` : ''}\n`);
}
