import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORE_DIRS, findViolations } from '../scripts/check-imports';

describe('functional core boundaries', () => {
  test('core modules use no sockets, files, SQLite, loggers, clocks, timers or Math.random', () => {
    expect(findViolations(path.resolve(__dirname, '..'))).toEqual([]);
  });

  test('the checker does catch each forbidden thing (and ignores comments)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arch-'));
    try {
      fs.mkdirSync(path.join(root, 'src/tree'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'src/tree/bad.ts'),
        [
          "import net from 'node:net';",
          "import Database from 'better-sqlite3';",
          'const t = Date.now();',
          'const r = Math.random();',
          'setTimeout(() => undefined, 1);',
          '// Date.now() in a comment is fine',
          '/* Math.random() too */',
        ].join('\n'),
      );
      const found = findViolations(root, ['src/tree']).map((v) => v.line);
      expect(found).toEqual([1, 2, 3, 4, 5]);
      expect(CORE_DIRS).toContain('src/quorum/core');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
