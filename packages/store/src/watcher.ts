// One subscription of MemoryStore.watch: a pull-based async iterator over a
// snapshot prefix (initial, replayed and synced events) and a bounded live
// queue. Internal; not exported from the package entry point.
import type { WatchEvent } from './session-store.js';
import { StoreError } from './store-error.js';

type Waiter = {
  resolve: (r: IteratorResult<WatchEvent>) => void;
  reject: (e: unknown) => void;
};

/** A live subscription. The store pushes events; the consumer pulls them. */
export class Watcher implements AsyncIterableIterator<WatchEvent> {
  /** Variable names this watcher wants, or null for all. */
  readonly names: ReadonlySet<string> | null;
  private prefix: (WatchEvent | undefined)[];
  private prefixIndex = 0;
  private queue: (WatchEvent | undefined)[] = [];
  private queueHead = 0;
  private waiters: Waiter[] = [];
  /** Set once terminal: null error means a clean end. Delivered after the queue drains. */
  private ending: { error: StoreError | null } | null = null;
  private finished = false;
  private lastRevision: number;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    names: ReadonlySet<string> | null,
    prefix: WatchEvent[],
    startRevision: number,
    private readonly bufferSize: number,
    private readonly detach: (w: Watcher) => void,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.names = names;
    this.prefix = prefix;
    this.lastRevision = startRevision;
    if (signal) {
      this.onAbort = () => this.stop();
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Whether this watcher wants events about `name`. */
  wants(name: string): boolean {
    return this.names === null || this.names.has(name);
  }

  /**
   * Enqueues events (all of one write or batch together). If they do not all
   * fit in the buffer, the watcher is ended with a resumable WatcherOverflow
   * and its buffers are freed at once.
   */
  push(events: readonly WatchEvent[]): void {
    if (this.ending !== null) return;
    if (this.waiters.length > 0 && this.prefixIndex >= this.prefix.length && this.queueHead >= this.queue.length) {
      // Hand the first event straight to the waiting consumer.
      const [first, ...rest] = events;
      if (first === undefined) return;
      this.deliver(first);
      this.enqueue(rest);
      return;
    }
    this.enqueue(events);
  }

  private enqueue(events: readonly WatchEvent[]): void {
    if (events.length === 0) return;
    if (this.queue.length - this.queueHead + events.length > this.bufferSize) {
      this.end(
        new StoreError(
          'WatcherOverflow',
          `watcher fell more than ${this.bufferSize} events behind and was ended; resume from revision ${this.lastRevision}`,
          { lastRevision: this.lastRevision, details: { lastRevision: String(this.lastRevision) } },
        ),
        false,
      );
      return;
    }
    for (const e of events) this.queue.push(e);
    this.wake();
  }

  /**
   * Ends the watcher with `error` (null: cleanly). With `drain`, events already
   * buffered are still delivered first; otherwise they are dropped.
   */
  end(error: StoreError | null, drain: boolean): void {
    if (this.ending !== null) return;
    this.ending = { error };
    this.detach(this);
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
    if (!drain) this.dropBuffers();
    this.wake();
  }

  /** Ends cleanly and at once (abort, break, return). */
  private stop(): void {
    this.end(null, false);
    this.ending = { error: null };
    this.dropBuffers();
    this.wake();
  }

  private dropBuffers(): void {
    this.prefix = [];
    this.prefixIndex = 0;
    this.queue = [];
    this.queueHead = 0;
  }

  private take(): WatchEvent | undefined {
    if (this.prefixIndex < this.prefix.length) {
      const e = this.prefix[this.prefixIndex];
      this.prefix[this.prefixIndex++] = undefined;
      if (this.prefixIndex === this.prefix.length) {
        this.prefix = [];
        this.prefixIndex = 0;
      }
      return e;
    }
    if (this.queueHead < this.queue.length) {
      const e = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined;
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      return e;
    }
    return undefined;
  }

  private deliver(e: WatchEvent): void {
    if (e.kind !== 'initial') this.lastRevision = e.revision;
    const w = this.waiters.shift();
    w?.resolve({ value: e, done: false });
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const e = this.take();
      if (e !== undefined) {
        this.deliver(e);
        continue;
      }
      if (this.ending === null) return;
      this.settleEnd();
      return;
    }
  }

  private settleEnd(): void {
    const error = this.ending?.error ?? null;
    const waiters = this.waiters;
    this.waiters = [];
    if (!this.finished) {
      this.finished = true;
      if (error !== null) {
        const [first, ...rest] = waiters;
        first?.reject(error);
        for (const w of rest) w.resolve({ value: undefined, done: true });
        return;
      }
    }
    for (const w of waiters) w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (this.waiters.length === 0) {
      const e = this.take();
      if (e !== undefined) {
        if (e.kind !== 'initial') this.lastRevision = e.revision;
        return Promise.resolve({ value: e, done: false });
      }
    }
    return new Promise<IteratorResult<WatchEvent>>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.wake();
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.stop();
    this.finished = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<WatchEvent>> {
    this.stop();
    this.finished = true;
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }
}

/** An iterator that fails on its first `next()` (a subscription that could not start). */
export function failedIterator(error: unknown): AsyncIterableIterator<WatchEvent> {
  let done = false;
  const it: AsyncIterableIterator<WatchEvent> = {
    next() {
      if (done) return Promise.resolve({ value: undefined, done: true });
      done = true;
      return Promise.reject(error);
    },
    return() {
      done = true;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

/** An iterator that is already done (subscription with an aborted signal). */
export function doneIterator(): AsyncIterableIterator<WatchEvent> {
  const it: AsyncIterableIterator<WatchEvent> = {
    next: () => Promise.resolve({ value: undefined, done: true }),
    return: () => Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
