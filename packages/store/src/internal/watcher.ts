// One subscription of a store's watch: a pull-based async iterator over a
// snapshot prefix (initial, replayed and synced events) and a bounded live
// queue that the backend pushes changes into.
// @private Internal code, does not follow semantic versioning.
import type { StoredVariable, WatchEvent } from '../session-store.js';
import { StoreError } from '../store-error.js';

type Waiter = {
  resolve: (r: IteratorResult<WatchEvent>) => void;
  reject: (e: unknown) => void;
};

/** A FIFO of events that frees what it has handed out. */
class EventQueue {
  private items: (WatchEvent | undefined)[];
  private head = 0;

  constructor(items: WatchEvent[] = []) {
    this.items = items;
  }

  /** Events not yet taken. */
  get length(): number {
    return this.items.length - this.head;
  }

  push(event: WatchEvent): void {
    this.items.push(event);
  }

  /** Takes the oldest event (`undefined` when empty), dropping the reference to it. */
  take(): WatchEvent | undefined {
    if (this.head >= this.items.length) return undefined;
    const e = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return e;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

/**
 * Options of a {@link Watcher}.
 * @private Internal code, does not follow semantic versioning.
 */
export interface WatcherOptions {
  /** Variable names the watcher wants, or `null` for every variable. */
  readonly names: ReadonlySet<string> | null;
  /** Events delivered before any live event (initial values, replayed changes, `synced`); not bounded by `bufferSize`. */
  readonly prefix: WatchEvent[];
  /** The revision to resume from if the watcher overflows before it delivers anything. */
  readonly startRevision: number;
  /** Undelivered live events the watcher may hold before it ends with `WatcherOverflow` (`limits.watcherBufferSize`). */
  readonly bufferSize: number;
  /** Called once when the watcher ends, to remove it from the backend's set of watchers. */
  readonly detach: (watcher: Watcher) => void;
  /** Aborting it ends the watcher at once and cleanly. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * A live subscription: the backend pushes events, the consumer pulls them.
 *
 * Lifecycle (held by `ending` and `finished`):
 * - open (`ending === null`): pushed events are queued, or handed straight to a waiting `next()`.
 * - ending (`ending` set, `finished` false): no event is accepted any more; events still buffered
 *   (when ended with `drain`) are delivered, then the end is: the error rejects one `next()`, or
 *   (a clean end) `next()` resolves done.
 * - finished (`finished` true): the end was delivered, or `return()`/`throw()` was called; every
 *   `next()` resolves done.
 *
 * @private Internal code, does not follow semantic versioning.
 */
export class Watcher implements AsyncIterableIterator<WatchEvent> {
  /** Variable names this watcher wants, or null for all. */
  readonly names: ReadonlySet<string> | null;
  /** Initial, replayed and synced events, delivered first. */
  private prefix: EventQueue;
  /** Live events not yet delivered, at most `bufferSize`. */
  private queue = new EventQueue();
  /** Pending `next()` calls, oldest first; only non-empty while nothing is buffered. */
  private waiters: Waiter[] = [];
  /** Set once ending: `error` null means a clean end. Delivered after the buffers drain. */
  private ending: { error: StoreError | null } | null = null;
  /** True once the end was delivered (or the consumer returned). */
  private finished = false;
  /** The revision of the last delivered change (the resume point of a `WatcherOverflow`). */
  private lastRevision: number;
  private readonly bufferSize: number;
  private readonly detach: (w: Watcher) => void;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort: (() => void) | undefined;

  /** Creates an open watcher; see {@link WatcherOptions}. */
  constructor(options: WatcherOptions) {
    this.names = options.names;
    this.prefix = new EventQueue(options.prefix);
    this.lastRevision = options.startRevision;
    this.bufferSize = options.bufferSize;
    this.detach = options.detach;
    this.signal = options.signal;
    if (this.signal) {
      this.onAbort = () => this.stop();
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Whether this watcher wants events about `name`. */
  wants(name: string): boolean {
    return this.names === null || this.names.has(name);
  }

  /**
   * Enqueues events (all of one write or batch together). If they do not all
   * fit in the buffer, the watcher is ended with a resumable `WatcherOverflow`
   * and its buffers are freed at once.
   */
  push(events: readonly WatchEvent[]): void {
    if (this.ending !== null) return;
    if (this.waiters.length > 0 && this.prefix.length === 0 && this.queue.length === 0) {
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
    if (this.queue.length + events.length > this.bufferSize) {
      this.end(
        new StoreError(
          'WatcherOverflow',
          `watcher fell more than ${this.bufferSize} events behind and was ended; resume from revision ${this.lastRevision}`,
          { lastRevision: this.lastRevision, details: { lastRevision: String(this.lastRevision) } },
        ),
        { drain: false },
      );
      return;
    }
    for (const e of events) this.queue.push(e);
    this.wake();
  }

  /**
   * Ends the watcher with `error` (null: cleanly). With `drain`, events already
   * buffered are still delivered first; otherwise they are dropped. Idempotent.
   */
  end(error: StoreError | null, options: { readonly drain: boolean }): void {
    if (this.ending !== null) return;
    this.ending = { error };
    this.detach(this);
    if (this.signal && this.onAbort) this.signal.removeEventListener('abort', this.onAbort);
    if (!options.drain) this.dropBuffers();
    this.wake();
  }

  /** Ends cleanly and at once (abort, break, return). */
  private stop(): void {
    this.end(null, { drain: false });
    this.ending = { error: null };
    this.dropBuffers();
    this.wake();
  }

  private dropBuffers(): void {
    this.prefix.clear();
    this.queue.clear();
  }

  private take(): WatchEvent | undefined {
    return this.prefix.take() ?? this.queue.take();
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

  /** The next event; rejects once with the error the watcher ended with. */
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

  /** Ends the watcher at once (a `break` out of `for await`). */
  return(): Promise<IteratorResult<WatchEvent>> {
    this.stop();
    this.finished = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the watcher at once and rejects with `err`. */
  throw(err?: unknown): Promise<IteratorResult<WatchEvent>> {
    this.stop();
    this.finished = true;
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }
}

/**
 * Hands one write's (or batch's) events to every watcher that wants them,
 * each watcher getting its events in one `push`.
 * @private Internal code, does not follow semantic versioning.
 */
export function fanOut(watchers: ReadonlySet<Watcher>, events: readonly WatchEvent[]): void {
  if (watchers.size === 0 || events.length === 0) return;
  for (const w of [...watchers]) {
    if (w.names === null) w.push(events);
    else {
      const wanted = events.filter((e) => w.wants((e.variable as StoredVariable).name));
      if (wanted.length > 0) w.push(wanted);
    }
  }
}

/**
 * Ends every watcher of a set (a session closed or expired, the store closed).
 * @private Internal code, does not follow semantic versioning.
 */
export function endWatchers(
  watchers: ReadonlySet<Watcher>,
  error: StoreError,
  options: { readonly drain: boolean },
): void {
  for (const w of [...watchers]) w.end(error, options);
}

/**
 * An iterator that fails on its first `next()` (a subscription that could not start).
 * @private Internal code, does not follow semantic versioning.
 */
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

/**
 * An iterator that is already done (a subscription with an aborted signal).
 * @private Internal code, does not follow semantic versioning.
 */
export function doneIterator(): AsyncIterableIterator<WatchEvent> {
  const it: AsyncIterableIterator<WatchEvent> = {
    next: () => Promise.resolve({ value: undefined, done: true }),
    return: () => Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}
