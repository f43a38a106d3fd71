import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSqliteStore, StoreLockedError } from '../../src/storage';
import { fourLetter, requireBuiltCli, ROOT } from '../harness/cli';
import { freePort } from '../harness/ports';
import { tempDir } from './helpers';

/**
 * The data-dir lock is one the kernel drops when its holder dies (issue 9 item 3): a restart right
 * after kill -9 succeeds even while the dead process is still a zombie, a server running as PID 1
 * of a container comes back after being killed, and a second live server on the same dir refuses
 * with a message naming the holder.
 */
const CHILD = path.join(ROOT, 'dist/src/storage/kill9-child.js');

/** Starts the store-writing child and resolves once it has persisted (so it holds the lock). */
function startHolder(dataDir: string): Promise<ChildProcess> {
  if (!fs.existsSync(CHILD)) throw new Error(`${CHILD} is missing: run \`npm run build\``);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code, signal) => reject(new Error(`holder exited early (${code ?? signal}): ${stderr}`)));
  });
}

/** The process state letter from /proc/<pid>/stat ('Z' = zombie: dead, files closed, not yet reaped). */
function procState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return 'gone';
  }
}

/** Every thread's state letter: the leader turns 'Z' while Node's other threads may still be exiting. */
function threadStates(pid: number): string[] {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tids.map((tid) => procState(Number(tid))).filter((s) => s !== 'gone');
}

/**
 * Blocks (without yielding, so Node cannot reap the child) until `pid` is a zombie whose threads
 * have all exited: only then has the kernel closed its files, which is when any supervisor
 * (waitpid) would restart it. Its pid stays visible until we reap it.
 */
function waitZombieSync(pid: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = threadStates(pid);
    if (states.every((s) => s === 'Z')) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not die within ${timeoutMs} ms (thread states ${states.join('')})`);
  }
}

describe('data-dir lock', () => {
  let t: ReturnType<typeof tempDir>;
  const children: ChildProcess[] = [];
  beforeEach(() => (t = tempDir()));
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    t.cleanup();
  });

  test('a restart right after kill -9 succeeds, even while the dead holder is still a zombie (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const holder = await startHolder(t.dir);
      children.push(holder);
      const exited = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      // Synchronously: Node cannot reap the child before we open, so its pid is still visible.
      waitZombieSync(holder.pid!, 10_000);
      const store = openSqliteStore({ dataDir: t.dir });
      expect(store.lastZxid()).toBeGreaterThan(0n);
      store.close();
      await exited;
    }
  });

  test('a second live server on the same dir is refused, naming the holder', async () => {
    const holder = await startHolder(t.dir);
    children.push(holder);
    let err: unknown;
    try {
      openSqliteStore({ dataDir: t.dir }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreLockedError);
    expect((err as Error).message).toContain(`pid ${holder.pid}`);
    expect((err as Error).message).toContain(t.dir);
  });

  test('a second open in the same process is refused', () => {
    const store = openSqliteStore({ dataDir: t.dir });
    try {
      expect(() => openSqliteStore({ dataDir: t.dir })).toThrow(StoreLockedError);
      expect(() => openSqliteStore({ dataDir: t.dir })).toThrow(`pid ${process.pid}`);
    } finally {
      store.close();
    }
    openSqliteStore({ dataDir: t.dir }).close();
  });
});

/** Needs root (a new PID namespace) and util-linux's unshare. */
const canUnshare =
  process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
if (!canUnshare) console.warn('PID-1 lock test skipped: needs root and `unshare --pid --fork --mount-proc`');

(canUnshare ? describe : describe.skip)('data-dir lock as PID 1 of a container (root)', () => {
  test('a server that is PID 1, killed with kill -9, comes back on the same data dir (3 rounds)', async () => {
    const t = tempDir();
    const port = await freePort();
    const started: ChildProcess[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        const args = ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, requireBuiltCli(), 'server', '--port', String(port), '--data-dir', t.dir, '--tick-time', '500'];
        const wrapper = spawn('unshare', args, { stdio: ['ignore', 'ignore', 'pipe'] });
        started.push(wrapper);
        let stderr = '';
        wrapper.stderr!.on('data', (d) => (stderr += String(d)));
        const exited = new Promise((r) => wrapper.once('exit', r));
        const deadline = Date.now() + 20_000;
        while ((await fourLetter(port, 'ruok').catch(() => '')) !== 'imok') {
          if (wrapper.exitCode !== null) throw new Error(`round ${round}: server exited (${wrapper.exitCode}): ${stderr}`);
          if (Date.now() > deadline) throw new Error(`round ${round}: no ruok within 20 s: ${stderr}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        // The server is the namespace's init (PID 1 inside); kill it from outside.
        const inner = Number(fs.readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
        expect(fs.readFileSync(`/proc/${inner}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
        process.kill(inner, 'SIGKILL');
        await exited;
      }
    } finally {
      for (const w of started) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
      t.cleanup();
    }
  });
});
