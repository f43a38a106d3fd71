/**
 * Guards the functional core: the modules that decide (tree, prep, ops, ACLs, sessions, watches,
 * the FLE/ZAB core, four-letter formatting, both codecs) may not touch sockets, files, SQLite,
 * loggers, clocks, timers or ambient randomness. Time and randomness come in as arguments; the
 * shells (server, storage, quorum/zab.ts, transport, cli) own them. Run by test/architecture.test.ts
 * and `npm run lint:imports`.
 */
import fs from 'node:fs';
import path from 'node:path';

export const CORE_DIRS = [
  'src/tree', 'src/pipeline', 'src/ops', 'src/acl', 'src/session', 'src/watch', 'src/quorum/core', 'src/fourlw', 'src/keystore',
  'protocol/jute', 'protocol/peer', 'protocol/sasl',
];

const FORBIDDEN: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /from\s+'(node:)?(net|tls|dgram|http|https|fs|child_process|worker_threads)'/, why: 'I/O belongs to the shell' },
  { pattern: /from\s+'(better-sqlite3|pino)'/, why: 'storage and logging belong to the shell' },
  { pattern: /\bDate\.now\s*\(/, why: 'time must be passed in' },
  { pattern: /\bnew Date\s*\(\s*\)/, why: 'time must be passed in' },
  { pattern: /\bperformance\.now\s*\(/, why: 'time must be passed in' },
  { pattern: /\bMath\.random\s*\(/, why: 'randomness must come from a seeded PRNG' },
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

export function findViolations(root: string, dirs: readonly string[] = CORE_DIRS): Violation[] {
  const out: Violation[] = [];
  for (const dir of dirs) {
    for (const file of tsFiles(path.join(root, dir))) {
      const lines = stripComments(fs.readFileSync(file, 'utf8')).split('\n');
      lines.forEach((text, i) => {
        for (const f of FORBIDDEN) {
          if (f.pattern.test(text)) out.push({ file: path.relative(root, file), line: i + 1, text: text.trim(), why: f.why });
        }
      });
    }
  }
  return out;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '../..');
  const violations = findViolations(fs.existsSync(path.join(root, 'src')) ? root : process.cwd());
  for (const v of violations) process.stderr.write(`${v.file}:${v.line}: ${v.why}: ${v.text}\n`);
  process.stdout.write(violations.length === 0 ? 'functional core: no forbidden imports, clocks, timers or randomness\n' : '');
  process.exit(violations.length === 0 ? 0 : 1);
}
