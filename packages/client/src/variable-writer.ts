import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import {
  DeleteVariableRequestSchema,
  RegisterVariableRequestSchema,
  RollbackVariableRequestSchema,
  UpdateVariableRequestSchema,
  UpdateVariablesRequestSchema,
} from '@unified-bridge/proto';
import type { CompiledType } from '@unified-bridge/types';
import { batchEntries, batchOutcomes, batchRejected, encodeBatch } from './batch.js';
import type { SessionScope, VariableCache } from './cache.js';
import { compileLocal, encodeValue, recordFromWire, versionToWire, type VariableRecord } from './codec.js';
import { isBridgeError } from './errors.js';
import { backoffDelayMs, sleep, type RetryPolicy } from './retry.js';
import type { CallKind, CallOptions, Rpc } from './rpc.js';
import type * as Options from './session-options.js';

/** What the writes of a session need of its reads (to learn the types of variables never seen). */
export interface VariableReads {
  /** See `session.getVariable`. */
  getVariable<T = unknown>(name: string, opts?: Options.GetOptions): Promise<VariableRecord<T>>;
  /** See `session.getVariables`. */
  getVariables(names: readonly string[], opts?: CallOptions): Promise<Map<string, VariableRecord>>;
}

/** What a {@link VariableWriter} shares with its session. */
export interface WriterContext {
  readonly sessionId: string;
  readonly rpc: Rpc;
  readonly cache: VariableCache;
  readonly retry: RetryPolicy;
  readonly scope: SessionScope;
  readonly reads: VariableReads;
}

/**
 * The writes of one session (register, set, setMany, delete, rollback,
 * update): each validates locally, makes its call and updates the cache from
 * the reply, or drops what a failure shows to be outdated. `Session`'s write
 * methods delegate here.
 */
export class VariableWriter {
  readonly #ctx: WriterContext;

  constructor(ctx: WriterContext) {
    this.#ctx = ctx;
  }

  /** See `session.register`. */
  async register<T>(name: string, type: string, initial: T, opts: Options.RegisterOptions): Promise<VariableRecord<T>> {
    if (typeof name !== 'string' || typeof type !== 'string') throw new TypeError('name and type must be strings');
    const compiled = compileLocal(name, type, opts.constraints);
    const value = encodeValue(name, compiled, initial);
    const { rpc, cache, scope, sessionId } = this.#ctx;
    const r = await rpc.call('write', opts, (o) =>
      rpc.variables.registerVariable(
        create(RegisterVariableRequestSchema, {
          sessionId,
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
    cache.store(scope, rec);
    const info = scope.types.get(rec.name);
    if (info && info.compiled === undefined && info.id === rec.id) info.compiled = compiled ?? null;
    return rec as VariableRecord<T>;
  }

  /** See `session.set`: a write guarded by `expectedVersion` is a `cas` call (retried on Unavailable). */
  set<T>(name: string, value: T, opts: Options.SetOptions): Promise<VariableRecord<T>> {
    return this.#write(name, value, opts, opts.expectedVersion === undefined ? 'write' : 'cas') as Promise<
      VariableRecord<T>
    >;
  }

  async #write(name: string, value: unknown, opts: Options.SetOptions, kind: CallKind): Promise<VariableRecord> {
    const expectedVersion = versionToWire('expectedVersion', opts.expectedVersion);
    const compiled = await this.#compiledFor([name], opts, { batch: false });
    const wire = encodeValue(name, compiled.get(name), value);
    const { rpc, cache, scope, sessionId } = this.#ctx;
    try {
      const r = await rpc.call(kind, opts, (o) =>
        rpc.variables.updateVariable(
          create(UpdateVariableRequestSchema, {
            sessionId,
            identifier: name,
            value: wire,
            metadata: opts.metadata ?? {},
            expectedVersion,
          }),
          o,
        ),
      );
      const rec = recordFromWire(r.variable);
      cache.store(scope, rec);
      return rec;
    } catch (e) {
      this.#forgetOnError(name, e);
      throw e;
    }
  }

  /** A failed write says the cached entry is outdated (conflict) or gone (not found). */
  #forgetOnError(identifier: string, e: unknown): void {
    const { cache, scope } = this.#ctx;
    const name = scope.nameOf(identifier);
    if (isBridgeError(e, 'VersionConflict')) cache.invalidate(scope, name);
    else if (isBridgeError(e, 'VariableNotFound')) cache.markDeleted(scope, name);
  }

  /**
   * The compiled types of some variables (undefined for custom types): known
   * from a register or a prior read; the unknown ones are read in one round trip.
   * A batch reports missing variables per key (server side), so its unknown
   * variables are read with a batch get; a single set fails right here.
   */
  async #compiledFor(
    names: readonly string[],
    opts: CallOptions,
    { batch }: { batch: boolean },
  ): Promise<Map<string, CompiledType | undefined>> {
    const { scope, reads } = this.#ctx;
    const out = new Map<string, CompiledType | undefined>();
    const unknown: string[] = [];
    for (const n of names) {
      const c = scope.compiledType(n);
      if (c === undefined) unknown.push(n);
      else out.set(n, c ?? undefined);
    }
    if (unknown.length > 0) {
      if (unknown.length === 1 && !batch) await reads.getVariable(unknown[0] as string, opts);
      else await reads.getVariables(unknown, opts);
      for (const n of unknown) out.set(n, scope.compiledType(n) ?? undefined);
    }
    return out;
  }

  /** See `session.setMany`. */
  async setMany(
    updates: Readonly<Record<string, unknown>> | readonly Options.SetManyEntry[],
    opts: Options.SetManyOptions,
  ): Promise<Options.SetManyResult[]> {
    const atomic = opts.atomic ?? true;
    const entries = batchEntries(updates);
    if (entries.length === 0) return [];
    const compiled = await this.#compiledFor(
      entries.map((u) => u.name),
      opts,
      { batch: true },
    );
    const batch = encodeBatch(entries, compiled);
    if (atomic && batch.violations.length > 0) throw batchRejected(batch.violations);
    if (batch.updates.length === 0) return batchOutcomes(batch, []).results;
    const { rpc, cache, scope, sessionId } = this.#ctx;
    let r;
    try {
      r = await rpc.call(batch.guarded ? 'cas' : 'write', opts, (o) =>
        rpc.variables.updateVariables(
          create(UpdateVariablesRequestSchema, { sessionId, atomic, updates: batch.updates.map((u) => u.update) }),
          o,
        ),
      );
    } catch (e) {
      // Whatever failed, the cached entries of the batch may be outdated.
      for (const u of batch.updates) cache.invalidate(scope, scope.nameOf(u.name));
      throw e;
    }
    const outcomes = batchOutcomes(batch, r.results);
    for (const c of outcomes.changes) {
      if (c.ok) cache.store(scope, c.variable);
      else this.#forgetOnError(c.name, c.error);
    }
    return outcomes.results;
  }

