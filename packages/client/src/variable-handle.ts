import type { VariableRecord } from './codec.js';
import type { CallOptions } from './rpc.js';
import type { GetOptions, SetOptions, UpdateOptions } from './session-options.js';
import type { VariableEvent, WatchOptions } from './watch.js';

/**
 * What a {@link VariableHandle} needs of its session: the variable methods
 * that take a name. `Session` implements it.
 */
export interface VariableAccess {
  /** See `session.get`. */
  get<T = unknown>(name: string, opts?: GetOptions): Promise<T>;
  /** See `session.peek`. */
  peek<T = unknown>(name: string): T | undefined;
  /** See `session.getVariable`. */
  getVariable<T = unknown>(name: string, opts?: GetOptions): Promise<VariableRecord<T>>;
  /** See `session.set`. */
  set<T = unknown>(name: string, value: T, opts?: SetOptions): Promise<VariableRecord<T>>;
  /** See `session.update`. */
  update<T = unknown>(
    name: string,
    fn: (value: T, record: VariableRecord<T>) => T | Promise<T>,
    opts?: UpdateOptions,
  ): Promise<VariableRecord<T>>;
  /** See `session.delete`. */
  delete(name: string, opts?: CallOptions): Promise<void>;
  /** See `session.watch`. */
  watch(names?: readonly string[], opts?: WatchOptions): AsyncIterable<VariableEvent>;
}

/**
 * A typed handle on one variable of a session (`session.variable<T>(name)`).
 * It holds no state of its own: every call goes through the session and its cache.
 */
export class VariableHandle<T = unknown, S extends VariableAccess = VariableAccess> {
  /** Use `session.variable(name)`. */
  constructor(
    /** The session the variable belongs to. */
    readonly session: S,
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
