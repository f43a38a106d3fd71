import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreLockedError } from './types';

/** An SQLite file whose only purpose is to carry the lock; it holds no data. */
export const LOCK_FILE = 'zabkeeper-lock.db';

export interface DirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes `<dir>/zabkeeper-lock.db` so two servers never write one store. The lock is an fcntl
 * (POSIX record) lock held through SQLite's exclusive locking mode: the kernel drops it the moment
 * the holder dies, however it dies (kill -9, OOM kill), so a restart never has to judge whether a
 * pid is still alive — a pid can be a zombie, reused, or, in a container, our own PID 1.
 * The file is never deleted: removing a locked file would let a second process lock a new inode.
 */
export function lockDir(dir: string): DirLock {
  const file = path.join(dir, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    // timeout 0: a held lock fails at once with SQLITE_BUSY instead of waiting for it.
    db = new Database(file, { timeout: 0 });
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    // In exclusive locking mode the write lock taken here is kept until the connection closes.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (err) {
    db?.close();
    if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
    const holder = lockHolder(file);
    const who = holder === undefined ? 'another process' : holder === process.pid ? `this process (pid ${holder}; already open)` : `pid ${holder}`;
    throw new StoreLockedError(`data dir ${dir} is in use by ${who}: ${file} is locked. Stop that server first; two servers must never share a data dir.`);
  }
  const held = db;
  return { file, release: () => held.close() };
}

/**
 * The pid holding a POSIX lock on `file`, read from /proc/locks (for the error message only: the
 * lock itself is the kernel's). Undefined when it cannot be told (no /proc, a lock in another pid
 * namespace shows as that namespace's view).
 */
export function lockHolder(file: string): number | undefined {
  try {
    const st = fs.statSync(file);
    const dev = `${hex2(Math.floor(st.dev / 256) & 0xfff)}:${hex2((st.dev & 0xff) | (Math.floor(st.dev / 4096) & 0xfff00))}`;
    const suffix = `${dev}:${st.ino}`;
    for (const line of fs.readFileSync('/proc/locks', 'utf8').split('\n')) {
      const f = line.trim().split(/\s+/);
      // "1: POSIX  ADVISORY  WRITE 1234 fd:01:123456 1073741824 1073742335"
      if (f[1] === 'POSIX' && f[5] === suffix) {
        const pid = Number(f[4]);
        if (Number.isSafeInteger(pid) && pid > 0) return pid;
      }
    }
  } catch {
    /* no /proc: the message just says "another process" */
  }
  return undefined;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
