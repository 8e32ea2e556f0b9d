import type {
  GetHistoryOptions,
  ListVariablesOptions,
  ModifyVariableOptions,
  Page,
  PageOptions,
  RegisterVariableInput,
  RollbackVariableOptions,
  SessionRecord,
  SessionStore,
  StoreCreateSessionOptions,
  StoredHistoryEntry,
  StoredVariable,
  StoreLimits,
  StoreListSessionsOptions,
  StoreWatchOptions,
  ToolInput,
  ToolRecord,
  UpdateVariableOptions,
  UpdateVariablesOptions,
  VariableUpdate,
  VariableUpdateResult,
  WatchEvent,
} from '@unified-bridge/store';
import { StoreError, isStoreError } from '@unified-bridge/store';
import {
  EMPTY_METADATA,
  atomicBatchError,
  changeEvent,
  checkBatch,
  checkCreateSessionOptions,
  checkExpectedVersion,
  checkHistoryLimit,
  checkMetadata,
  checkModifyArgs,
  checkRollbackVersion,
  checkValue,
  checkVariableInput,
  checkVersion,
  compileGlob,
  compileVariableType,
  copyValue,
  encodePageToken,
  invalidArgument,
  limitReached,
  mergeMetadata,
  modifyWithRetries,
  newSessionId,
  newVariableId,
  prepareEach,
  readPageOptions,
  sessionAlreadyExists,
  sessionClosed,
  sessionExpired,
  sessionNotFound,
  sessionRecord,
  snapshotValue,
  storeClosed,
  variableAlreadyExists,
  variableNameOfId,
  variableNotFound,
  variableRecord,
  versionNotRetained,
  type ChangeKind,
} from '@unified-bridge/store/internal';
import type { Metadata } from '@unified-bridge/store';
import { LRUCache } from 'lru-cache';
import {
  Codec,
  encodeValue,
  metadataField,
  parseMetadata,
  parseNumbers,
  staticField,
  type RecordFields,
  type VariableType,
} from './codec.js';
import { Connection, type RedisStoreHealth } from './connection.js';
import { KeyLayout } from './keys.js';
import type { ScriptName } from './lua.js';
import { parseNotification, streamEvent } from './messages.js';
import { resolveOptions, type RedisStoreOptions, type ResolvedOptions } from './options.js';
import { SessionIndex } from './session-index.js';
import { ToolRegistry } from './tools.js';
import { Watches } from './watches.js';

/** A script reply: an array whose first element is the status word. */
type Reply = readonly unknown[];

/** How often a write re-resolves its variables when they changed identity under it (deleted, registered anew). */
const MAX_STALE_RETRIES = 10;
/** Names read per round trip while listing variables. */
const NAMES_PER_READ = 1000;

/** The text of a reply element (a Buffer, a number or null). */
const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** A variable an identifier resolved to, before a write. */
interface Target {
  readonly name: string;
  readonly id: string;
  readonly type: VariableType;
}

/**
 * One update checked against its variable, ready for the script. `deferred` holds a failure that
 * MemoryStore reports only after the version check (bad write metadata, then a bad value): the
 * script checks the version (and the metadata entry limit) first, and writes nothing for it.
 */
interface PreparedUpdate {
  readonly target: Target;
  readonly identifier: string;
  readonly value: unknown;
  readonly mutable: boolean;
  readonly bytes: Buffer;
  readonly expectedVersion: number | undefined;
  readonly writeMeta: Metadata;
  readonly deferred: StoreError | undefined;
}

/**
 * The {@link SessionStore} on Redis (standalone, behind a proxy, or Redis Cluster): the state of
 * every server replica that shares one Redis. Every mutation is one Lua script over the seven keys
 * of one session (one hash slot), so operations on a session are linearizable across replicas;
 * values are stored as the binary protobuf `Value` encoding; watches read a per-session Redis
 * Stream whose entry ids are the session revisions, woken by a per-session pub/sub channel.
 *
 * @example
 * await using store = createRedisStore({ url: 'redis://127.0.0.1:6379' });
 * const s = await store.createSession();
 * await store.registerVariable(s.id, { name: 'temperature', type: 'float', value: 0.7 });
 * const v = await store.updateVariable(s.id, 'temperature', 0.9); // v.version === 1
 */
