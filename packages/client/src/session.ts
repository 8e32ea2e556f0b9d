import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  CloseSessionRequestSchema,
  DeleteVariableRequestSchema,
  GetSessionRequestSchema,
  GetVariableHistoryRequestSchema,
  GetVariableRequestSchema,
  GetVariablesRequestSchema,
  HeartbeatRequestSchema,
  ListVariablesRequestSchema,
  RegisterVariableRequestSchema,
  RollbackVariableRequestSchema,
  UpdateVariableRequestSchema,
  UpdateVariablesRequestSchema,
  VariableUpdateSchema,
  type Session as WireSession,
  type Value,
} from '@unified-bridge/proto';
import type { CompiledType } from '@unified-bridge/types';
import { SessionScope, type VariableCache } from './cache.js';
import {
  compileLocal,
  encodeValue,
  historyFromWire,
  recordFromWire,
  type HistoryEntry,
  type VariableRecord,
} from './codec.js';
import {
  BridgeError,
  bridgeErrorFromDetail,
  isBridgeError,
  localValidationError,
  type BridgeFieldViolation,
} from './errors.js';
import { backoffDelayMs, sleep, type RetryPolicy } from './retry.js';
import { checkTimeout, type CallOptions, type Rpc } from './rpc.js';
import { SessionTools, type ToolListCache } from './tools.js';
import { BatchBuilder, VariableHandle, VariableList, type SetManyEntry } from './variables.js';
import { CacheWatcher, watchVariables, type VariableEvent, type WatchOptions } from './watch.js';

/** A session as the server reports it (`session.info()`, `session.heartbeat()`). */
export interface SessionInfo {
  /** The session id. */
  readonly id: string;
  /** Metadata given at creation. */
  readonly metadata: Readonly<Record<string, string>>;
  /** When the session was created. */
  readonly createdAt: Date | undefined;
  /** When a call last named the session. */
  readonly lastUsedAt: Date | undefined;
  /** When the session expires unless used again. */
  readonly expiresAt: Date | undefined;
  /** The idle TTL in seconds. */
  readonly ttlSeconds: number;
  /** How many variables the session holds. */
  readonly variableCount: number;
  /** How many tools the session can call. */
  readonly toolCount: number;
}

/** Options of `session.get()` / `session.getVariable()`. */
export interface GetOptions extends CallOptions {
  /** Bypass a cached entry and read from the server (the result is cached). Default false. */
  fresh?: boolean;
}

/** Options of `session.register()`. */
export interface RegisterOptions extends CallOptions {
  /** The constraints (for example `{ min: 0, max: 1 }`). Default none. */
  constraints?: Record<string, unknown>;
  /** Free-form metadata. Default none. */
  metadata?: Record<string, string>;
}

/** Options of `session.set()`. */
export interface SetOptions extends CallOptions {
  /** Apply only if the current version equals this (else a VersionConflict error). Such a write may be retried on Unavailable. */
  expectedVersion?: number;
  /** Metadata merged into the variable's metadata and recorded in its history. */
  metadata?: Record<string, string>;
}

/** Options of `session.setMany()`. */
export interface SetManyOptions extends CallOptions {
  /** All or nothing (default true); false gives a result per update. */
  atomic?: boolean;
}

/** The outcome of one update of `setMany()` / `batch()`. */
export type SetManyResult =
  | { readonly name: string; readonly ok: true; readonly variable: VariableRecord }
  | { readonly name: string; readonly ok: false; readonly error: BridgeError };

/** Options of `session.update()`. */
export interface UpdateOptions extends CallOptions {
  /** How many read-modify-write rounds to try before giving up with the last VersionConflict. Default 100. */
  maxAttempts?: number;
  /** Metadata recorded with the write. */
  metadata?: Record<string, string>;
}

/** Options of `session.list()`. */
export interface ListOptions extends CallOptions {
  /** Variables per page (1..1000). Default: the server's (100). */
  pageSize?: number;
}

/** Options of `session.history()`. */
export interface HistoryOptions extends CallOptions {
  /** The most entries to return (newest first). Default: all retained. */
  limit?: number;
}

/** Options of `session.rollback()`. */
export interface RollbackOptions extends CallOptions {
  /** Apply only if the current version equals this. */
  expectedVersion?: number;
}

