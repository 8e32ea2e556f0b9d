import { randomBytes, randomUUID } from 'node:crypto';
import type { CompiledType, Constraints } from '@unified-bridge/types';
import { EMPTY_METADATA, checkMetadata, checkName, checkVersion, mergeMetadata } from './internal/checks.js';
import { DEFAULT_TYPE_ENGINE, toStoreViolation, type StoreTypeEngine } from './internal/engine.js';
import { compileGlob } from './internal/glob.js';
import { decodePageToken, encodePageToken, resolvePageSize } from './internal/paging.js';
import { copyValue, frozenJsonCopy, snapshotValue } from './internal/values.js';
import { Watcher, doneIterator, failedIterator } from './internal/watcher.js';
import { upperBound } from './memory/name-index.js';
import { Ring } from './memory/ring.js';
import { DEFAULT_STORE_LIMITS, STORE_RULES, type StoreLimits } from './limits.js';
import type {
  Clock,
  StoreCreateSessionOptions,
  GetHistoryOptions,
  StoredHistoryEntry,
  StoreListSessionsOptions,
  ListVariablesOptions,
  Metadata,
  ModifyVariableOptions,
  Page,
  PageOptions,
  RegisterVariableInput,
  RollbackVariableOptions,
  SessionRecord,
  SessionStore,
  ToolInput,
  ToolRecord,
  UpdateVariableOptions,
  UpdateVariablesOptions,
  StoredVariable,
  VariableUpdate,
  VariableUpdateResult,
  WatchEvent,
  WatchEventKind,
  StoreWatchOptions,
} from './session-store.js';
import { StoreError, isStoreError, type StoreViolation } from './store-error.js';

export type { StoreTypeEngine } from './internal/engine.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Limits; missing fields take {@link DEFAULT_STORE_LIMITS}. */
  limits?: Partial<StoreLimits>;
  /** Time source for TTLs and timestamps. Default `Date.now`. Inject one in tests to expire sessions without sleeping. */
  clock?: Clock;
  /**
   * How often the expiry sweep runs, in ms. Default 10,000; 0 disables the
   * timer (expired sessions are still refused on use; call `sweepExpired()`
   * to end their watchers). The timer is `unref`ed: it never keeps the process alive.
   */
  sweepIntervalMs?: number;
  /** The types engine. Default: `@unified-bridge/types`. */
  engine?: StoreTypeEngine;
}

/** Per-variable state. The record is an immutable snapshot replaced on each write. */
class Slot {
  /** Past versions, oldest first, flattened: [version, value, updatedAt, metadata]*; null until the first write. */
  history: unknown[] | null = null;
  constructor(
    public rec: StoredVariable,
    public compiled: CompiledType,
    /** Metadata given with the write of the current version. */
    public writeMeta: Metadata,
    /** The value holds unfreezable parts (binary): copy it on every read. */
    public mutable: boolean,
  ) {}
}

/** Per-session state (internal; not the public `SessionRecord`). */
class SessionState {
  readonly vars = new Map<string, Slot>();
  /** Names sorted (may still hold deleted names until the next rebuild). */
  sorted: string[] = [];
  /** Names added since the last rebuild of `sorted`. */
  added: string[] = [];
  deletedSinceSort = 0;
  revision = 0;
  readonly window: Ring<WatchEvent>;
  readonly watchers = new Set<Watcher>();
  readonly tools = new Map<string, ToolRecord>();
  constructor(
    readonly id: string,
    readonly owner: string,
    readonly metadata: Metadata,
    readonly createdAt: number,
    public lastUsedAt: number,
    readonly ttlMs: number,
    watchWindow: number,
  ) {
    this.window = new Ring(watchWindow);
  }
}

interface PreparedWrite {
  slot: Slot;
  value: unknown;
  mutable: boolean;
  writeMeta: Metadata;
  metadata: Metadata;
}

const LIMIT_KEYS = Object.keys(DEFAULT_STORE_LIMITS) as (keyof StoreLimits)[];

/**
 * The in-memory {@link SessionStore}: the embedded default. Everything lives
 * in this process; every operation runs synchronously inside its async method,
 * so operations on a session are linearizable without locks. Reads return the
 * stored immutable snapshot (no copy) except for binary values, which are
 * copied. History is kept lazily (no allocation until a variable's first
 * update) and compiled types are shared through the engine's cache.
 *
 * @example
 * await using store = new MemoryStore();
 * const s = await store.createSession();
 * await store.registerVariable(s.id, { name: 'temperature', type: 'float', value: 0.7, constraints: { min: 0, max: 2 } });
 * const v = await store.updateVariable(s.id, 'temperature', 0.9); // v.version === 1
 */