export class RedisStore implements SessionStore {
  /** The limits in force (defaults merged with the options), frozen. */
  readonly limits: Readonly<StoreLimits>;
  /** The key layout (prefix, session keys, global keys). */
  readonly keys: KeyLayout;
  private readonly settings: ResolvedOptions;
  private readonly connection: Connection;
  private readonly codec: Codec;
  private readonly index: SessionIndex;
  private readonly tools: ToolRegistry;
  private readonly watches: Watches;
  /** Variable ids by session and name, so a write resolves its target without a round trip. */
  private readonly ids = new LRUCache<string, string>({ max: 10_000 });
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  /** Opens the connections (lazily: the first call waits for them); see {@link RedisStoreOptions}. */
  constructor(options: RedisStoreOptions = {}) {
    this.settings = resolveOptions(options);
    this.limits = this.settings.limits;
    this.keys = new KeyLayout(this.settings.keyPrefix);
    this.codec = new Codec(this.settings.engine);
    this.connection = new Connection(options, this.settings);
    this.index = new SessionIndex(this.connection, this.keys, (id, expire) => this.peek(id, expire));
    this.tools = new ToolRegistry(this.connection, this.keys, this.limits, async (name, sid, args) =>
      this.session(await this.script(name, sid, args), sid),
    );
    this.watches = new Watches({
      limits: this.limits,
      subscribe: (sid, on) => this.subscribe(sid, on),
      snapshot: (sid, since, initial, names) => this.snapshot(sid, since, initial, names),
      fetch: (sid, from, count) => this.fetchEvents(sid, from, count),
      check: async (sid) => {
        const r = await this.peek(sid, true);
        return r.kind === 'live' ? null : r.error;
      },
    });
    this.listen();
    if (this.settings.sweepIntervalMs > 0) {
      this.timer = setInterval(() => void this.sweepExpired().catch(() => {}), this.settings.sweepIntervalMs);
      this.timer.unref();
    }
  }

  /** The connection's state (see {@link RedisStoreHealth}); `ready` while calls are served. */
  get health(): RedisStoreHealth {
    return this.connection.health;
  }

  /** Whether Redis is reachable now (`health === 'ready'`): a server reports NOT_SERVING while false. */
  get healthy(): boolean {
    return this.connection.health === 'ready';
  }

  /**
   * Calls `listener` with the new {@link health} on every change; returns the function that stops it.
   * @example const stop = store.onHealthChange((h) => health.set(h === 'ready' ? 'SERVING' : 'NOT_SERVING'));
   */
  onHealthChange(listener: (health: RedisStoreHealth) => void): () => void {
    return this.connection.onHealthChange(listener);
  }

  /**
   * Resolves once connected to Redis (calls do not need it: they wait for the connection).
   * @throws `StoreUnavailable` when not connected within `timeoutMs` (default `connectTimeoutMs`), `StoreClosed`.
   */
  async connect(timeoutMs = this.settings.connectTimeoutMs): Promise<void> {
    await this.connection.ready(timeoutMs);
  }

  /**
   * Ends the watchers (here) of watched sessions that expired or were closed, expiring them in
   * Redis. Runs on the sweep timer; call it directly in tests that move an injected clock. Sessions
   * nobody watches need no sweep: the next call naming them expires them, and Redis's key TTL removes
   * the ones nobody names again. Returns how many watched sessions ended.
   */
  async sweepExpired(): Promise<number> {
    if (this.closed) return 0;
    return this.watches.sweep();
  }

  // ---------------------------------------------------------------- sessions

  async createSession(options: StoreCreateSessionOptions = {}): Promise<SessionRecord> {
    this.assertOpen();
    const checked = checkCreateSessionOptions(options, this.limits.sessionTtlMs);
    for (;;) {
      const id = checked.id ?? newSessionId();
      const now = this.settings.clock.now();
      await this.index.reserve(id, now, now + checked.ttlMs, this.limits);
      const reply = await this.script('ubCreate', id, [checked.ttlMs, checked.owner, metadataField(checked.metadata)]);
      if (text(reply[0]) === 'EXISTS') {
        if (checked.id === undefined) continue;
        throw sessionAlreadyExists(id);
      }
      return sessionRecord({
        id,
        owner: checked.owner,
        metadata: checked.metadata,
        createdAt: now,
        lastUsedAt: now,
        ttlMs: checked.ttlMs,
        variableCount: 0,
        toolCount: await this.tools.globalCount(),
        revision: 0,
      });
    }
  }

  async getSession(sessionId: string): Promise<SessionRecord> {
    return this.touch(sessionId);
  }