/** Options of `client.session()` and `client.createSession()` about the session object itself. */
export interface SessionHandleOptions {
  /**
   * Send a heartbeat every this many ms while the session object is open
   * (unref'd timer: it does not keep the process alive). Default: off.
   */
  heartbeatIntervalMs?: number;
}

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

/** Converts a wire session. */
export function sessionInfoFromWire(s: WireSession | undefined): SessionInfo {
  if (s === undefined) throw new BridgeError('Internal', 'the server sent a response without its session');
  return {
    id: s.id,
    metadata: s.metadata,
    createdAt: s.createdAt ? timestampDate(s.createdAt) : undefined,
    lastUsedAt: s.lastUsedAt ? timestampDate(s.lastUsedAt) : undefined,
    expiresAt: s.expiresAt ? timestampDate(s.expiresAt) : undefined,
    ttlSeconds: s.ttlSeconds,
    variableCount: s.variableCount,
    toolCount: s.toolCount,
  };
}

function toBigInt(name: string, v: number | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || v < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${String(v)}`);
  return BigInt(v);
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
export class Session implements AsyncDisposable {
  /** The session id. */
  readonly id: string;
  readonly #ctx: SessionContext;
  readonly #scope: SessionScope;
  readonly #watcher: CacheWatcher | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #released = false;
  /**
   * The tools this session can call: `list`, `call`, `stream`, `callMany`,
   * `get` (a callable proxy), `callWithRetry`.
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
    const { rpc } = ctx;
    this.tools = new SessionTools(id, { rpc, retry: ctx.retry, lists: ctx.tools });
    this.#scope = new SessionScope(
      id,
      (identifier, call, signal) =>
        rpc
          .call('read', { timeoutMs: call.timeoutMs, signal }, (o) =>
            rpc.variables.getVariable(create(GetVariableRequestSchema, { sessionId: id, identifier }), o),
          )
          .then((r) => recordFromWire(r.variable)),
      ctx.cache.mode === 'watch',
    );
    if (ctx.cache.mode === 'watch') {
      this.#watcher = new CacheWatcher(rpc, ctx.retry, this.#scope, ctx.cache);
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
    return this.#ctx.cache.read(this.#scope, identifier, opts?.fresh === true, opts ?? {});
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
  async register<T = unknown>(
    name: string,
    type: string,
    initial: T,
    opts: RegisterOptions = {},
  ): Promise<VariableRecord<T>> {
    if (typeof name !== 'string' || typeof type !== 'string') throw new TypeError('name and type must be strings');
    const compiled = compileLocal(name, type, opts.constraints);
    const value = encodeValue(name, compiled, initial);
    const { rpc, cache } = this.#ctx;
    const r = await rpc.call('write', opts, (o) =>
      rpc.variables.registerVariable(
        create(RegisterVariableRequestSchema, {
          sessionId: this.id,
          name,
          type,
          initialValue: value,
          constraints: opts.constraints as JsonObject | undefined,
          metadata: opts.metadata ?? {},
        }),
        o,
      ),
    );
    const rec = recordFromWire(r.variable);
    cache.store(this.#scope, rec);
    const info = this.#scope.types.get(rec.name);
    if (info && info.compiled === undefined && info.id === rec.id) info.compiled = compiled ?? null;
    return rec as VariableRecord<T>;
  }

  /**
   * Sets a variable's value (version + 1) and returns the new record. The
   * value is validated locally against the variable's type when known (a
   * variable never seen by this client is read once to learn its type).
   * Not retried on failure unless `expectedVersion` guards it.
   */
  async set<T = unknown>(name: string, value: T, opts: SetOptions = {}): Promise<VariableRecord<T>> {
    return (await this.#write(
      name,
      value,
      opts,
      opts.expectedVersion === undefined ? 'write' : 'cas',
    )) as VariableRecord<T>;
  }

  async #write(name: string, value: unknown, opts: SetOptions, kind: 'write' | 'cas'): Promise<VariableRecord> {
    const expectedVersion = toBigInt('expectedVersion', opts.expectedVersion);
    const compiled = await this.#compiledFor([name], opts, false);
    const wire = encodeValue(name, compiled.get(name), value);
    const { rpc, cache } = this.#ctx;
    try {
      const r = await rpc.call(kind, opts, (o) =>
        rpc.variables.updateVariable(
          create(UpdateVariableRequestSchema, {
            sessionId: this.id,
            identifier: name,
            value: wire,
            metadata: opts.metadata ?? {},
            expectedVersion,
          }),
          o,
        ),
      );
      const rec = recordFromWire(r.variable);
      cache.store(this.#scope, rec);
      return rec;
    } catch (e) {
      this.#forgetOnError(name, e);
      throw e;
    }
  }

  /** A failed write says the cached entry is outdated (conflict) or gone (not found). */
  #forgetOnError(identifier: string, e: unknown): void {
    const name = this.#scope.nameOf(identifier);
    if (isBridgeError(e, 'VersionConflict')) this.#ctx.cache.invalidate(this.#scope, name, false);
    else if (isBridgeError(e, 'VariableNotFound')) this.#ctx.cache.invalidate(this.#scope, name, true);
  }

  /**
   * The compiled types of some variables (undefined for custom types): known
   * from a register or a prior read; the unknown ones are read in one round trip.
   */
  async #compiledFor(
    names: readonly string[],
    opts: CallOptions,
    batch: boolean,
  ): Promise<Map<string, CompiledType | undefined>> {
    const out = new Map<string, CompiledType | undefined>();
    const unknown: string[] = [];
    for (const n of names) {
      const c = this.#scope.compiledType(n);
      if (c === undefined) unknown.push(n);
      else out.set(n, c ?? undefined);
    }
    if (unknown.length > 0) {
      // A batch reports missing variables per key (server side); a single set fails right here.
      if (unknown.length === 1 && !batch) await this.getVariable(unknown[0] as string, opts);
      else await this.getVariables(unknown, opts);
      for (const n of unknown) out.set(n, this.#scope.compiledType(n) ?? undefined);
    }
    return out;
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
  async setMany(
    updates: Readonly<Record<string, unknown>> | readonly SetManyEntry[],
    opts: SetManyOptions = {},
  ): Promise<SetManyResult[]> {
    const atomic = opts.atomic ?? true;
    const list: SetManyEntry[] = Array.isArray(updates)
      ? (updates as SetManyEntry[])
      : Object.entries(updates).map(([name, value]) => ({ name, value }));
    const seen = new Set<string>();
    for (const u of list) {
      if (typeof u?.name !== 'string') throw new TypeError('each update needs a string name');
      if (seen.has(u.name)) {
        throw new BridgeError('InvalidArgument', `variable '${u.name}' appears more than once in the batch`);
      }
      seen.add(u.name);
    }
    if (list.length === 0) return [];
    const compiled = await this.#compiledFor(
      list.map((u) => u.name),
      opts,
      true,
    );
    const results: (SetManyResult | undefined)[] = new Array(list.length);
    const wire: { index: number; u: SetManyEntry; value: Value; expectedVersion: bigint | undefined }[] = [];
    const violations: BridgeFieldViolation[] = [];
    list.forEach((u, index) => {
      try {
        const expectedVersion = toBigInt('expectedVersion', u.expectedVersion);
        wire.push({ index, u, value: encodeValue(u.name, compiled.get(u.name), u.value), expectedVersion });
      } catch (e) {
        if (!isBridgeError(e)) throw e;
        violations.push(...(e.fieldViolations.length ? e.fieldViolations : [violationOf(u.name, e)]));
        results[index] = { name: u.name, ok: false, error: e };
      }
    });
    if (atomic && violations.length > 0) {
      throw localValidationError(
        `batch rejected: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`,
        violations,
      );
    }
    if (wire.length > 0) {
      const { rpc, cache } = this.#ctx;
      const allGuarded = wire.every((w) => w.expectedVersion !== undefined);
      let r;
      try {
        r = await rpc.call(allGuarded ? 'cas' : 'write', opts, (o) =>
          rpc.variables.updateVariables(
            create(UpdateVariablesRequestSchema, {
              sessionId: this.id,
              atomic,
              updates: wire.map((w) =>
                create(VariableUpdateSchema, {
                  identifier: w.u.name,
                  value: w.value,
                  metadata: w.u.metadata ?? {},
                  expectedVersion: w.expectedVersion,
                }),
              ),
            }),
            o,
          ),
        );
      } catch (e) {
        // Whatever failed, the cached entries of the batch may be outdated.
        for (const w of wire) cache.invalidate(this.#scope, this.#scope.nameOf(w.u.name), false);
        throw e;
      }
      r.results.forEach((res, i) => {
        const w = wire[i];
        if (w === undefined) return;
        if (res.outcome.case === 'variable') {
          const rec = recordFromWire(res.outcome.value);
          cache.store(this.#scope, rec);
          results[w.index] = { name: w.u.name, ok: true, variable: rec };
        } else {
          const error =
            res.outcome.case === 'error'
              ? bridgeErrorFromDetail(res.outcome.value)
              : new BridgeError('Internal', `the server sent no outcome for '${w.u.name}'`);
          this.#forgetOnError(w.u.name, error);
          results[w.index] = { name: w.u.name, ok: false, error };
        }
      });
    }
    return results.map(
      (r, i) =>
        r ?? {
          name: list[i]?.name ?? '',
          ok: false,
          error: new BridgeError('Internal', 'the server sent too few results'),
        },
    );
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
  async delete(name: string, opts?: CallOptions): Promise<void> {
    const { rpc, cache } = this.#ctx;
    try {
      await rpc.call('write', opts, (o) =>
        rpc.variables.deleteVariable(create(DeleteVariableRequestSchema, { sessionId: this.id, identifier: name }), o),
      );
    } catch (e) {
      this.#forgetOnError(name, e);
      throw e;
    }
    cache.invalidate(this.#scope, this.#scope.nameOf(name), true);
  }

  /** Writes the value the variable had at `version` as a new version; returns the new record. */
  async rollback<T = unknown>(name: string, version: number, opts: RollbackOptions = {}): Promise<VariableRecord<T>> {
    const v = toBigInt('version', version) as bigint;
    const expectedVersion = toBigInt('expectedVersion', opts.expectedVersion);
    const { rpc, cache } = this.#ctx;
    try {
      const r = await rpc.call(expectedVersion === undefined ? 'write' : 'cas', opts, (o) =>
        rpc.variables.rollbackVariable(
          create(RollbackVariableRequestSchema, { sessionId: this.id, identifier: name, version: v, expectedVersion }),
          o,
        ),
      );
      const rec = recordFromWire(r.variable);
      cache.store(this.#scope, rec);
      return rec as VariableRecord<T>;
    } catch (e) {
      this.#forgetOnError(name, e);
      throw e;
    }
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
  async update<T = unknown>(
    name: string,
    fn: (value: T, record: VariableRecord<T>) => T | Promise<T>,
    opts: UpdateOptions = {},
  ): Promise<VariableRecord<T>> {
    const maxAttempts = opts.maxAttempts ?? 100;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${String(opts.maxAttempts)}`);
    }
    const call: CallOptions = { timeoutMs: opts.timeoutMs, signal: opts.signal };
    let rec = (await this.getVariable<T>(name, call)) as VariableRecord<T>;
    for (let attempt = 1; ; attempt++) {
      const next = await fn(rec.value, rec);
      try {
        // Not retried on Unavailable: a lost reply could make a retry apply fn twice.
        return (await this.#write(
          name,
          next,
          { ...call, expectedVersion: rec.version, metadata: opts.metadata },
          'write',
        )) as VariableRecord<T>;
      } catch (e) {
        if (!isBridgeError(e, 'VersionConflict') || attempt >= maxAttempts) throw e;
      }
      if (attempt > 1)
        await sleep(
          backoffDelayMs({ ...this.#ctx.retry, initialDelayMs: 1, maxDelayMs: 50 }, attempt - 1),
          opts.signal,
        );
      rec = await this.getVariable<T>(name, { ...call, fresh: true });
    }
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
            if (ev.kind === 'deleted') cache.invalidate(scope, ev.variable.name, true, ev.revision);
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
  variable<T = unknown>(name: string): VariableHandle<T> {
    return new VariableHandle<T>(this, name);
  }
}

function violationOf(field: string, e: BridgeError): BridgeFieldViolation {
  return { field, constraint: e.type, description: e.message, expected: '', actual: '' };
}
