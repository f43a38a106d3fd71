/**
 * Guards the functional core: the modules that decide (tree, prep, ops, ACLs, sessions, watches,
 * the FLE/ZAB core, four-letter formatting, both codecs) may not touch sockets, files, SQLite,
 * loggers, clocks, timers or ambient randomness. Time and randomness come in as arguments; the
 * shells (server, storage, quorum/zab.ts, transport, cli) own them. The server shell itself
 * (src/server, src/quorum) takes its clock, timers and randomness injected too (util/clock.ts,
 * util/rng.ts), so the simulator can run it: it may not call them directly either. Run by
 * test/architecture.test.ts and `npm run lint:imports`.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CORE_DIRS = [
  'src/tree', 'src/pipeline', 'src/ops', 'src/acl', 'src/session', 'src/watch', 'src/quorum/core', 'src/fourlw', 'src/keystore',
  'protocol/jute', 'protocol/peer', 'protocol/sasl',
];

export const SHELL_DIRS = ['src/server', 'src/quorum'];

/**
 * Shell files allowed real timers or crypto randomness: TLS certificate reloads watch real files,
 * and SASL / quorum-auth nonces must come from the OS's CSPRNG. None of them runs in the simulator.
 * (The event-loop lag probe, metrics/looplag.ts, measures Node's own loop: the server starts it
 * only with the real clock.)
 */
const SHELL_EXEMPT: ReadonlyMap<string, RegExp> = new Map([
  ['src/server/tls.ts', /\bsetTimeout\s*\(/],
  ['src/server/security.ts', /\brandomBytes\s*\(/],
  ['src/quorum/peerSecurity.ts', /\brandomBytes\s*\(/],
]);

type Rule = { pattern: RegExp; why: string };

const CLOCKS_AND_RANDOMNESS: readonly Rule[] = [
  { pattern: /\bDate\.now\s*\(/, why: 'time must be passed in' },
  { pattern: /\bnew Date\s*\(\s*\)/, why: 'time must be passed in' },
  { pattern: /\bperformance\.now\s*\(/, why: 'time must be passed in' },
  { pattern: /\bMath\.random\s*\(/, why: 'randomness must come from a seeded PRNG' },
];

const SHELL_FORBIDDEN: readonly Rule[] = [
  ...CLOCKS_AND_RANDOMNESS,
  { pattern: /(^|[^.\w])(setTimeout|setInterval|setImmediate)\s*\(/, why: 'timers come from the injected Clock' },
  { pattern: /\brandomBytes\s*\(/, why: 'randomness comes from the injected Rng' },
];

const FORBIDDEN: readonly Rule[] = [
  { pattern: /from\s+'(node:)?(net|tls|dgram|http|https|fs|child_process|worker_threads)'/, why: 'I/O belongs to the shell' },
  { pattern: /from\s+'(better-sqlite3|pino)'/, why: 'storage and logging belong to the shell' },
  ...CLOCKS_AND_RANDOMNESS,
  { pattern: /\b(setTimeout|setInterval|setImmediate)\s*\(/, why: 'timers belong to the shell' },
];

export interface Violation {
  file: string;
  line: number;
  text: string;
  why: string;
}

/** Removes comments (so prose may mention Date.now()) while keeping line numbers. */
function stripComments(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/.*$/gm, (_m, pre: string) => pre);
}

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

export function findViolations(root: string, dirs: readonly string[] = CORE_DIRS, rules: readonly Rule[] = FORBIDDEN): Violation[] {
  const out: Violation[] = [];
  for (const dir of dirs) {
    for (const file of tsFiles(path.join(root, dir))) {
      const rel = path.relative(root, file);
      const exempt = SHELL_EXEMPT.get(rel);
      const lines = stripComments(fs.readFileSync(file, 'utf8')).split('\n');
      lines.forEach((text, i) => {
        for (const f of rules) {
          if (f.pattern.test(text) && !(rules === SHELL_FORBIDDEN && exempt?.test(text))) out.push({ file: rel, line: i + 1, text: text.trim(), why: f.why });
        }
      });
    }
  }
  return out;
}

/** The server shell: no direct clocks, timers or randomness (the core dirs are checked above). */
export function findShellViolations(root: string, dirs: readonly string[] = SHELL_DIRS): Violation[] {
  return findViolations(root, dirs, SHELL_FORBIDDEN).filter((v) => !v.file.startsWith('src/quorum/core'));
}

if (require.main === module) {
  const root = path.resolve(__dirname, '../..');
  const base = fs.existsSync(path.join(root, 'src')) ? root : process.cwd();
  const violations = [...findViolations(base), ...findShellViolations(base)];
  for (const v of violations) process.stderr.write(`${v.file}:${v.line}: ${v.why}: ${v.text}\n`);
  process.stdout.write(violations.length === 0 ? 'functional core: no forbidden imports, clocks, timers or randomness\n' : '');
  process.exit(violations.length === 0 ? 0 : 1);
}