  /** See `session.delete`. */
  async delete(name: string, opts?: CallOptions): Promise<void> {
    const { rpc, cache, scope, sessionId } = this.#ctx;
    try {
      await rpc.call('write', opts, (o) =>
        rpc.variables.deleteVariable(create(DeleteVariableRequestSchema, { sessionId, identifier: name }), o),
      );
    } catch (e) {
      this.#forgetOnError(name, e);
      throw e;
    }
    cache.markDeleted(scope, scope.nameOf(name));
  }

  /** See `session.rollback`. */
  async rollback<T>(name: string, version: number, opts: Options.RollbackOptions): Promise<VariableRecord<T>> {
    const v = versionToWire('version', version) as bigint;
    const expectedVersion = versionToWire('expectedVersion', opts.expectedVersion);
    const { rpc, cache, scope, sessionId } = this.#ctx;
    try {
      const r = await rpc.call(expectedVersion === undefined ? 'write' : 'cas', opts, (o) =>
        rpc.variables.rollbackVariable(
          create(RollbackVariableRequestSchema, { sessionId, identifier: name, version: v, expectedVersion }),
          o,
        ),
      );
      const rec = recordFromWire(r.variable);
      cache.store(scope, rec);
      return rec as VariableRecord<T>;
    } catch (e) {
      this.#forgetOnError(name, e);
      throw e;
    }
  }

  /** See `session.update`. */
  async update<T>(
    name: string,
    fn: (value: T, record: VariableRecord<T>) => T | Promise<T>,
    opts: Options.UpdateOptions,
  ): Promise<VariableRecord<T>> {
    const maxAttempts = opts.maxAttempts ?? 100;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${String(opts.maxAttempts)}`);
    }
    const { reads, retry } = this.#ctx;
    const call: CallOptions = { timeoutMs: opts.timeoutMs, signal: opts.signal };
    let rec = await reads.getVariable<T>(name, call);
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
        await sleep(backoffDelayMs({ ...retry, initialDelayMs: 1, maxDelayMs: 50 }, attempt - 1), opts.signal);
      rec = await reads.getVariable<T>(name, { ...call, fresh: true });
    }
  }
}
