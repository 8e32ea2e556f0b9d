import { create } from '@bufbuild/protobuf';
import {
  CloseSessionRequestSchema,
  GetSessionRequestSchema,
  GetVariableHistoryRequestSchema,
  GetVariableRequestSchema,
  GetVariablesRequestSchema,
  HeartbeatRequestSchema,
  ListVariablesRequestSchema,
} from '@unified-bridge/proto';
import { BatchBuilder } from './batch.js';
import { SessionScope, type VariableCache } from './cache.js';
import { historyFromWire, recordFromWire, type HistoryEntry, type VariableRecord } from './codec.js';
import { isBridgeError } from './errors.js';
import type { RetryPolicy } from './retry.js';
import { checkTimeout, type CallOptions, type Rpc } from './rpc.js';
import { sessionInfoFromWire, type SessionInfo } from './session-info.js';
import type {
  GetOptions,
  HistoryOptions,
  ListOptions,
  RegisterOptions,
  RollbackOptions,
  SessionHandleOptions,
  SetManyEntry,
  SetManyOptions,
  SetManyResult,
  SetOptions,
  UpdateOptions,
} from './session-options.js';
import { SessionTools } from './session-tools.js';
import type { ToolListCache } from './tool-list-cache.js';
import { VariableHandle, type VariableAccess } from './variable-handle.js';
import { VariableList } from './variable-list.js';
import { VariableWriter } from './variable-writer.js';
import { CacheWatcher, watchVariables, type VariableEvent, type WatchOptions } from './watch.js';

/** Everything a Session shares with its client. */
export interface SessionContext {
  readonly rpc: Rpc;
  readonly cache: VariableCache;
  readonly retry: RetryPolicy;
  /** The client's tool-list cache. */
  readonly tools: ToolListCache;
  /** Called once when the session object is closed or released. */
  readonly onRelease: (session: Session) => void;
}

const isGone = (e: unknown): boolean => isBridgeError(e, 'SessionNotFound') || isBridgeError(e, 'SessionExpired');

/**
 * A session on the server, with its variables. Obtained from
 * `client.createSession()` or `client.session(id)`. Reads go through the
 * client's cache; writes update it from the server's reply.
 *
 * @example
 * ```ts
 * await using session = await client.createSession({ ttlSeconds: 600 });
 * await session.register('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
 * await session.update('temperature', (t) => (t as number) + 0.1);
 * ```
 */
export class Session implements AsyncDisposable, VariableAccess {
  /** The session id. */
  readonly id: string;
  readonly #ctx: SessionContext;
  readonly #scope: SessionScope;
  readonly #watcher: CacheWatcher | undefined;
  readonly #writer: VariableWriter;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #released = false;
  /**
   * The tools this session can call: `list`, `call`, `stream`, `callMany`,
   * `proxy` (a callable proxy), `callWithRetry`.
   *
   * @example
   * ```ts
   * const sum = await session.tools.call<number>('add', { a: 1, b: 2 });
   * ```
   */
  readonly tools: SessionTools;

