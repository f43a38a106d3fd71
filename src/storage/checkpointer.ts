import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** Checkpoint a WAL once it holds this much (SQLite's own default is 1000 pages, about 4 MB). */
const WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024;
const POLL_MS = 100;
const MAX_BACKOFF_MS = 5000;

/*
 * The worker: its own connection to each database, passive checkpoints whenever a WAL has grown.
 * A failing checkpoint (a full disk) backs off and is reported at the 1st, 2nd, 4th... failure in a
 * row. The shared `stopping` flag is raised before anything else when the server stops: the worker
 * starts no further checkpoint after that (only the close that stop() asks for, which the exit
 * waits for), because a process exit that lands during a SQLite call aborts the
 * whole process (better-sqlite3 cannot throw into a terminating isolate: SIGABRT instead of the
 * fail-stop exit code, seen under nemesis disk-full with a fatal storage error).
 * Plain JS run with `eval` so it needs no separate build output (tests run the TypeScript source).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.sqlite);
const stopping = new Int32Array(workerData.stop);
const dbs = workerData.files.map((file) => {
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return { file, db };
});
let failures = 0;
let retryAt = 0;
const timer = setInterval(() => {
  if (Date.now() < retryAt) return;
  for (const { file, db } of dbs) {
    if (Atomics.load(stopping, 0) !== 0) return;
    let size = 0;
    try { size = fs.statSync(file + '-wal').size; } catch { continue; }
    if (size < workerData.thresholdBytes) continue;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      failures = 0;
    } catch (err) {
      failures++;
      retryAt = Date.now() + Math.min(workerData.pollMs * 2 ** failures, workerData.maxBackoffMs);
      if ((failures & (failures - 1)) === 0) parentPort.postMessage({ file, failures, error: String(err && err.message || err) });
    }
  }
}, workerData.pollMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  for (const { db } of dbs) { try { db.close(); } catch {} }
  parentPort.close();
});
`;

/**
 * Moves WAL checkpoints off the event loop. SQLite normally checkpoints inside the commit that
 * crosses 1000 pages: a write of several MB plus two fsyncs in the middle of a client's write
 * (40 ms seen here on a busy disk). With the main connections' autocheckpoint off, this worker
 * thread checkpoints passively, never blocking the writer; if it cannot start, the caller keeps
 * SQLite's automatic checkpoints.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  /** Raised (set to 1) by stop(): the worker starts no further checkpoint. */
  private readonly stopping = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly files: readonly string[],
    private readonly logger?: Logger,
    /** Called if the worker dies: the caller turns SQLite's own checkpoints back on. */
    private readonly onFailure?: () => void,
  ) {}

  /** Starts the worker; false when worker threads are unavailable (keep autocheckpoint then). */
  start(): boolean {
    try {
      this.worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          sqlite: require.resolve('better-sqlite3'),
          files: this.files,
          thresholdBytes: WAL_CHECKPOINT_BYTES,
          pollMs: POLL_MS,
          maxBackoffMs: MAX_BACKOFF_MS,
          stop: this.stopping.buffer,
        },
      });
    } catch (err) {
      this.logger?.warn({ err }, 'WAL checkpoint worker did not start; checkpointing inline');
      return false;
    }
    this.worker.on('message', (m: { file: string; failures: number; error: string }) => this.logger?.warn(m, 'WAL checkpoint failed'));
    this.worker.on('error', (err) => {
      // A dead worker cannot answer stop(): do not wait for it.
      this.worker = undefined;
      this.logger?.warn({ err }, 'WAL checkpoint worker failed; checkpointing inline');
      this.onFailure?.();
    });
    this.worker.unref();
    return true;
  }

  /**
   * Stops the worker: it closes its connections (the last ones, so SQLite checkpoints and removes
   * the WAL files then) and exits. Resolves once it has.
   */
  stop(): Promise<void> {
    Atomics.store(this.stopping, 0, 1);
    const w = this.worker;
    if (!w) return Promise.resolve();
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    // The worker is unref'd while it runs; during stop it must keep the process alive, or a caller
    // awaiting this with nothing else pending sees the process exit 0 mid-await (CLI start failure).
    w.ref();
    w.postMessage('stop');
    return exited;
  }
}
