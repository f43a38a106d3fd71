import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { StoreLockedError } from './types';

export const LOCK_FILE = 'zabkeeper.lock';

export interface DirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes `<dir>/zabkeeper.lock` (O_EXCL, holding our pid) so two servers never write one store. A
 * lock left by a dead process is taken over with a warning; one held by a live process refuses.
 */
export function lockDir(dir: string, logger?: Logger): DirLock {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file)) return { file, release: () => releaseLock(file) };
    const holder = readHolder(file);
    if (holder === undefined && isFresh(file)) {
      // Probably a live process between creating the lock and writing its pid.
      throw new StoreLockedError(`data dir ${dir} is being locked by another process: ${file}`);
    }
    if (holder !== undefined && isAlive(holder)) {
      const who = holder === process.pid ? 'this process (already open)' : `live process ${holder}`;
      throw new StoreLockedError(`data dir ${dir} is locked by ${who}: ${file}`);
    }
    logger?.warn({ file, stalePid: holder ?? null }, 'taking over stale data dir lock');
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new StoreLockedError(`could not take the data dir lock ${file}: another process keeps recreating it`);
}

function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** undefined when the file is gone or unreadable (a crash between create and write). */
function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isFresh(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < 2000;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function releaseLock(file: string): void {
  // Only remove the lock if it is still ours (a takeover may have replaced it).
  if (readHolder(file) === process.pid) fs.rmSync(file, { force: true });
}
