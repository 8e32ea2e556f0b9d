import type { VariableRecord } from './codec.js';
import type { CallOptions } from './rpc.js';
import type { GetOptions, Session, SetOptions, UpdateOptions } from './session.js';
import type { VariableEvent, WatchOptions } from './watch.js';

/** One update of `session.setMany()` given as a list. */
export interface SetManyEntry {
  /** The variable's name or id. */
  name: string;
  /** The new value. */
  value: unknown;
  /** Apply only if the current version equals this. */
  expectedVersion?: number;
  /** Metadata merged into the variable's metadata. */
  metadata?: Record<string, string>;
}

/**
 * Collects the updates of an atomic `session.batch()`; every method returns
 * the builder so calls chain.
 */
export class BatchBuilder {
  readonly #entries: SetManyEntry[] = [];

  /** Adds an update of `name` to the batch. */
  set(name: string, value: unknown, opts: { expectedVersion?: number; metadata?: Record<string, string> } = {}): this {
    this.#entries.push({ name, value, expectedVersion: opts.expectedVersion, metadata: opts.metadata });
    return this;
  }

  /** The updates collected so far, in order. */
  entries(): SetManyEntry[] {
    return [...this.#entries];
  }
}

/** One page fetch of {@link VariableList}. */
export type PageFetcher = (pageToken: string) => Promise<{ records: VariableRecord[]; next: string }>;

/**
 * The result of `session.list()`: iterate it for every variable (pages are
 * fetched as you go), or call `pages()` to iterate page by page.
 */
export class VariableList implements AsyncIterable<VariableRecord> {
  readonly #fetch: PageFetcher;

  /** Use `session.list()`. */
  constructor(fetch: PageFetcher) {
    this.#fetch = fetch;
  }

  /** The variables page by page, as the server returns them. */
  async *pages(): AsyncGenerator<VariableRecord[], void, undefined> {
    let token = '';
    do {
      const { records, next } = await this.#fetch(token);
      yield records;
      token = next;
    } while (token !== '');
  }

  /** Every variable, in name order. */
  async *[Symbol.asyncIterator](): AsyncGenerator<VariableRecord, void, undefined> {
    for await (const page of this.pages()) yield* page;
  }

  /** Collects every variable into an array. */
  async toArray(): Promise<VariableRecord[]> {
    const out: VariableRecord[] = [];
    for await (const page of this.pages()) out.push(...page);
    return out;
  }
}

/**
 * A typed handle on one variable of a session (`session.variable<T>(name)`).
 * It holds no state of its own: every call goes through the session and its cache.
 */
export class VariableHandle<T = unknown> {
  /** Use `session.variable(name)`. */
  constructor(
    /** The session the variable belongs to. */
    readonly session: Session,
    /** The variable's name (or id). */
    readonly name: string,
  ) {}

  /** The value (from the cache when fresh). */
  get(opts?: GetOptions): Promise<T> {
    return this.session.get<T>(this.name, opts);
  }

  /** The cached value, synchronously, or undefined. */
  peek(): T | undefined {
    return this.session.peek<T>(this.name);
  }

  /** The full record. */
  getVariable(opts?: GetOptions): Promise<VariableRecord<T>> {
    return this.session.getVariable<T>(this.name, opts);
  }

  /** Sets the value; returns the new record. */
  set(value: T, opts?: SetOptions): Promise<VariableRecord<T>> {
    return this.session.set<T>(this.name, value, opts);
  }

  /** Read-modify-write with retries on version conflicts (see `session.update`). */
  update(
    fn: (value: T, record: VariableRecord<T>) => T | Promise<T>,
    opts?: UpdateOptions,
  ): Promise<VariableRecord<T>> {
    return this.session.update<T>(this.name, fn, opts);
  }

  /** Deletes the variable. */
  delete(opts?: CallOptions): Promise<void> {
    return this.session.delete(this.name, opts);
  }

  /** Streams the variable's changes (see `session.watch`). */
  watch(opts?: WatchOptions): AsyncIterable<VariableEvent<T>> {
    return this.session.watch([this.name], opts) as AsyncIterable<VariableEvent<T>>;
  }
}
