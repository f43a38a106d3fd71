import fs from 'node:fs';
import path from 'node:path';

/**
 * The package version, found by walking up from this file: the same code runs from src/ (tests)
 * and from dist/src/ (the built CLI), which sit at different depths.
 */
function findVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'zabkeeper' && pkg.version) return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

export const PACKAGE_VERSION = findVersion();
