import { LRUCache } from 'lru-cache';
import type { CompiledType } from '@unified-bridge/types';
import { abortable } from '@unified-bridge/types/internal';
import { compileLocal, type VariableRecord } from './codec.js';
import { isBridgeError } from './errors.js';
import { cancelled } from './retry.js';
import type { CallOptions } from './rpc.js';

/** Every {@link CacheMode}: the one list the type is derived from. */
export const CACHE_MODES = Object.freeze(['ttl', 'watch'] as const);

/** How the read cache keeps entries fresh (see {@link CacheOptions.mode}). */
export type CacheMode = (typeof CACHE_MODES)[number];

/**
 * Read cache options (`createBridgeClient({ cache })`). The cache holds
 * variable records per session, reachable by name and by id.
 *
 * @example
 * ```ts
 * createBridgeClient({ baseUrl, protocol: 'grpc', cache: { mode: 'watch', maxEntries: 50_000 } });
 * ```
 */
export interface CacheOptions {
  /**
   * `"ttl"` (default): an entry is served for `ttlMs` after it was read or
   * written, so another client's write is visible after at most `ttlMs`.
   * `"watch"`: one WatchVariables stream per session keeps every entry fresh;
   * entries do not expire, and nothing is served from the cache while the
   * stream is not live.
   */
  mode?: CacheMode;
  /** How long an entry is served in `"ttl"` mode, in ms. Default 1000. */
  ttlMs?: number;
  /** The most entries kept (all sessions of the client together); least recently used go first. Default 10 000. */
  maxEntries?: number;
}

/** Counters of the read cache (`client.cache.stats()`). */
export interface CacheStats {
  /** Reads answered from the cache. */
  readonly hits: number;
  /** Reads that went to the server (concurrent cold reads of one key share one RPC but each counts). */
  readonly misses: number;
  /** hits / (hits + misses); 0 before any read. */
  readonly hitRate: number;
  /** Entries dropped to stay within `maxEntries`. */
  readonly evictions: number;
  /** Entries held now. */
  readonly size: number;
}

/** The public face of the read cache (`client.cache`). */
export interface BridgeCache {
  /** `"ttl"`, `"watch"`, or `"off"` when the client was created with `cache: false`. */
  readonly mode: CacheMode | 'off';
  /** Drops every entry (of one session when `sessionId` is given). Read-your-writes still holds afterwards. */
  clear(sessionId?: string): void;
  /** Sets the TTL of entries stored from now on, in ms (`"ttl"` mode). */
  setTtl(ttlMs: number): void;
  /** The hit/miss/eviction counters and the current size. */
  stats(): CacheStats;
}

/** Fetches one variable from the server (used on a cache miss). */
export type VariableFetcher = (identifier: string, call: CallOptions, signal: AbortSignal) => Promise<VariableRecord>;

/** What a session knows about one variable's type, for local validation. */
interface TypeInfo {
  readonly id: string;
  readonly type: string;
  readonly constraints: Readonly<Record<string, unknown>>;
  compiled?: CompiledType | null;
}

/**
 * The client-side state of one session: interned cache keys, id aliases,
 * the newest revision seen per name (the read-your-writes floor), the types
 * known for local validation, and whether its watch stream is live.
 */
export class SessionScope {
  /** name -> cache key (interned so a hit does not build a string). */
  readonly keys = new Map<string, string>();
  /** id -> name. */
  readonly ids = new Map<string, string>();
  /** name -> newest revision seen (written, read or watched); nothing older is ever stored. */
  readonly floors = new Map<string, number>();
  /** name -> type and constraints last seen. */
  readonly types = new Map<string, TypeInfo>();
  /** Served from the cache only while true (always true in "ttl" mode). */
  servable: boolean;
  readonly #prefix: string;