  async touchSession(sessionId: string): Promise<SessionRecord> {
    return this.touch(sessionId);
  }

  async closeSession(sessionId: string): Promise<void> {
    this.session(await this.script('ubClose', this.sessionIdOf(sessionId), []), sessionId);
    this.watches.end(sessionId, sessionClosed(sessionId));
    await this.index.remove(sessionId).catch(() => {});
  }

  async listSessions(
    options: StoreListSessionsOptions = {},
  ): Promise<Page & { readonly sessions: readonly SessionRecord[] }> {
    this.assertOpen();
    const page = readPageOptions(options);
    const now = this.settings.clock.now();
    const { records, more } = await this.index.list(page, options.owner, now);
    const globalTools = await this.tools.globalCount();
    const sessions = records.map((r) => sessionRecord({ ...r, toolCount: r.toolCount + globalTools }));
    const last = sessions[sessions.length - 1];
    return { sessions, nextPageToken: more && last !== undefined ? encodePageToken(last.id) : '' };
  }

  // --------------------------------------------------------------- variables

  async registerVariable(sessionId: string, input: RegisterVariableInput): Promise<StoredVariable> {
    this.assertOpen();
    let checked: ReturnType<typeof checkVariableInput>;
    try {
      checked = checkVariableInput(input);
    } catch (err) {
      // The session's state comes first, as in MemoryStore.
      await this.registerCheck(sessionId, '', false);
      throw err;
    }
    const { name, metadata } = checked;
    let compiled: VariableType['compiled'];
    let snapshot: { value: unknown; mutable: boolean };
    let bytes: Buffer;
    try {
      compiled = compileVariableType(this.settings.engine, checked.type, checked.constraints);
      snapshot = snapshotValue(checkValue(this.settings.engine, this.limits, compiled, input.value, name));
      bytes = this.encode(compiled, snapshot.value, name);
    } catch (err) {
      // So do a taken name and a full session.
      if (isStoreError(err)) await this.registerCheck(sessionId, name, true);
      throw err;
    }
    const { value, mutable } = snapshot;
    const id = newVariableId(name);
    const now = this.settings.clock.now();
    const reply = this.session(
      await this.script('ubRegister', sessionId, [
        name,
        id,
        staticField(compiled, now),
        metadataField(metadata),
        bytes,
        this.limits.maxVariablesPerSession,
        this.limits.watchWindow,
        this.settings.inlineEventBytes,
        '0',
      ]),
      sessionId,
    );
    this.registerFailure(sessionId, name, text(reply[0]));
    const type: VariableType = { compiled, constraints: compiled.constraints, createdAt: now };
    this.codec.remember(id, type);
    this.ids.set(cacheKey(sessionId, name), id);
    const rec = variableRecord({
      id,
      name,
      type: compiled.type,
      value,
      constraints: compiled.constraints,
      metadata,
      version: 0,
      revision: Number(reply[1]),
      createdAt: now,
      updatedAt: now,
    });
    this.watches.offerLocal(sessionId, [changeEvent('created', rec.revision, mutable ? copied(rec) : rec)]);
    return rec;
  }

  async getVariable(sessionId: string, identifier: string): Promise<StoredVariable> {
    this.assertOpen();
    const rec = (await this.read(sessionId, [identifier], true)).get(identifier);
    if (rec === undefined) throw variableNotFound(sessionId, identifier);
    return rec;
  }

  async getVariables(
    sessionId: string,
    identifiers: readonly string[],
  ): Promise<{ readonly found: ReadonlyMap<string, StoredVariable>; readonly missing: readonly string[] }> {
    this.assertOpen();
    if (!Array.isArray(identifiers)) {
      await this.touch(sessionId);
      throw invalidArgument('identifiers must be an array of strings');
    }
    const read = await this.read(sessionId, identifiers, true);
    const found = new Map<string, StoredVariable>();
    const missing: string[] = [];
    for (const ident of identifiers) {
      const rec = read.get(ident);
      if (rec === undefined) missing.push(ident);
      else found.set(ident, rec);
    }
    return { found, missing };
  }

  async updateVariable(
    sessionId: string,
    identifier: string,
    value: unknown,
    options: UpdateVariableOptions = {},
  ): Promise<StoredVariable> {
    const [result] = await this.write(sessionId, [{ identifier, value, ...options }], 'single');
    if (result === undefined || !result.ok) throw (result as { error: StoreError }).error;
    return result.variable;
  }

