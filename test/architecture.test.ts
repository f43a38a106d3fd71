import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CORE_DIRS, findShellViolations, findViolations } from '../scripts/check-imports';

describe('functional core boundaries', () => {
  test('core modules use no sockets, files, SQLite, loggers, clocks, timers or Math.random', () => {
    expect(findViolations(path.resolve(__dirname, '..'))).toEqual([]);
  });

  test('the server shell (src/server, src/quorum) takes its clock, timers and randomness injected', () => {
    expect(findShellViolations(path.resolve(__dirname, '..'))).toEqual([]);
  });

  test('the shell checker catches direct clocks, timers and randomness, not the injected ones', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'arch-'));
    try {
      fs.mkdirSync(path.join(root, 'src/server'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'src/server/bad.ts'),
        ['const t = Date.now();', 'setImmediate(() => undefined);', 'const b = randomBytes(16);', 'this.clock.setTimeout(() => undefined, 1);', 'socket.setTimeout(5);'].join('\n'),
      );
      expect(findShellViolations(root).map((v) => v.line)).toEqual([1, 2, 3]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
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