  constructor(
    /** The session id. */
    readonly sessionId: string,
    /** Reads one variable from the server. */
    readonly fetcher: VariableFetcher,
    /** `watchMode`: the cache is kept fresh by a watch stream, so nothing is served until it is live. */
    { watchMode }: { watchMode: boolean },
  ) {
    this.#prefix = `${sessionId}\u0000`;
    this.servable = !watchMode;
  }

  /** The cache key of a name. */
  key(name: string): string {
    let k = this.keys.get(name);
    if (k === undefined) {
      k = this.#prefix + name;
      this.keys.set(name, k);
    }
    return k;
  }

  /** The name an identifier (name or known id) refers to. */
  nameOf(identifier: string): string {
    return this.ids.get(identifier) ?? identifier;
  }

  /** Records that `rec` was seen: raises the floor, remembers the id and the type. */
  noteSeen(rec: VariableRecord): void {
    const floor = this.floors.get(rec.name);
    if (floor === undefined || rec.revision > floor) this.floors.set(rec.name, rec.revision);
    const t = this.types.get(rec.name);
    if (t === undefined || t.id !== rec.id) {
      if (t !== undefined && this.ids.get(t.id) === rec.name) this.ids.delete(t.id);
      this.ids.set(rec.id, rec.name);
      this.types.set(rec.name, { id: rec.id, type: rec.type, constraints: rec.constraints });
    }
  }

  /** True when `rec` is older than something this client has written or seen. */
  isOutdated(rec: VariableRecord): boolean {
    const floor = this.floors.get(rec.name);
    return floor !== undefined && rec.revision < floor;
  }

  /** Notes that a name was deleted after `revision` (or after the newest revision seen). */
  noteDeleted(name: string, revision?: number): void {
    const floor = this.floors.get(name) ?? 0;
    this.floors.set(name, Math.max(floor + (revision === undefined ? 1 : 0), revision ?? 0));
    // The id died with the variable: a re-registered one gets a new id.
    const t = this.types.get(name);
    if (t !== undefined && this.ids.get(t.id) === name) this.ids.delete(t.id);
    this.types.delete(name);
  }

  /**
   * The compiled type of a variable, if known: undefined when unknown (never
   * read or registered) and null for a type the local engine cannot check.
   * Throws a ValidationError when the known constraints do not compile.
   */
  compiledType(name: string): CompiledType | null | undefined {
    const t = this.types.get(this.nameOf(name));
    if (t === undefined) return undefined;
    if (t.compiled === undefined) t.compiled = compileLocal(name, t.type, t.constraints) ?? null;
    return t.compiled;
  }
}

/** Options of {@link VariableCache.read}. */
export interface ReadOptions extends CallOptions {
  /** Bypass a cached entry (the result is cached). Default false. */
  fresh?: boolean;
}

interface FetchContext {
  readonly scope: SessionScope;
  readonly identifier: string;
  readonly call: CallOptions;
}

/** Checks the `cache` option (TypeError/RangeError naming the option). */
export function resolveCacheOptions(cache: CacheOptions | boolean | undefined): Required<CacheOptions> | undefined {
  if (cache === false) return undefined;
  if (cache === undefined || cache === true) return { mode: 'ttl', ttlMs: 1000, maxEntries: 10_000 };
  if (typeof cache !== 'object' || cache === null) {
    throw new TypeError(`cache must be false, true or an object of CacheOptions, got ${String(cache)}`);
  }
  const mode = cache.mode ?? 'ttl';
  if (!CACHE_MODES.includes(mode)) {
    throw new TypeError(
      `cache.mode must be ${CACHE_MODES.map((m) => JSON.stringify(m)).join(' or ')}, got ${JSON.stringify(mode)}`,
    );
  }
  const ttlMs = cache.ttlMs ?? 1000;
  checkTtl('cache.ttlMs', ttlMs);
  const maxEntries = cache.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`cache.maxEntries must be a positive integer, got ${String(maxEntries)}`);
  }
  return { mode, ttlMs, maxEntries };
}