  async updateVariables(
    sessionId: string,
    updates: readonly VariableUpdate[],
    options: UpdateVariablesOptions,
  ): Promise<readonly VariableUpdateResult[]> {
    this.assertOpen();
    checkBatch(updates, options, () => undefined);
    return this.write(sessionId, updates, options.atomic ? 'atomic' : 'each');
  }

  async deleteVariable(sessionId: string, identifier: string): Promise<StoredVariable> {
    const reply = this.variable(
      await this.script('ubDelete', sessionId, [
        String(identifier),
        variableNameOfId(String(identifier)) ?? '',
        this.limits.watchWindow,
        this.settings.inlineEventBytes,
      ]),
      sessionId,
      identifier,
    );
    const rec = this.codec.record(reply.slice(2) as unknown as RecordFields);
    this.ids.delete(cacheKey(sessionId, rec.name));
    this.watches.offerLocal(sessionId, [changeEvent('deleted', Number(reply[1]), rec)]);
    return rec;
  }

  async listVariables(
    sessionId: string,
    options: ListVariablesOptions = {},
  ): Promise<Page & { readonly variables: readonly StoredVariable[] }> {
    this.assertOpen();
    const { pageSize, after } = readPageOptions(options);
    const match = compileGlob(options.pattern ?? '');
    const names: string[] = [];
    let from = after ?? '';
    for (;;) {
      const reply = this.session(await this.script('ubNames', sessionId, [from, NAMES_PER_READ]), sessionId);
      const chunk = reply.slice(1).map(text);
      for (const n of chunk) if (match(n)) names.push(n);
      if (names.length > pageSize || chunk.length < NAMES_PER_READ) break;
      from = chunk[chunk.length - 1] as string;
    }
    const pageNames = names.slice(0, pageSize);
    const read = await this.read(sessionId, pageNames, true);
    const variables = pageNames.flatMap((n) => {
      const rec = read.get(n);
      return rec === undefined ? [] : [rec];
    });
    const last = pageNames[pageNames.length - 1];
    return { variables, nextPageToken: names.length > pageSize && last !== undefined ? encodePageToken(last) : '' };
  }

  async getHistory(
    sessionId: string,
    identifier: string,
    options: GetHistoryOptions = {},
  ): Promise<readonly StoredHistoryEntry[]> {
    this.assertOpen();
    const limit = checkHistoryLimit(options.limit);
    const depth = this.limits.historyDepth;
    const reply = this.variable(
      await this.script('ubHistory', sessionId, [
        String(identifier),
        variableNameOfId(String(identifier)) ?? '',
        limit === 0 ? depth : Math.min(limit, depth),
      ]),
      sessionId,
      identifier,
    );
    const type = this.codec.typeOf(text(reply[2]), text(reply[3]));
    return (reply.slice(4) as [number, Buffer, Buffer, Buffer][]).map((e) => this.codec.historyEntry(type, e));
  }

  async rollbackVariable(
    sessionId: string,
    identifier: string,
    version: number,
    options: RollbackVariableOptions = {},
  ): Promise<StoredVariable> {
    this.assertOpen();
    const target = checkRollbackVersion(version);
    const expected = checkVersion(options.expectedVersion, 'expectedVersion');
    const reply = this.variable(
      await this.script('ubRollback', sessionId, [
        String(identifier),
        variableNameOfId(String(identifier)) ?? '',
        target,
        expected ?? '',
        this.limits.historyDepth,
        this.limits.watchWindow,
        this.settings.inlineEventBytes,
      ]),
      sessionId,
      identifier,
    );
    const status = text(reply[0]);
    if (status === 'CONFLICT') checkExpectedVersion(text(reply[2]), Number(reply[1]), expected);
    if (status === 'NOTRETAINED') throw versionNotRetained(sessionId, text(reply[1]), target);
    const rec = this.codec.record(reply.slice(1) as unknown as RecordFields);
    this.watches.offerLocal(sessionId, [changeEvent('rolled_back', rec.revision, rec)]);
    return rec;
  }

  async modifyVariable(
    sessionId: string,
    identifier: string,
    fn: (current: StoredVariable) => unknown,
    options: ModifyVariableOptions = {},
  ): Promise<StoredVariable> {
    const maxRetries = checkModifyArgs(fn, options);
    return modifyWithRetries(
      maxRetries,
      () => this.getVariable(sessionId, identifier),
      fn,
      (current, next) =>
        this.updateVariable(sessionId, current.id, next, {
          expectedVersion: current.version,
          ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
        }),
    );
  }