  /** Use `client.createSession()` or `client.session(id)`. */
  constructor(id: string, ctx: SessionContext, options: SessionHandleOptions = {}) {
    this.id = id;
    this.#ctx = ctx;
    const { rpc, cache, retry } = ctx;
    this.tools = new SessionTools(id, { rpc, retry, lists: ctx.tools });
    const watchMode = cache.mode === 'watch';
    this.#scope = new SessionScope(
      id,
      (identifier, call, signal) =>
        rpc
          .call('read', { timeoutMs: call.timeoutMs, signal }, (o) =>
            rpc.variables.getVariable(create(GetVariableRequestSchema, { sessionId: id, identifier }), o),
          )
          .then((r) => recordFromWire(r.variable)),
      { watchMode },
    );
    this.#writer = new VariableWriter({ sessionId: id, rpc, cache, retry, scope: this.#scope, reads: this });
    if (watchMode) {
      this.#watcher = new CacheWatcher(rpc, retry, this.#scope, cache);
      this.#watcher.ensure();
    }
    const every = checkTimeout('heartbeatIntervalMs', options.heartbeatIntervalMs);
    if (every !== undefined) {
      this.#heartbeat = setInterval(() => {
        this.heartbeat().catch((e: unknown) => {
          if (isGone(e)) this.#stopHeartbeat();
        });
      }, every);
      this.#heartbeat.unref?.();
    }
  }

  /** @internal The client-side state of this session (cache keys, floors, types). */
  get scope(): SessionScope {
    return this.#scope;
  }

  /** True once `close()` succeeded or the client was closed. */
  get closed(): boolean {
    return this.#released;
  }

  // -- session lifecycle ---------------------------------------------------------------------

  /** Reads the session (counts, times). */
  async info(opts?: CallOptions): Promise<SessionInfo> {
    const { rpc } = this.#ctx;
    const r = await rpc.call('read', opts, (o) =>
      rpc.sessions.getSession(create(GetSessionRequestSchema, { sessionId: this.id }), o),
    );
    return sessionInfoFromWire(r.session);
  }

  /** Extends the session's idle TTL from now; returns the session with its new expiry. */
  async heartbeat(opts?: CallOptions): Promise<SessionInfo> {
    const { rpc } = this.#ctx;
    const r = await rpc.call('read', opts, (o) =>
      rpc.sessions.heartbeat(create(HeartbeatRequestSchema, { sessionId: this.id }), o),
    );
    return sessionInfoFromWire(r.session);
  }

  /**
   * Closes the session on the server (its variables, history, tools and
   * streams go) and releases the session object. Closing a session the
   * server no longer has succeeds; a second call does nothing.
   */
  async close(opts?: CallOptions): Promise<void> {
    if (this.#released) return;
    const { rpc } = this.#ctx;
    try {
      await rpc.call('write', opts, (o) =>
        rpc.sessions.closeSession(create(CloseSessionRequestSchema, { sessionId: this.id }), o),
      );
    } catch (e) {
      if (!isGone(e)) throw e;
    }
    this.release();
  }

  /** @internal Releases local resources (watch stream, heartbeats, cache entries) without a call. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#stopHeartbeat();
    this.#watcher?.stop();
    this.#ctx.cache.clearScope(this.#scope);
    this.#ctx.tools.invalidate(this.id);
    this.#ctx.onRelease(this);
  }

  /** Same as {@link close}: `await using session = await client.createSession()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  // -- reads ---------------------------------------------------------------------------------

  /**
   * The value of a variable (by name or id). A cache hit resolves without a
   * round trip and without copying the value.
   *
   * @example
   * ```ts
   * const t = await session.get<number>('temperature');
   * ```
   */
  get<T = unknown>(name: string, opts?: GetOptions): Promise<T> {
    if (opts?.fresh !== true) {
      const hit = this.#ctx.cache.lookup(this.#scope, name);
      if (hit !== undefined) return Promise.resolve(hit.value as T);
    }
    return this.#read(name, opts).then((r) => r.value as T);
  }

  /**
   * The cached value of a variable, synchronously, or undefined when it is
   * not cached (or the cache cannot vouch for it). Never calls the server.
   */
  peek<T = unknown>(name: string): T | undefined {
    return this.#ctx.cache.lookup(this.#scope, name)?.value as T | undefined;
  }

  /** The full record of a variable (value, type, constraints, version, revision, times). */
  getVariable<T = unknown>(name: string, opts?: GetOptions): Promise<VariableRecord<T>> {
    if (opts?.fresh !== true) {
      const hit = this.#ctx.cache.lookup(this.#scope, name);
      if (hit !== undefined) return Promise.resolve(hit as VariableRecord<T>);
    }
    return this.#read(name, opts) as Promise<VariableRecord<T>>;
  }

  #read(identifier: string, opts: GetOptions | undefined): Promise<VariableRecord> {
    this.#watcher?.ensure();
    return this.#ctx.cache.read(this.#scope, identifier, opts ?? {});
  }

  /** True when the variable exists (answered from the cache when it can). */
  async has(name: string, opts?: CallOptions): Promise<boolean> {
    try {
      await this.getVariable(name, opts);
      return true;
    } catch (e) {
      if (isBridgeError(e, 'VariableNotFound')) return false;
      throw e;
    }
  }

  /**
   * The values of several variables, keyed by the identifiers asked for (in
   * that order); identifiers that name no variable are absent. Cached ones
   * are served from the cache, the rest in one round trip.
   */
  async getMany(names: readonly string[], opts?: CallOptions): Promise<Map<string, unknown>> {
    const records = await this.getVariables(names, opts);
    const out = new Map<string, unknown>();
    for (const [k, r] of records) out.set(k, r.value);
    return out;
  }

  /** Like {@link getMany} with full records. */
  async getVariables(names: readonly string[], opts?: CallOptions): Promise<Map<string, VariableRecord>> {
    if (!Array.isArray(names)) throw new TypeError('names must be an array of variable names or ids');
    const { cache, rpc } = this.#ctx;
    const found = new Map<string, VariableRecord>();
    const missing: string[] = [];
    for (const n of names) {
      const hit = cache.lookup(this.#scope, n);
      if (hit !== undefined) found.set(n, hit);
      else if (!missing.includes(n)) missing.push(n);
    }
    if (missing.length > 0) {
      this.#watcher?.ensure();
      const r = await rpc.call('read', opts, (o) =>
        rpc.variables.getVariables(create(GetVariablesRequestSchema, { sessionId: this.id, identifiers: missing }), o),
      );
      for (const [k, v] of Object.entries(r.variables)) {
        const rec = recordFromWire(v);
        cache.store(this.#scope, rec);
        found.set(k, rec);
      }
    }
    const out = new Map<string, VariableRecord>();
    for (const n of names) {
      const r = found.get(n);
      if (r !== undefined) out.set(n, r);
    }
    return out;
  }

  /**
   * The session's variables ordered by name, optionally filtered by a glob
   * (`*`, `?`), fetched page by page as you iterate.
   *
   * @example
   * ```ts
   * for await (const v of session.list('opt.*')) console.log(v.name, v.value);
   * ```
   */
  list(pattern = '', opts: ListOptions = {}): VariableList {
    const { rpc, cache } = this.#ctx;
    const pageSize = opts.pageSize ?? 0;
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > 1000) {
      throw new RangeError(`pageSize must be an integer in [1, 1000], got ${String(opts.pageSize)}`);
    }
    return new VariableList(async (pageToken) => {
      const r = await rpc.call('read', opts, (o) =>
        rpc.variables.listVariables(
          create(ListVariablesRequestSchema, { sessionId: this.id, pattern, pageSize, pageToken }),
          o,
        ),
      );
      const records = r.variables.map((v) => {
        const rec = recordFromWire(v);
        cache.store(this.#scope, rec);
        return rec;
      });
      return { records, next: r.nextPageToken };
    });
  }

  /** A variable's retained history, newest first. */
  async history(name: string, opts: HistoryOptions = {}): Promise<HistoryEntry[]> {
    const { rpc } = this.#ctx;
    const limit = opts.limit ?? 0;
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
    const r = await rpc.call('read', opts, (o) =>
      rpc.variables.getVariableHistory(
        create(GetVariableHistoryRequestSchema, { sessionId: this.id, identifier: name, limit }),
        o,
      ),
    );
    const type = this.#scope.types.get(this.#scope.nameOf(name))?.type ?? '';
    return r.entries.map((e) => historyFromWire(name, type, e));
  }

  // -- writes --------------------------------------------------------------------------------

  /**
   * Registers a variable (version 0). The initial value and the constraints
   * are checked locally first (a ValidationError without a round trip).
   *
   * @example
   * ```ts
   * await session.register('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
   * ```
   */
  register<T = unknown>(
    name: string,
    type: string,
    initial: T,
    opts: RegisterOptions = {},
  ): Promise<VariableRecord<T>> {
    return this.#writer.register(name, type, initial, opts);
  }

  /**
   * Sets a variable's value (version + 1) and returns the new record. The
   * value is validated locally against the variable's type when known (a
   * variable never seen by this client is read once to learn its type).
   * Not retried on failure unless `expectedVersion` guards it.
   */
  set<T = unknown>(name: string, value: T, opts: SetOptions = {}): Promise<VariableRecord<T>> {
    return this.#writer.set(name, value, opts);
  }

  /**
   * Sets several variables in one round trip. Atomic (default): all or
   * nothing; a failure (local or on the server) throws one BridgeError with
   * every failed field in `fieldViolations`. Non-atomic: a result per update,
   * in order.
   *
   * @example
   * ```ts
   * await session.setMany({ a: 1, b: 'two' });
   * const results = await session.setMany([{ name: 'a', value: 2 }, { name: 'b', value: 3 }], { atomic: false });
   * ```
   */
  setMany(
    updates: Readonly<Record<string, unknown>> | readonly SetManyEntry[],
    opts: SetManyOptions = {},
  ): Promise<SetManyResult[]> {
    return this.#writer.setMany(updates, opts);
  }

  /**
   * An atomic batch built with a builder: every `b.set()` is applied, or none.
   *
   * @example
   * ```ts
   * await session.batch((b) => b.set('a', 1).set('b', 2, { expectedVersion: 4 }));
   * ```
   */
  async batch(build: (b: BatchBuilder) => unknown, opts: CallOptions = {}): Promise<SetManyResult[]> {
    const b = new BatchBuilder();
    await build(b);
    return this.setMany(b.entries(), { ...opts, atomic: true });
  }

  /** Deletes a variable and its history. */
  delete(name: string, opts?: CallOptions): Promise<void> {
    return this.#writer.delete(name, opts);
  }

  /** Writes the value the variable had at `version` as a new version; returns the new record. */
  rollback<T = unknown>(name: string, version: number, opts: RollbackOptions = {}): Promise<VariableRecord<T>> {
    return this.#writer.rollback(name, version, opts);
  }

  /**
   * Read-modify-write that retries on version conflicts: reads the value,
   * computes `fn(value)`, writes it guarded by the version read; on a
   * conflict re-reads from the server and tries again. Concurrent updates
   * from any number of clients are exact. Returns the record written.
   *
   * @example
   * ```ts
   * await session.update<number>('counter', (n) => n + 1);
   * ```
   */
  update<T = unknown>(
    name: string,
    fn: (value: T, record: VariableRecord<T>) => T | Promise<T>,
    opts: UpdateOptions = {},
  ): Promise<VariableRecord<T>> {
    return this.#writer.update(name, fn, opts);
  }

  // -- watch and handles ----------------------------------------------------------------------

  /**
   * Streams changes to the session's variables (all of them, or `names`).
   * Resumes after a dropped stream from the last revision it delivered.
   * Every event also refreshes the cache. End it with `break` or the signal.
   *
   * @example
   * ```ts
   * for await (const ev of session.watch(['temperature'])) {
   *   if (ev.kind === 'updated') console.log(ev.variable?.value);
   * }
   * ```
   */
  watch(names: readonly string[] = [], opts: WatchOptions = {}): AsyncIterable<VariableEvent> {
    const { rpc, cache, retry } = this.#ctx;
    const scope = this.#scope;
    const id = this.id;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const ev of watchVariables(rpc, retry, id, names, opts)) {
          if (ev.variable !== undefined) {
            if (ev.kind === 'deleted') cache.markDeleted(scope, ev.variable.name, ev.revision);
            else cache.store(scope, ev.variable);
          }
          yield ev;
        }
      },
    };
  }

  /**
   * A handle on one variable: get/set/update/watch without repeating its name.
   *
   * @example
   * ```ts
   * const counter = session.variable<number>('counter');
   * await counter.update((n) => n + 1);
   * ```
   */
  variable<T = unknown>(name: string): VariableHandle<T, Session> {
    return new VariableHandle<T, Session>(this, name);
  }
}
