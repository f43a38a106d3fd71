import fs from 'node:fs';

/**
 * Makes a WAL file durable off the event loop: `fdatasync` on libuv's thread pool, the way
 * ZooKeeper's SyncRequestProcessor fsyncs on its own thread. Commits written with
 * synchronous=NORMAL are complete WAL frames in the page cache (they survive kill -9); one
 * fdatasync of the WAL file then makes every frame written before it durable, which is what a
 * synchronous=FULL commit does inline. Syncs run one at a time: callers that arrive while one is in
 * flight share the next one (group commit). A failed sync is never retried (the page cache may
 * have dropped the pages): every later caller gets the same error.
 */
export class WalSyncer {
  private fd: number | undefined;
  private inFlight = false;
  private waiting: Array<(err?: Error) => void> = [];
  private closing = false;
  private failed: Error | undefined;

  constructor(private readonly walFile: string) {}

  /** Calls `done` once everything written to the WAL before this call is on disk. */
  sync(done: (err?: Error) => void): void {
    if (this.failed || this.closing) return done(this.failed ?? new Error(`${this.walFile}: store closed before the sync`));
    this.waiting.push(done);
    if (!this.inFlight) this.start();
  }

  /** Closes the file once the sync in flight (if any) has finished; callers still waiting get an error. */
  close(): void {
    this.closing = true;
    if (!this.inFlight) this.release();
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.inFlight = true;
    try {
      this.fd ??= fs.openSync(this.walFile, 'r+');
    } catch (err) {
      return this.settle(batch, err as Error);
    }
    fs.fdatasync(this.fd, (err) => this.settle(batch, err ?? undefined));
  }

  private settle(batch: ReadonlyArray<(err?: Error) => void>, err: Error | undefined): void {
    this.inFlight = false;
    if (err) this.failed ??= err;
    for (const done of batch) done(this.failed);
    if (this.closing) return this.release();
    if (this.waiting.length > 0) this.start();
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done(new Error(`${this.walFile}: store closed before the sync`));
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