  watch(sessionId: string, options: StoreWatchOptions = {}): AsyncIterable<WatchEvent> {
    return { [Symbol.asyncIterator]: () => this.watches.open(sessionId, options) };
  }

  // ------------------------------------------------------------------- tools

  async registerTool(sessionId: string | null, tool: ToolInput): Promise<ToolRecord> {
    this.assertOpen();
    return this.tools.register(sessionId, tool, this.settings.clock.now());
  }

  async unregisterTool(sessionId: string | null, name: string, owner: string): Promise<void> {
    this.assertOpen();
    await this.tools.unregister(sessionId, name, owner);
  }

  async removeToolsOf(owner: string): Promise<number> {
    this.assertOpen();
    return this.tools.removeToolsOf(owner);
  }

  async getTool(sessionId: string, name: string): Promise<ToolRecord> {
    this.assertOpen();
    return this.tools.get(sessionId, name);
  }

  async listTools(
    sessionId: string,
    options: PageOptions = {},
  ): Promise<Page & { readonly tools: readonly ToolRecord[] }> {
    this.assertOpen();
    const page = await this.tools.list(sessionId, readPageOptions(options));
    return { tools: page.items, nextPageToken: page.nextPageToken };
  }

  // --------------------------------------------------------------- lifecycle

  /** Same as {@link RedisStore.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Ends every watcher with `StoreClosed`, stops the sweep timer and closes the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.watches.close();
    await this.connection.close();
  }

  // Internals.

  /** @throws `StoreClosed` after `close()`. */
  private assertOpen(): void {
    if (this.closed) throw storeClosed();
  }

  /** The session id to name in keys: anything but a string names no session. */
  private sessionIdOf(sessionId: unknown): string {
    this.assertOpen();
    return typeof sessionId === 'string' ? sessionId : '';
  }

  /** Runs a session script: its seven keys, the common arguments, then `args`. */
  private script(name: ScriptName, sessionId: string, args: readonly (string | number | Buffer)[]): Promise<Reply> {
    const { keys, channel } = this.keys.session(this.sessionIdOf(sessionId));
    const s = this.settings;
    return this.connection.script(name, keys, [
      s.clock.now(),
      channel,
      s.expiredRetentionMs,
      s.keyTtlGraceMs,
      ...args,
    ]) as Promise<Reply>;
  }

  /** Throws the session's error of a reply (and ends the session's watchers here when it expired). */
  private session(reply: Reply, sessionId: string): Reply {
    switch (text(reply[0])) {
      case 'NOTFOUND':
        throw sessionNotFound(sessionId);
      case 'EXPIRED': {
        const err = sessionExpired(sessionId, text(reply[1]));
        this.watches.end(sessionId, err);
        throw err;
      }
      default:
        return reply;
    }
  }

  /** Like {@link session}, and throws `VariableNotFound` for a reply that found no variable. */
  private variable(reply: Reply, sessionId: string, identifier: string): Reply {
    this.session(reply, sessionId);
    if (text(reply[0]) === 'NOTFOUND_VAR') throw variableNotFound(sessionId, identifier);
    return reply;
  }

  private async touch(sessionId: string): Promise<SessionRecord> {
    const [reply, globalTools] = await Promise.all([this.script('ubSession', sessionId, []), this.tools.globalCount()]);
    return withTools(sessionFields(sessionId, this.session(reply, sessionId)), globalTools);
  }

  /** Reads a session without touching it (expiring it when `expire` and its TTL passed). */
  private async peek(
    sessionId: string,
    expire: boolean,
  ): Promise<{ kind: 'live'; fields: ReturnType<typeof sessionFields> } | { kind: 'gone'; error: StoreError }> {
    const reply = await this.script('ubPeek', sessionId, [expire ? '1' : '0']);
    switch (text(reply[0])) {
      case 'OK':
        return { kind: 'live', fields: sessionFields(sessionId, reply) };
      case 'EXPIRED':
        return { kind: 'gone', error: sessionExpired(sessionId, text(reply[1])) };
      default:
        return { kind: 'gone', error: sessionNotFound(sessionId) };
    }
  }