function checkTtl(name: string, ttlMs: unknown): void {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(ttlMs)}`);
  }
}

/** A monotonic clock in milliseconds, shaped like lru-cache's `perf` option. */
export interface CacheClock {
  /** The current time in ms (only differences matter). */
  now(): number;
}

let clockForTesting: CacheClock | undefined;

/**
 * Internal, for this package's unit specs only (not exported from the package entry): makes
 * caches created from now on read time from `clock` (and not debounce it), so TTL specs advance
 * time by hand instead of sleeping; `undefined` restores the real clock.
 */
export function setCacheClockForTesting(clock: CacheClock | undefined): void {
  clockForTesting = clock;
}

/** Attempts of a cold read whose fetch lru-cache aborted because the key was written or deleted meanwhile. */
const MAX_REFETCH = 8;

/**
 * The read cache of one client: an lru-cache whose `fetchMethod` coalesces
 * concurrent cold reads of a key into one RPC, plus the bookkeeping that
 * makes it never return a revision older than one the client has seen.
 */
export class VariableCache implements BridgeCache {
  readonly mode: CacheMode | 'off';
  readonly #lru: LRUCache<string, VariableRecord, FetchContext> | undefined;
  readonly #entryTtl: number | undefined;
  #scopes: ((sessionId: string) => SessionScope | undefined) | undefined;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(options: Required<CacheOptions> | undefined) {
    this.mode = options?.mode ?? 'off';
    // In watch mode entries live until the stream says otherwise (ttl 0 per entry).
    this.#entryTtl = this.mode === 'watch' ? 0 : undefined;
    this.#lru =
      options === undefined
        ? undefined
        : new LRUCache<string, VariableRecord, FetchContext>({
            max: options.maxEntries,
            ttl: options.ttlMs,
            ttlAutopurge: false,
            // A test clock is read on every check (lru-cache otherwise caches `now` for 1 ms).
            ...(clockForTesting === undefined ? {} : { perf: clockForTesting, ttlResolution: 0 }),
            updateAgeOnGet: false,
            allowStale: false,
            noDeleteOnStaleGet: false,
            // A failed read must not leave anything behind, nor serve a stale value.
            allowStaleOnFetchRejection: false,
            allowStaleOnFetchAbort: false,
            ignoreFetchAbort: false,
            dispose: (_v, _k, reason) => {
              if (reason === 'evict') this.#evictions++;
            },
            fetchMethod: (_key, _stale, { signal, context }) => this.#load(context, signal),
          });
  }

  /** The cached record of `identifier` (name or id), or undefined. Synchronous and allocation-free on a hit. */
  lookup(scope: SessionScope, identifier: string): VariableRecord | undefined {
    const lru = this.#lru;
    if (lru === undefined || !scope.servable) return undefined;
    let key = scope.keys.get(identifier);
    let rec = key === undefined ? undefined : lru.get(key);
    if (rec === undefined) {
      const name = scope.ids.get(identifier);
      if (name === undefined) return undefined;
      key = scope.keys.get(name);
      rec = key === undefined ? undefined : lru.get(key);
      if (rec === undefined || rec.id !== identifier) return undefined;
    }
    this.#hits++;
    return rec;
  }

  /**
   * Reads `identifier` from the server (a miss): concurrent cold reads of one
   * key share one RPC; `call.fresh` bypasses a cached entry.
   */
  async read(scope: SessionScope, identifier: string, call: ReadOptions): Promise<VariableRecord> {
    this.#misses++;
    let fresh = call.fresh === true;
    const lru = this.#lru;
    if (lru === undefined) {
      const rec = await scope.fetcher(identifier, call, call.signal ?? new AbortController().signal);
      scope.noteSeen(rec);
      return rec;
    }
    const { signal } = call;
    if (signal?.aborted) throw cancelled(signal);
    // A signal of this read only: a caller's long-lived signal shared by many
    // reads in flight gets no listener per read (no MaxListenersExceededWarning).
    const own = signal === undefined ? undefined : AbortSignal.any([signal]);
    const name = scope.nameOf(identifier);
    const key = scope.key(name);
    for (let attempt = 0; ; attempt++) {
      let rec: VariableRecord | undefined;
      try {
        // The shared fetch goes on for other readers when this caller gives up.
        rec = await abortable(
          lru.fetch(key, {
            context: { scope, identifier: name, call },
            forceRefresh: fresh || !scope.servable,
            ttl: this.#entryTtl,
          }),
          own,
          cancelled,
        );
      } catch (e) {
        if (isBridgeError(e) || attempt >= MAX_REFETCH) throw e;
        // lru-cache aborted the shared fetch because the key was written or
        // deleted meanwhile: what is cached now is at least as new.
        rec = undefined;
      }
      if (rec !== undefined) return rec;
      // Either the identifier was an id (stored under its name), or the fetch was superseded.
      const now = this.#peekNamed(scope, scope.nameOf(identifier));
      if (now !== undefined) return now;
      fresh = false;
    }
  }

  #peekNamed(scope: SessionScope, name: string): VariableRecord | undefined {
    const key = scope.keys.get(name);
    return key === undefined ? undefined : this.#lru?.get(key);
  }

  /** The fetchMethod: one RPC, re-read while older than the floor, ids stored under their name. */
  async #load(context: FetchContext, signal: AbortSignal): Promise<VariableRecord | undefined> {
    const { scope, identifier, call } = context;
    let rec = await scope.fetcher(identifier, call, signal);
    for (let i = 0; i < 3 && scope.isOutdated(rec) && !signal.aborted; i++) {
      rec = await scope.fetcher(identifier, call, signal);
    }
    if (signal.aborted) return undefined;
    if (rec.name !== identifier) {
      // Looked up by id: keep one entry, under the name.
      this.store(scope, rec);
      return undefined;
    }
    scope.noteSeen(rec);
    return rec;
  }

  /** Stores a record the client received (write reply, read, watch event) unless it is older than one seen. */
  store(scope: SessionScope, rec: VariableRecord): void {
    if (scope.isOutdated(rec)) return;
    scope.noteSeen(rec);
    this.#lru?.set(scope.key(rec.name), rec, { ttl: this.#entryTtl });
  }

  /** Drops a name's entry (it may be outdated). */
  invalidate(scope: SessionScope, name: string): void {
    const key = scope.keys.get(name);
    if (key !== undefined) this.#lru?.delete(key);
  }

  /** Drops a name's entry and notes that the variable was deleted (at `revision` when known). */
  markDeleted(scope: SessionScope, name: string, revision?: number): void {
    this.invalidate(scope, name);
    scope.noteDeleted(name, revision);
  }

  /** Drops every entry of a session (the floors stay: read-your-writes still holds). */
  clearScope(scope: SessionScope): void {
    const lru = this.#lru;
    if (lru === undefined) return;
    for (const key of scope.keys.values()) lru.delete(key);
  }

  /** Lets `clear(sessionId)` find a session's scope. */
  attachScopes(find: (sessionId: string) => SessionScope | undefined): void {
    this.#scopes = find;
  }

  clear(sessionId?: string): void {
    if (sessionId === undefined) {
      this.#lru?.clear();
      return;
    }
    const scope = this.#scopes?.(sessionId);
    if (scope) this.clearScope(scope);
  }

  setTtl(ttlMs: number): void {
    checkTtl('ttlMs', ttlMs);
    if (this.#lru) this.#lru.ttl = ttlMs;
  }

  stats(): CacheStats {
    const total = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      hitRate: total === 0 ? 0 : this.#hits / total,
      evictions: this.#evictions,
      size: this.#lru?.size ?? 0,
    };
  }
}
