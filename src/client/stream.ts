/**
 * A single-consumer async queue with a bounded buffer: the shape behind persistent watches and the
 * connection-state iterator. Producers never block; when the buffer is full the overflow policy
 * decides between dropping the oldest item and failing the stream (so a cache knows it must
 * resync instead of silently missing an event).
 */
export type OverflowPolicy = 'dropOldest' | 'error';

interface Waiter<T> {
  resolve(r: IteratorResult<T>): void;
  reject(e: unknown): void;
}

export class BoundedStream<T> implements AsyncIterableIterator<T> {
  private readonly buf: T[] = [];
  private readonly waiters: Waiter<T>[] = [];
  private finished = false;
  private failure: unknown;
  private failureDelivered = false;
  /** Items dropped under 'dropOldest'. */
  dropped = 0;

  constructor(
    private readonly capacity: number,
    private readonly overflow: OverflowPolicy,
    private readonly onOverflowError: () => unknown,
    private readonly onEnd: () => void,
  ) {}

  get isDone(): boolean {
    return this.finished;
  }

  /** Items buffered and not yet read. */
  get size(): number {
    return this.buf.length;
  }

  push(item: T): void {
    if (this.finished) return;
    const w = this.waiters.shift();
    if (w) return w.resolve({ value: item, done: false });
    if (this.buf.length >= this.capacity) {
      if (this.overflow === 'error') return this.fail(this.onOverflowError());
      this.buf.shift();
      this.dropped++;
    }
    this.buf.push(item);
  }

  /** Ends the stream after the buffered items have been read. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
    this.onEnd();
  }

  /** Ends the stream with an error, delivered once after buffered items. */
  fail(err: unknown): void {
    if (this.finished) return;
    this.failure = err;
    this.finished = true;
    const waiters = this.waiters.splice(0);
    if (waiters.length > 0) this.failureDelivered = true;
    for (const w of waiters) w.reject(err);
    this.onEnd();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buf.length > 0) return Promise.resolve({ value: this.buf.shift()!, done: false });
    if (this.finished) {
      if (this.failure !== undefined && !this.failureDelivered) {
        this.failureDelivered = true;
        return Promise.reject(this.failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.buf.length = 0;
    this.failureDelivered = true;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