  /** Encodes a value for storage (a value with no wire form is a validation failure). */
  private encode(compiled: VariableType['compiled'], value: unknown, name: string): Buffer {
    try {
      return encodeValue(compiled, value);
    } catch (err) {
      throw new StoreError(
        'ValidationError',
        `invalid value for ${name}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
          violations: [
            { field: 'value', constraint: 'type', message: err instanceof Error ? err.message : String(err) },
          ],
          details: { variable: name },
        },
      );
    }
  }

  /** Checks the session and (with `withName`) that `name` is free and the session has room; throws what fails. */
  private async registerCheck(sessionId: string, name: string, withName: boolean): Promise<void> {
    const reply = this.session(
      await this.script('ubRegister', sessionId, [
        withName ? name : '',
        '',
        '',
        '',
        '',
        withName ? this.limits.maxVariablesPerSession : Number.MAX_SAFE_INTEGER,
        0,
        0,
        '1',
      ]),
      sessionId,
    );
    if (withName) this.registerFailure(sessionId, name, text(reply[0]));
  }

  private registerFailure(sessionId: string, name: string, status: string): void {
    if (status === 'EXISTS') throw variableAlreadyExists(sessionId, name);
    if (status === 'FULL') {
      throw limitReached(
        this.limits,
        'maxVariablesPerSession',
        `session ${sessionId} already holds ${this.limits.maxVariablesPerSession} variables`,
      );
    }
  }

  /** Reads variables by identifier (with or without values); absent identifiers are missing from the map. */
  private async read(
    sessionId: string,
    identifiers: readonly unknown[],
    values: boolean,
  ): Promise<Map<string, StoredVariable>> {
    const asked = identifiers.filter((i): i is string => typeof i === 'string');
    const args: string[] = [values ? '1' : '0'];
    for (const ident of asked) args.push(ident, variableNameOfId(ident) ?? '');
    const reply = this.session(await this.script('ubGet', sessionId, args), sessionId);
    const out = new Map<string, StoredVariable>();
    asked.forEach((ident, i) => {
      const entry = reply[i + 1] as RecordFields | [];
      if (entry.length === 0) return;
      const rec = this.codec.record(entry as RecordFields);
      this.ids.set(cacheKey(sessionId, rec.name), rec.id);
      out.set(ident, rec);
    });
    return out;
  }

  /** Resolves identifiers to variables: from the cache where it can, else with one read (without values). */
  private async resolve(sessionId: string, identifiers: readonly string[]): Promise<Map<string, Target>> {
    const out = new Map<string, Target>();
    const misses: string[] = [];
    for (const ident of identifiers) {
      const target = typeof ident === 'string' ? this.cached(sessionId, ident) : undefined;
      if (target !== undefined) out.set(ident, target);
      else if (typeof ident === 'string') misses.push(ident);
    }
    if (misses.length > 0 || identifiers.length === 0) {
      const args: string[] = ['0'];
      for (const ident of misses) args.push(ident, variableNameOfId(ident) ?? '');
      const reply = this.session(await this.script('ubGet', sessionId, args), sessionId);
      misses.forEach((ident, i) => {
        const entry = reply[i + 1] as Buffer[];
        if (entry.length === 0) return;
        const [name, id, staticText] = entry.map(text) as [string, string, string];
        this.ids.set(cacheKey(sessionId, name), id);
        out.set(ident, { name, id, type: this.codec.typeOf(id, staticText) });
      });
    }
    return out;
  }

  private cached(sessionId: string, ident: string): Target | undefined {
    let name = ident;
    let id = this.ids.get(cacheKey(sessionId, ident));
    if (id === undefined) {
      const alt = variableNameOfId(ident);
      if (alt === undefined || this.ids.get(cacheKey(sessionId, alt)) !== ident) return undefined;
      name = alt;
      id = ident;
    }
    const type = this.codec.cachedType(id);
    return type === undefined ? undefined : { name, id, type };
  }

  /** Validates one update against its resolved variable (nothing is written). */
  private prepare(sessionId: string, targets: Map<string, Target>, u: VariableUpdate): PreparedUpdate {
    const target = targets.get(u.identifier);
    if (target === undefined) throw variableNotFound(sessionId, u.identifier);
    const expectedVersion = checkVersion(u.expectedVersion, 'expectedVersion');
    const prepared = { target, identifier: u.identifier, expectedVersion };
    let writeMeta: Metadata;
    let snapshot: { value: unknown; mutable: boolean };
    let bytes: Buffer;
    try {
      writeMeta = checkMetadata(u.metadata);
      const { compiled } = target.type;
      snapshot = snapshotValue(checkValue(this.settings.engine, this.limits, compiled, u.value, target.name));
      bytes = this.encode(compiled, snapshot.value, target.name);
    } catch (err) {
      if (!isStoreError(err)) throw err;
      const meta = err.details['field'] === 'metadata' ? EMPTY_METADATA : checkMetadata(u.metadata);
      return { ...prepared, value: undefined, mutable: false, bytes: EMPTY, writeMeta: meta, deferred: err };
    }
    return { ...prepared, ...snapshot, bytes, writeMeta, deferred: undefined };
  }

  /**
   * Writes updates in one script: `single` (one update, its error thrown), `atomic` (all or
   * nothing, one error listing every failure) or `each` (a result per update).
   */
  private async write(
    sessionId: string,
    updates: readonly VariableUpdate[],
    mode: 'single' | 'atomic' | 'each',
  ): Promise<VariableUpdateResult[]> {
    this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      const targets = await this.resolve(
        sessionId,
        updates.map((u) => u.identifier),
      );
      if (mode !== 'single') checkBatch(updates, { atomic: mode === 'atomic' }, (i) => targets.get(i)?.name);
      const outcomes: (PreparedUpdate | StoreError)[] = prepareEach(updates, (u) =>
        this.prepare(sessionId, targets, u),
      );
      if (mode === 'single' && outcomes[0] instanceof StoreError) {
        // The session's state comes first: check it (a read) before reporting the update's own failure.
        await this.touch(sessionId);
        throw outcomes[0];
      }
      const sent = outcomes.filter((o): o is PreparedUpdate => !(o instanceof StoreError));
      const refused = sent.length < outcomes.length || sent.some((p) => p.deferred !== undefined);
      const scriptMode = mode === 'each' ? 'each' : refused ? 'check' : 'atomic';
      const args: (string | number | Buffer)[] = [
        scriptMode,
        this.limits.historyDepth,
        this.limits.watchWindow,
        this.settings.inlineEventBytes,
        64,
      ];
      for (const p of sent) {
        args.push(
          p.identifier,
          variableNameOfId(p.identifier) ?? '',
          p.target.id,
          p.expectedVersion ?? '',
          p.writeMeta === EMPTY_METADATA ? '' : metadataField(p.writeMeta),
          p.bytes,
          p.deferred === undefined ? '0' : '1',
        );
      }
      const reply = this.session(await this.script('ubUpdate', sessionId, args), sessionId);
      if (text(reply[0]) === 'STALE') {
        for (const p of sent) this.ids.delete(cacheKey(sessionId, p.target.name));
        if (attempt < MAX_STALE_RETRIES) continue;
        throw variableNotFound(sessionId, (sent[0] as PreparedUpdate).identifier);
      }
      const events: WatchEvent[] = [];
      // Per update: its record, its error, or (checked only, in a rejected atomic batch) undefined.
      const results: (StoredVariable | StoreError | undefined)[] = [];
      let k = 1;
      for (const o of outcomes) {
        if (o instanceof StoreError) {
          results.push(o);
          continue;
        }
        results.push(this.outcome(o, reply[k++] as Reply, events));
      }
      if (mode !== 'each') {
        const rejected = atomicBatchError(updates, results);
        if (rejected !== undefined) throw mode === 'single' ? (results[0] as StoreError) : rejected;
      }
      this.watches.offerLocal(sessionId, events);
      return results.map((r, i) => {
        const identifier = (updates[i] as VariableUpdate).identifier;
        return r instanceof StoreError
          ? { identifier, ok: false, error: r }
          : { identifier, ok: true, variable: r as StoredVariable };
      });
    }
  }

  /** The record (or error) of one update from its reply entry; written ones add their event. */
  private outcome(p: PreparedUpdate, entry: Reply, events: WatchEvent[]): StoredVariable | StoreError | undefined {
    try {
      switch (text(entry[0])) {
        case 'CONFLICT':
          checkExpectedVersion(p.target.name, Number(entry[1]), p.expectedVersion);
          break;
        case 'METAFULL':
          mergeMetadata(parseMetadata(text(entry[1])), p.writeMeta);
          break;
        case 'OK':
          if (p.deferred !== undefined) return p.deferred;
          return entry.length === 1 ? undefined : this.written(p, entry, events);
      }
      return new StoreError('InvalidArgument', `update of ${p.target.name} was refused`);
    } catch (err) {
      if (isStoreError(err)) return err;
      throw err;
    }
  }

  private written(p: PreparedUpdate, entry: Reply, events: WatchEvent[]): StoredVariable {
    const n = parseNumbers(text(entry[1]));
    const rec = variableRecord({
      id: p.target.id,
      name: p.target.name,
      type: p.target.type.compiled.type,
      value: p.value,
      constraints: p.target.type.constraints,
      metadata: parseMetadata(text(entry[2])),
      version: n.version,
      revision: n.revision,
      createdAt: p.target.type.createdAt,
      updatedAt: n.updatedAt,
    });
    events.push(changeEvent('updated' as ChangeKind, rec.revision, p.mutable ? copied(rec) : rec));
    return rec;
  }

  /** The watch snapshot script, decoded. */
  private async snapshot(
    sessionId: string,
    since: number | undefined,
    initial: boolean,
    names: ReadonlySet<string> | null,
  ): Promise<{ revision: number; oldest: number; initial: StoredVariable[]; replay: WatchEvent[] }> {
    const reply = this.session(
      await this.script('ubWatch', sessionId, [
        since === undefined ? '' : since,
        initial ? '1' : '0',
        names === null ? '*' : '',
        ...(names === null ? [] : [...names]),
      ]),
      sessionId,
    );
    return {
      revision: Number(reply[1]),
      oldest: Number(reply[2]),
      initial: (reply[3] as RecordFields[]).map((f) => this.codec.record(f)),
      replay: (reply[4] as [Buffer, Buffer[]][]).map((e) => streamEvent(this.codec, e)),
    };
  }

  /** Reads retained change events from `from` on (`count` at most). */
  private async fetchEvents(sessionId: string, from: number, count: number): Promise<WatchEvent[]> {
    const stream = this.keys.session(sessionId).keys[4];
    const entries = (await this.connection.call(() =>
      this.connection.commands.xrangeBuffer(stream, `${from}-0`, '+', 'COUNT', count),
    )) as unknown as [Buffer, Buffer[]][];
    return entries.map((e) => streamEvent(this.codec, e));
  }

  private subscribe(sessionId: string, on: boolean): Promise<void> {
    const { channel } = this.keys.session(sessionId);
    const sub = this.connection.subscriber;
    return this.connection.call(async () => {
      if (on) await sub.subscribe(channel);
      else await sub.unsubscribe(channel);
    });
  }

  /** Routes channel messages to the watches, and catches up after the subscription was re-established. */
  private listen(): void {
    const sub = this.connection.subscriber;
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const sessionId = this.keys.sessionIdOf(channel.toString());
      if (sessionId === undefined) return;
      try {
        this.watches.notify(sessionId, parseNotification(this.codec, message));
      } catch {
        // A notification this store cannot decode: the next one (or the sweep) repairs the feed.
      }
    });
    let connected = false;
    sub.on('ready', () => {
      if (!connected) {
        connected = true;
        return;
      }
      // Re-subscription is sent right after 'ready'; a PING answered after it marks the point
      // from which nothing is missed, then the stream is read for what was published before.
      void (sub.ping() as Promise<unknown>).then(
        () => this.watches.resubscribed(),
        () => {},
      );
    });
  }
}

/** The cache key of a variable's id. */
function cacheKey(sessionId: string, name: string): string {
  return `${sessionId}\u0000${name}`;
}

/** The value of an update that is not written. */
const EMPTY = Buffer.alloc(0);

/** A record whose (binary) value is a fresh copy. */
function copied(rec: StoredVariable): StoredVariable {
  return Object.freeze({ ...rec, value: copyValue(rec.value) });
}

/** The session fields of a SESSION or PEEK reply (own tools only in `toolCount`). */
function sessionFields(id: string, reply: Reply) {
  return {
    id,
    owner: text(reply[1]),
    metadata: parseMetadata(text(reply[2])),
    createdAt: Number(text(reply[3])),
    lastUsedAt: Number(text(reply[4])),
    ttlMs: Number(text(reply[5])),
    revision: Number(text(reply[6])),
    variableCount: Number(text(reply[7])),
    toolCount: Number(text(reply[8])),
  };
}

/** A session record with the global tools added to its own. */
function withTools(fields: ReturnType<typeof sessionFields>, globalTools: number): SessionRecord {
  return sessionRecord({ ...fields, toolCount: fields.toolCount + globalTools });
}

/**
 * Creates a {@link RedisStore}; see {@link RedisStoreOptions} (every option has a default).
 * @throws TypeError or RangeError naming a bad option.
 * @example
 * const store = createRedisStore({ url: process.env.REDIS_URL, keyPrefix: 'bridge:' });
 */
export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}