export class MemoryStore implements SessionStore {
  /** The limits in force (defaults merged with the options), frozen. */
  readonly limits: Readonly<StoreLimits>;
  private readonly clock: Clock;
  private readonly engine: StoreTypeEngine;
  private readonly sessions = new Map<string, SessionState>();
  /**
   * Owners of sessions that expired, by id (bounded, oldest dropped first), so
   * later use says SessionExpired and names the owner (the server shows
   * SessionExpired only to the session's owner).
   */
  private readonly expired = new Map<string, string>();
  private readonly globalTools = new Map<string, ToolRecord>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  /** Creates an empty store; see {@link MemoryStoreOptions}. Throws a RangeError naming a bad option. */
  constructor(options: MemoryStoreOptions = {}) {
    const limits: StoreLimits = { ...DEFAULT_STORE_LIMITS };
    for (const [key, value] of Object.entries(options.limits ?? {})) {
      if (!(LIMIT_KEYS as string[]).includes(key)) {
        throw new RangeError(`MemoryStore: unknown limit "${key}"; known limits are ${LIMIT_KEYS.join(', ')}`);
      }
      if (value === undefined) continue;
      const min = key === 'sessionTtlMs' || key === 'watcherBufferSize' ? 1 : 0;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
        throw new RangeError(`MemoryStore: limits.${key} must be an integer >= ${min}, got ${String(value)}`);
      }
      limits[key as keyof StoreLimits] = value;
    }
    this.limits = Object.freeze(limits);
    this.clock = options.clock ?? { now: Date.now };
    this.engine = options.engine ?? DEFAULT_TYPE_ENGINE;
    const interval = options.sweepIntervalMs ?? 10_000;
    if (typeof interval !== 'number' || !Number.isSafeInteger(interval) || interval < 0) {
      throw new RangeError(
        `MemoryStore: sweepIntervalMs must be an integer >= 0 (0 disables the timer), got ${String(interval)}`,
      );
    }
    if (interval > 0) {
      this.timer = setInterval(() => this.sweepExpired(), interval);
      this.timer.unref();
    }
  }

  /**
   * Expires every session whose idle TTL has passed: removes its state, ends
   * its watchers with `SessionExpired`. Runs on the sweep timer; call it
   * directly in tests that move an injected clock. Returns how many expired.
   */
  sweepExpired(): number {
    if (this.closed) return 0;
    const now = this.clock.now();
    let n = 0;
    for (const s of this.sessions.values()) {
      if (now >= s.lastUsedAt + s.ttlMs) {
        this.expire(s);
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- sessions

  async createSession(options: StoreCreateSessionOptions = {}): Promise<SessionRecord> {
    this.assertOpen();
    const { id: wanted, ttlMs, metadata, owner = '' } = options;
    let id: string;
    if (wanted === undefined || wanted === '') {
      do id = `sess_${randomUUID().replaceAll('-', '')}`;
      while (this.sessions.has(id));
    } else {
      if (typeof wanted !== 'string' || !STORE_RULES.sessionIdPattern.test(wanted)) {
        throw new StoreError(
          'InvalidArgument',
          `invalid session id ${JSON.stringify(wanted)}: use 1-128 characters of [A-Za-z0-9_.:-]`,
          {
            details: { field: 'id' },
          },
        );
      }
      id = wanted;
    }
    let ttl = this.limits.sessionTtlMs;
    if (ttlMs !== undefined && ttlMs !== 0) {
      if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
        throw new StoreError('InvalidArgument', `ttlMs must be a positive integer, got ${String(ttlMs)}`, {
          details: { field: 'ttlMs' },
        });
      }
      ttl = ttlMs;
    }
    if (typeof owner !== 'string' || (owner !== '' && !STORE_RULES.ownerPattern.test(owner))) {
      throw new StoreError('InvalidArgument', 'owner must be 1-128 characters of [A-Za-z0-9_.:-] or empty', {
        details: { field: 'owner' },
      });
    }
    const meta = checkMetadata(metadata);
    const now = this.clock.now();
    const existing = this.sessions.get(id);
    if (existing !== undefined) {
      if (now < existing.lastUsedAt + existing.ttlMs) {
        throw new StoreError('AlreadyExists', `session ${id} already exists`, { details: { session: id } });
      }
      this.expire(existing);
    }
    if (this.sessions.size >= this.limits.maxSessions) {
      this.sweepExpired();
      if (this.sessions.size >= this.limits.maxSessions) {
        throw this.exhausted('maxSessions', `the store already holds ${this.limits.maxSessions} sessions`);
      }
    }
    this.expired.delete(id);
    const s = new SessionState(id, owner, meta, now, now, ttl, this.limits.watchWindow);
    this.sessions.set(id, s);
    return this.sessionRecord(s);
  }

  async getSession(sessionId: string): Promise<SessionRecord> {
    return this.sessionRecord(this.use(sessionId));
  }

  async touchSession(sessionId: string): Promise<SessionRecord> {
    return this.sessionRecord(this.use(sessionId));
  }

  async closeSession(sessionId: string): Promise<void> {
    const s = this.use(sessionId);
    this.sessions.delete(s.id);
    this.endWatchers(
      s,
      new StoreError('SessionNotFound', `session ${s.id} was closed`, { details: { session: s.id, reason: 'closed' } }),
    );
  }

  async listSessions(
    options: StoreListSessionsOptions = {},
  ): Promise<Page & { readonly sessions: readonly SessionRecord[] }> {
    this.assertOpen();
    const pageSize = resolvePageSize(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const now = this.clock.now();
    const ids: string[] = [];
    for (const s of this.sessions.values()) {
      if (now >= s.lastUsedAt + s.ttlMs) continue;
      if (options.owner !== undefined && s.owner !== options.owner) continue;
      if (after !== undefined && s.id <= after) continue;
      ids.push(s.id);
    }
    ids.sort(compareStrings);
    const page = ids.slice(0, pageSize);
    const sessions = page.map((id) => this.sessionRecord(this.sessions.get(id) as SessionState));
    const last = page[page.length - 1];
    return { sessions, nextPageToken: ids.length > pageSize && last !== undefined ? encodePageToken(last) : '' };
  }

  // --------------------------------------------------------------- variables

  async registerVariable(sessionId: string, input: RegisterVariableInput): Promise<StoredVariable> {
    const s = this.use(sessionId);
    if (typeof input !== 'object' || input === null) {
      throw new StoreError('InvalidArgument', 'registerVariable needs { name, type, value }');
    }
    const name = checkName(input.name, 'variable');
    if (typeof input.type !== 'string' || input.type === '') {
      throw new StoreError('InvalidArgument', 'type must be a non-empty string', { details: { field: 'type' } });
    }
    const constraints = input.constraints ?? {};
    if (typeof constraints !== 'object' || constraints === null || Array.isArray(constraints)) {
      throw new StoreError('InvalidArgument', 'constraints must be a JSON object', {
        details: { field: 'constraints' },
      });
    }
    const meta = checkMetadata(input.metadata);
    if (s.vars.has(name)) {
      throw new StoreError('AlreadyExists', `variable ${name} already exists in session ${s.id}`, {
        details: { session: s.id, variable: name },
      });
    }
    if (s.vars.size >= this.limits.maxVariablesPerSession) {
      throw this.exhausted(
        'maxVariablesPerSession',
        `session ${s.id} already holds ${this.limits.maxVariablesPerSession} variables`,
      );
    }
    const compiled = this.compile(input.type, constraints);
    const { value, mutable } = this.validate(compiled, input.value, name);
    const now = this.clock.now();
    const revision = ++s.revision;
    const rec: StoredVariable = Object.freeze({
      id: flat(`var_${name}_${randomSuffix()}`),
      name,
      type: compiled.type,
      value,
      constraints: compiled.constraints,
      metadata: meta,
      version: 0,
      revision,
      createdAt: now,
      updatedAt: now,
    });
    const slot = new Slot(rec, compiled, meta, mutable);
    s.vars.set(name, slot);
    s.added.push(name);
    this.maybeCompactIndex(s);
    this.emit(s, 'created', slot, revision);
    return this.out(slot);
  }

  async getVariable(sessionId: string, identifier: string): Promise<StoredVariable> {
    const s = this.use(sessionId);
    return this.out(this.require(s, identifier));
  }

  async getVariables(
    sessionId: string,
    identifiers: readonly string[],
  ): Promise<{ readonly found: ReadonlyMap<string, StoredVariable>; readonly missing: readonly string[] }> {
    const s = this.use(sessionId);
    if (!Array.isArray(identifiers)) throw new StoreError('InvalidArgument', 'identifiers must be an array of strings');
    const found = new Map<string, StoredVariable>();
    const missing: string[] = [];
    for (const ident of identifiers) {
      const slot = this.find(s, ident);
      if (slot === undefined) missing.push(ident);
      else found.set(ident, this.out(slot));
    }
    return { found, missing };
  }

  async updateVariable(
    sessionId: string,
    identifier: string,
    value: unknown,
    options: UpdateVariableOptions = {},
  ): Promise<StoredVariable> {
    const s = this.use(sessionId);
    const prepared = this.prepare(s, identifier, value, options.expectedVersion, options.metadata);
    const slot = this.apply(s, prepared, 'updated');
    return this.out(slot);
  }

  async updateVariables(
    sessionId: string,
    updates: readonly VariableUpdate[],
    options: UpdateVariablesOptions,
  ): Promise<readonly VariableUpdateResult[]> {
    const s = this.use(sessionId);
    if (!Array.isArray(updates)) throw new StoreError('InvalidArgument', 'updates must be an array');
    if (typeof options?.atomic !== 'boolean') {
      throw new StoreError('InvalidArgument', 'options.atomic must be true or false', { details: { field: 'atomic' } });
    }
    // Reject duplicates first: the same identifier, or two identifiers of one variable.
    const seen = new Map<string, string>();
    for (const u of updates) {
      if (typeof u !== 'object' || u === null || typeof u.identifier !== 'string') {
        throw new StoreError('InvalidArgument', 'every update needs a string identifier', {
          details: { field: 'identifier' },
        });
      }
      const key = this.find(s, u.identifier)?.rec.name ?? `\u0000${u.identifier}`;
      const prev = seen.get(key);
      if (prev !== undefined) {
        throw new StoreError(
          'InvalidArgument',
          `updates ${JSON.stringify(prev)} and ${JSON.stringify(u.identifier)} name the same variable; a batch may update a variable once`,
          {
            details: { field: 'identifier', identifier: u.identifier },
          },
        );
      }
      seen.set(key, u.identifier);
    }
    const outcomes: (PreparedWrite | StoreError)[] = updates.map((u) => {
      try {
        return this.prepare(s, u.identifier, u.value, u.expectedVersion, u.metadata);
      } catch (err) {
        if (isStoreError(err)) return err;
        throw err;
      }
    });
    if (options.atomic) {
      const failures = outcomes
        .map((o, i) => ({ o, identifier: (updates[i] as VariableUpdate).identifier }))
        .filter((x): x is { o: StoreError; identifier: string } => x.o instanceof StoreError);
      const first = failures[0];
      if (first !== undefined) {
        const violations: StoreViolation[] = [];
        for (const { o, identifier } of failures) {
          if (o.violations.length > 0) {
            for (const v of o.violations) violations.push({ ...v, field: identifier });
          } else {
            violations.push({ field: identifier, constraint: o.type, message: o.message });
          }
        }
        throw new StoreError(
          first.o.type,
          `atomic batch rejected, nothing was applied: ${failures.length} of ${updates.length} updates failed (${failures
            .map((f) => `${f.identifier}: ${f.o.message}`)
            .join('; ')})`,
          {
            violations,
            details: { ...first.o.details, failed: String(failures.length) },
            currentVersion: failures.length === 1 ? first.o.currentVersion : undefined,
            limit: failures.length === 1 ? first.o.limit : undefined,
          },
        );
      }
    }
    const results: VariableUpdateResult[] = [];
    const events: WatchEvent[] = [];
    outcomes.forEach((o, i) => {
      const identifier = (updates[i] as VariableUpdate).identifier;
      if (o instanceof StoreError) {
        results.push({ identifier, ok: false, error: o });
      } else {
        const slot = this.apply(s, o, 'updated', events);
        results.push({ identifier, ok: true, variable: this.out(slot) });
      }
    });
    this.broadcast(s, events);
    return results;
  }

  async deleteVariable(sessionId: string, identifier: string): Promise<StoredVariable> {
    const s = this.use(sessionId);
    const slot = this.require(s, identifier);
    s.vars.delete(slot.rec.name);
    s.deletedSinceSort++;
    this.maybeCompactIndex(s);
    const revision = ++s.revision;
    this.emit(s, 'deleted', slot, revision);
    return this.out(slot);
  }

  async listVariables(
    sessionId: string,
    options: ListVariablesOptions = {},
  ): Promise<Page & { readonly variables: readonly StoredVariable[] }> {
    const s = this.use(sessionId);
    const pageSize = resolvePageSize(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const match = compileGlob(options.pattern ?? '');
    const names = this.sortedNames(s);
    const variables: StoredVariable[] = [];
    let i = after === undefined ? 0 : upperBound(names, after);
    let last: string | undefined;
    for (; i < names.length; i++) {
      const name = names[i] as string;
      if (!match(name)) continue;
      if (variables.length === pageSize) {
        return { variables, nextPageToken: encodePageToken(last as string) };
      }
      variables.push(this.out(s.vars.get(name) as Slot));
      last = name;
    }
    return { variables, nextPageToken: '' };
  }

  async getHistory(
    sessionId: string,
    identifier: string,
    options: GetHistoryOptions = {},
  ): Promise<readonly StoredHistoryEntry[]> {
    const s = this.use(sessionId);
    const slot = this.require(s, identifier);
    const limit = options.limit ?? 0;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
      throw new StoreError('InvalidArgument', `limit must be a non-negative integer, got ${String(limit)}`, {
        details: { field: 'limit' },
      });
    }
    const depth = this.limits.historyDepth;
    const max = limit === 0 ? depth : Math.min(limit, depth);
    const entries: StoredHistoryEntry[] = [];
    if (max === 0) return entries;
    const { rec } = slot;
    entries.push(this.historyEntry(rec.version, rec.value, rec.updatedAt, slot.writeMeta, slot.mutable));
    const h = slot.history;
    if (h !== null) {
      for (let i = h.length - 4; i >= 0 && entries.length < max; i -= 4) {
        entries.push(
          this.historyEntry(h[i] as number, h[i + 1], h[i + 2] as number, h[i + 3] as Metadata, slot.mutable),
        );
      }
    }
    return entries;
  }

  async rollbackVariable(
    sessionId: string,
    identifier: string,
    version: number,
    options: RollbackVariableOptions = {},
  ): Promise<StoredVariable> {
    const s = this.use(sessionId);
    const slot = this.require(s, identifier);
    const target = checkVersion(version, 'version');
    if (target === undefined)
      throw new StoreError('InvalidArgument', 'version is required', { details: { field: 'version' } });
    this.checkExpected(slot, checkVersion(options.expectedVersion, 'expectedVersion'));
    let value: unknown;
    let found = false;
    if (this.limits.historyDepth > 0 && target === slot.rec.version) {
      value = slot.rec.value;
      found = true;
    } else if (slot.history !== null) {
      const h = slot.history;
      for (let i = 0; i < h.length; i += 4) {
        if (h[i] === target) {
          value = h[i + 1];
          found = true;
          break;
        }
      }
    }
    if (!found) {
      throw new StoreError(
        'VariableNotFound',
        `version ${target} of variable ${slot.rec.name} is not in its retained history`,
        {
          details: { session: s.id, variable: slot.rec.name, version: String(target) },
        },
      );
    }
    const slotAfter = this.apply(
      s,
      { slot, value, mutable: slot.mutable, writeMeta: EMPTY_METADATA, metadata: slot.rec.metadata },
      'rolled_back',
    );
    return this.out(slotAfter);
  }

  async modifyVariable(
    sessionId: string,
    identifier: string,
    fn: (current: StoredVariable) => unknown,
    options: ModifyVariableOptions = {},
  ): Promise<StoredVariable> {
    if (typeof fn !== 'function') throw new StoreError('InvalidArgument', 'fn must be a function');
    const maxRetries = options.maxRetries ?? STORE_RULES.defaultModifyRetries;
    if (typeof maxRetries !== 'number' || !Number.isSafeInteger(maxRetries) || maxRetries < 0) {
      throw new StoreError('InvalidArgument', `maxRetries must be a non-negative integer, got ${String(maxRetries)}`);
    }
    for (let attempt = 0; ; attempt++) {
      const s = this.use(sessionId);
      const current = this.out(this.require(s, identifier));
      let next = fn(current);
      // A synchronous fn runs inside this critical section: it cannot conflict.
      if (isThenable(next)) next = await next;
      try {
        const s2 = this.use(sessionId);
        const prepared = this.prepare(s2, current.id, next, current.version, options.metadata);
        return this.out(this.apply(s2, prepared, 'updated'));
      } catch (err) {
        if (isStoreError(err, 'VersionConflict') && attempt < maxRetries) continue;
        throw err;
      }
    }
  }

  watch(sessionId: string, options: StoreWatchOptions = {}): AsyncIterable<WatchEvent> {
    return { [Symbol.asyncIterator]: () => this.subscribe(sessionId, options) };
  }

  // ------------------------------------------------------------------- tools

  async registerTool(sessionId: string | null, tool: ToolInput): Promise<ToolRecord> {
    const s = sessionId === null ? null : this.use(sessionId);
    if (sessionId === null) this.assertOpen();
    if (typeof tool !== 'object' || tool === null)
      throw new StoreError('InvalidArgument', 'registerTool needs { name, owner }');
    const name = checkName(tool.name, 'tool');
    const owner = tool.owner;
    if (typeof owner !== 'string' || !STORE_RULES.ownerPattern.test(owner)) {
      throw new StoreError(
        'InvalidArgument',
        'tool owner must be "host" or a worker id of 1-128 characters of [A-Za-z0-9_.:-]',
        {
          details: { field: 'owner' },
        },
      );
    }
    const description = tool.description ?? '';
    if (typeof description !== 'string')
      throw new StoreError('InvalidArgument', 'description must be a string', { details: { field: 'description' } });
    const streaming = tool.streaming ?? false;
    if (typeof streaming !== 'boolean')
      throw new StoreError('InvalidArgument', 'streaming must be a boolean', { details: { field: 'streaming' } });
    const parameters = tool.parameters === undefined ? undefined : frozenJsonCopy(tool.parameters, 'parameters');
    const metadata = checkMetadata(tool.metadata);
    const scope = s === null ? this.globalTools : s.tools;
    const existing = scope.get(name);
    if (existing !== undefined && existing.owner !== owner) {
      throw new StoreError('AlreadyExists', `tool ${name} is already registered by ${existing.owner}`, {
        details: { tool: name, owner: existing.owner },
      });
    }
    if (s !== null && this.globalTools.has(name)) {
      throw new StoreError('AlreadyExists', `tool ${name} is already registered as a global tool`, {
        details: { tool: name, owner: (this.globalTools.get(name) as ToolRecord).owner },
      });
    }
    if (s === null) {
      for (const other of this.sessions.values()) {
        const clash = other.tools.get(name);
        if (clash !== undefined) {
          throw new StoreError('AlreadyExists', `tool ${name} is already registered in session ${other.id}`, {
            details: { tool: name, owner: clash.owner, session: other.id },
          });
        }
      }
    }
    if (existing === undefined && scope.size >= this.limits.maxToolsPerSession) {
      throw this.exhausted(
        'maxToolsPerSession',
        `${s === null ? 'the global scope' : `session ${s.id}`} already holds ${this.limits.maxToolsPerSession} tools`,
      );
    }
    const rec: ToolRecord = Object.freeze({
      name,
      description,
      parameters,
      streaming,
      metadata,
      owner,
      global: s === null,
      sessionId: s === null ? null : s.id,
      registeredAt: this.clock.now(),
    });
    scope.set(name, rec);
    return rec;
  }

  async unregisterTool(sessionId: string | null, name: string, owner: string): Promise<void> {
    const s = sessionId === null ? null : this.use(sessionId);
    if (sessionId === null) this.assertOpen();
    const scope = s === null ? this.globalTools : s.tools;
    const existing = scope.get(name);
    if (existing === undefined || existing.owner !== owner) {
      throw new StoreError(
        'ToolNotFound',
        `no tool ${String(name)} owned by ${String(owner)} in ${s === null ? 'the global scope' : `session ${s.id}`}`,
        {
          details: { tool: String(name), owner: String(owner) },
        },
      );
    }
    scope.delete(name);
  }

  async removeToolsOf(owner: string): Promise<number> {
    this.assertOpen();
    let n = 0;
    const sweep = (scope: Map<string, ToolRecord>): void => {
      for (const [name, t] of scope) {
        if (t.owner === owner) {
          scope.delete(name);
          n++;
        }
      }
    };
    sweep(this.globalTools);
    for (const s of this.sessions.values()) sweep(s.tools);
    return n;
  }

  async getTool(sessionId: string, name: string): Promise<ToolRecord> {
    const s = this.use(sessionId);
    const tool = s.tools.get(name) ?? this.globalTools.get(name);
    if (tool === undefined) {
      throw new StoreError('ToolNotFound', `tool ${String(name)} not found in session ${s.id}`, {
        details: { tool: String(name), session: s.id },
      });
    }
    return tool;
  }

  async listTools(
    sessionId: string,
    options: PageOptions = {},
  ): Promise<Page & { readonly tools: readonly ToolRecord[] }> {
    const s = this.use(sessionId);
    const pageSize = resolvePageSize(options.pageSize);
    const after = decodePageToken(options.pageToken);
    const all: ToolRecord[] = [];
    for (const t of s.tools.values()) if (after === undefined || t.name > after) all.push(t);
    for (const t of this.globalTools.values()) if (after === undefined || t.name > after) all.push(t);
    all.sort((a, b) => compareStrings(a.name, b.name));
    const tools = all.slice(0, pageSize);
    const last = tools[tools.length - 1];
    return { tools, nextPageToken: all.length > pageSize && last !== undefined ? encodePageToken(last.name) : '' };
  }

  // --------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sessions.values()) {
      for (const w of [...s.watchers]) w.end(new StoreError('StoreClosed', 'the store was closed'), { drain: false });
    }
    this.sessions.clear();
    this.expired.clear();
    this.globalTools.clear();
  }

  /** Same as {@link MemoryStore.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- internals

  private assertOpen(): void {
    if (this.closed) throw new StoreError('StoreClosed', 'the store was closed');
  }

  private exhausted(limit: keyof StoreLimits, message: string): StoreError {
    return new StoreError('ResourceExhausted', `${message} (limit ${limit})`, {
      limit,
      details: { limit, value: String(this.limits[limit]) },
    });
  }

  /** Looks a session up, refuses an expired one, and slides its TTL. */
  private use(sessionId: string): SessionState {
    this.assertOpen();
    const s = typeof sessionId === 'string' ? this.sessions.get(sessionId) : undefined;
    if (s === undefined) {
      const owner = typeof sessionId === 'string' ? this.expired.get(sessionId) : undefined;
      if (owner !== undefined) throw sessionExpired(sessionId, owner);
      throw new StoreError('SessionNotFound', `session ${String(sessionId)} not found`, {
        details: { session: String(sessionId) },
      });
    }
    const now = this.clock.now();
    if (now >= s.lastUsedAt + s.ttlMs) {
      this.expire(s);
      throw sessionExpired(s.id, s.owner);
    }
    s.lastUsedAt = now;
    return s;
  }

  private expire(s: SessionState): void {
    this.sessions.delete(s.id);
    this.expired.set(s.id, s.owner);
    // Keep the tombstones bounded: drop the oldest.
    while (this.expired.size > Math.max(this.limits.maxSessions, 1)) {
      const oldest = this.expired.keys().next().value as string;
      this.expired.delete(oldest);
    }
    this.endWatchers(s, sessionExpired(s.id, s.owner));
  }

  private endWatchers(s: SessionState, error: StoreError): void {
    for (const w of [...s.watchers]) w.end(error, { drain: true });
  }

  private sessionRecord(s: SessionState): SessionRecord {
    // registerTool keeps the two scopes disjoint, so the sizes add up without double counting.
    const toolCount = s.tools.size + this.globalTools.size;
    return Object.freeze({
      id: s.id,
      owner: s.owner,
      metadata: s.metadata,
      createdAt: s.createdAt,
      lastUsedAt: s.lastUsedAt,
      expiresAt: s.lastUsedAt + s.ttlMs,
      ttlMs: s.ttlMs,
      variableCount: s.vars.size,
      toolCount,
      revision: s.revision,
    });
  }

  private find(s: SessionState, identifier: string): Slot | undefined {
    if (typeof identifier !== 'string') return undefined;
    const byName = s.vars.get(identifier);
    if (byName !== undefined) return byName;
    if (identifier.startsWith('var_')) {
      const cut = identifier.lastIndexOf('_');
      if (cut > 4) {
        const slot = s.vars.get(identifier.slice(4, cut));
        if (slot !== undefined && slot.rec.id === identifier) return slot;
      }
    }
    return undefined;
  }

  private require(s: SessionState, identifier: string): Slot {
    const slot = this.find(s, identifier);
    if (slot === undefined) {
      throw new StoreError('VariableNotFound', `variable ${String(identifier)} not found in session ${s.id}`, {
        details: { session: s.id, variable: String(identifier) },
      });
    }
    return slot;
  }

  private out(slot: Slot): StoredVariable {
    if (!slot.mutable) return slot.rec;
    return Object.freeze({ ...slot.rec, value: copyValue(slot.rec.value) });
  }

  private historyEntry(
    version: number,
    value: unknown,
    updatedAt: number,
    metadata: Metadata,
    mutable: boolean,
  ): StoredHistoryEntry {
    return Object.freeze({ version, value: mutable ? copyValue(value) : value, updatedAt, metadata });
  }

  private compile(type: string, constraints: Constraints): CompiledType {
    let result: ReturnType<StoreTypeEngine['compileType']>;
    try {
      result = this.engine.compileType(type, constraints);
    } catch (err) {
      throw new StoreError('InvalidArgument', `type ${type} with these constraints could not be compiled`, {
        cause: err,
        details: { field: 'constraints' },
      });
    }
    if (!result.ok) {
      throw new StoreError(
        'InvalidArgument',
        `invalid type or constraints: ${result.violations.map((v) => v.message).join('; ')}`,
        {
          violations: result.violations.map((v) => toStoreViolation(v, 'constraints')),
          details: { field: 'constraints', type },
        },
      );
    }
    return result.compiled;
  }

  private validate(compiled: CompiledType, raw: unknown, name: string): { value: unknown; mutable: boolean } {
    const result = compiled.validate(raw);
    if (!result.ok) {
      throw new StoreError(
        'ValidationFailed',
        `invalid value for ${name}: ${result.violations.map((v) => v.message).join('; ')}`,
        {
          violations: result.violations.map((v) => toStoreViolation(v, 'value')),
          details: { variable: name },
        },
      );
    }
    const size = this.engine.encodedSize(result.value);
    if (size > this.limits.maxValueBytes) {
      throw this.exhausted(
        'maxValueBytes',
        `value of ${name} encodes to ${size} bytes, more than ${this.limits.maxValueBytes}`,
      );
    }
    return snapshotValue(result.value);
  }

  private checkExpected(slot: Slot, expected: number | undefined): void {
    if (expected !== undefined && expected !== slot.rec.version) {
      throw new StoreError(
        'VersionConflict',
        `variable ${slot.rec.name} is at version ${slot.rec.version}, not the expected ${expected}`,
        {
          currentVersion: slot.rec.version,
          details: { variable: slot.rec.name, expected: String(expected), current: String(slot.rec.version) },
        },
      );
    }
  }

  /** Validates one write completely without changing anything. */
  private prepare(
    s: SessionState,
    identifier: string,
    raw: unknown,
    expectedVersion: unknown,
    metadata: unknown,
  ): PreparedWrite {
    const slot = this.require(s, identifier);
    this.checkExpected(slot, checkVersion(expectedVersion, 'expectedVersion'));
    const writeMeta = checkMetadata(metadata);
    const merged = mergeMetadata(slot.rec.metadata, writeMeta);
    const { value, mutable } = this.validate(slot.compiled, raw, slot.rec.name);
    return { slot, value, mutable, writeMeta, metadata: merged };
  }

  /** Applies a prepared write: history, new snapshot, revision, event. Never throws. */
  private apply(s: SessionState, p: PreparedWrite, kind: WatchEventKind, batch?: WatchEvent[]): Slot {
    const { slot } = p;
    const prev = slot.rec;
    const keepPast = this.limits.historyDepth - 1;
    if (keepPast > 0) {
      const h = slot.history;
      if (h === null) {
        // An exact-size literal: most variables are written rarely, keep them compact.
        slot.history = [prev.version, prev.value, prev.updatedAt, slot.writeMeta];
      } else {
        h.push(prev.version, prev.value, prev.updatedAt, slot.writeMeta);
        if (h.length > keepPast * 4) h.splice(0, h.length - keepPast * 4);
      }
    }
    const revision = ++s.revision;
    slot.rec = Object.freeze({
      id: prev.id,
      name: prev.name,
      type: prev.type,
      value: p.value,
      constraints: prev.constraints,
      metadata: p.metadata,
      version: prev.version + 1,
      revision,
      createdAt: prev.createdAt,
      updatedAt: this.clock.now(),
    });
    slot.writeMeta = p.writeMeta;
    slot.mutable = p.mutable;
    this.emit(s, kind, slot, revision, batch);
    return slot;
  }

  /** Records a change in the session's window and hands it to watchers (or to `batch`, broadcast later). */
  private emit(s: SessionState, kind: WatchEventKind, slot: Slot, revision: number, batch?: WatchEvent[]): void {
    const event: WatchEvent = Object.freeze({ kind, revision, variable: this.out(slot) });
    s.window.push(event);
    if (batch !== undefined) batch.push(event);
    else if (s.watchers.size > 0) this.broadcast(s, [event]);
  }

  private broadcast(s: SessionState, events: readonly WatchEvent[]): void {
    if (s.watchers.size === 0 || events.length === 0) return;
    for (const w of [...s.watchers]) {
      if (w.names === null) w.push(events);
      else {
        const mine = events.filter((e) => w.wants((e.variable as StoredVariable).name));
        if (mine.length > 0) w.push(mine);
      }
    }
  }

  private subscribe(sessionId: string, options: StoreWatchOptions): AsyncIterableIterator<WatchEvent> {
    try {
      if (options.signal?.aborted) return doneIterator();
      const s = this.use(sessionId);
      let names: Set<string> | null = null;
      if (options.names !== undefined && options.names.length > 0) {
        names = new Set(options.names.map((n) => checkName(n, 'variable')));
      }
      const since = checkVersion(options.sinceRevision, 'sinceRevision');
      if (since !== undefined && since > s.revision) {
        throw new StoreError(
          'InvalidArgument',
          `sinceRevision ${since} is ahead of the session's revision ${s.revision}`,
          {
            details: { field: 'sinceRevision', revision: String(s.revision) },
          },
        );
      }
      if (s.watchers.size >= this.limits.maxWatchersPerSession) {
        throw this.exhausted(
          'maxWatchersPerSession',
          `session ${s.id} already has ${this.limits.maxWatchersPerSession} watchers`,
        );
      }
      const prefix: WatchEvent[] = [];
      if (options.includeInitial === true) {
        const targets = names === null ? this.sortedNames(s) : [...names].sort(compareStrings);
        for (const name of targets) {
          const slot = s.vars.get(name);
          if (slot !== undefined)
            prefix.push(Object.freeze({ kind: 'initial', revision: s.revision, variable: this.out(slot) }));
        }
      }
      if (since !== undefined && since < s.revision) {
        const w = s.window;
        const oldest = w.size > 0 ? w.at(0).revision : s.revision + 1;
        if (since < oldest - 1) {
          throw new StoreError(
            'Compacted',
            `revision ${since} is no longer retained; the oldest retained change is revision ${oldest}`,
            {
              oldestRevision: oldest,
              details: { oldestRevision: String(oldest) },
            },
          );
        }
        for (let i = since - (oldest - 1); i < w.size; i++) {
          const e = w.at(i);
          if (names === null || names.has((e.variable as StoredVariable).name)) prefix.push(e);
        }
      }
      prefix.push(Object.freeze({ kind: 'synced', revision: s.revision }));
      const watcher = new Watcher({
        names,
        prefix,
        startRevision: since ?? s.revision,
        bufferSize: this.limits.watcherBufferSize,
        detach: (w) => s.watchers.delete(w),
        signal: options.signal,
      });
      s.watchers.add(watcher);
      return watcher;
    } catch (err) {
      return failedIterator(err);
    }
  }

  /** The session's names in order, rebuilding the index if names were added or deleted. */
  private sortedNames(s: SessionState): string[] {
    if (s.added.length === 0 && s.deletedSinceSort === 0) return s.sorted;
    const base = s.deletedSinceSort === 0 ? s.sorted : s.sorted.filter((n) => s.vars.has(n));
    const added = s.added.filter((n) => s.vars.has(n)).sort(compareStrings);
    const merged: string[] = new Array<string>();
    let i = 0;
    let j = 0;
    while (i < base.length || j < added.length) {
      let next: string;
      if (j >= added.length || (i < base.length && (base[i] as string) <= (added[j] as string)))
        next = base[i++] as string;
      else next = added[j++] as string;
      if (merged.length === 0 || merged[merged.length - 1] !== next) merged.push(next);
    }
    s.sorted = merged;
    s.added = [];
    s.deletedSinceSort = 0;
    return merged;
  }

  /** Bounds the pending index changes when nobody lists for a long time. */
  private maybeCompactIndex(s: SessionState): void {
    if (s.added.length + s.deletedSinceSort > s.vars.size + 4096 && s.deletedSinceSort > 0) this.sortedNames(s);
  }
}

let randomPool = Buffer.alloc(0);
let randomOffset = 0;

/** 12 random hex characters (48 bits) for variable ids, from a pooled random buffer. */
function randomSuffix(): string {
  if (randomOffset + 6 > randomPool.length) {
    randomPool = randomBytes(6 * 1024);
    randomOffset = 0;
  }
  const out = randomPool.toString('hex', randomOffset, randomOffset + 6);
  randomOffset += 6;
  return out;
}

/** Returns `s` as a flat string (a concatenation otherwise keeps its parts alive). */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** The `SessionExpired` error of a session; `details.owner` names its owner (`""` when none) for visibility checks. */
function sessionExpired(id: string, owner: string): StoreError {
  return new StoreError('SessionExpired', `session ${id} expired`, { details: { session: id, owner } });
}
