import { atomicBatchError, checkBatch, prepareEach } from '../internal/batch.js';
import {
  EMPTY_METADATA,
  checkCreateSessionOptions,
  checkHistoryLimit,
  checkMetadata,
  checkRollbackVersion,
  checkVariableInput,
  checkVersion,
  mergeMetadata,
} from '../internal/checks.js';
import { DEFAULT_TYPE_ENGINE, checkValue, compileVariableType, type StoreTypeEngine } from '../internal/engine.js';
import { compileGlob } from '../internal/glob.js';
import { newVariableId } from '../internal/ids.js';
import { checkModifyArgs, modifyWithRetries } from '../internal/modify.js';
import { encodePageToken, readPageOptions } from '../internal/paging.js';
import { registeredVariableRecord, sessionRecord } from '../internal/records.js';
import {
  checkExpectedVersion,
  invalidArgument,
  limitReached,
  storeClosed,
  variableAlreadyExists,
  versionNotRetained,
} from '../internal/store-errors.js';
import { resolveStoreLimits } from '../internal/store-limits.js';
import { snapshotValue } from '../internal/values.js';
import { changeEvent, type ChangeKind } from '../internal/watch-events.js';
import { doneIterator, failedIterator } from '../internal/watcher.js';
import type { StoreLimits } from '../limits.js';
import type {
  Clock,
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
  StoreListSessionsOptions,
  StoreStats,
  StoreWatchOptions,
  ToolInput,
  ToolRecord,
  UpdateVariableOptions,
  UpdateVariablesOptions,
  VariableUpdate,
  VariableUpdateResult,
  WatchEvent,
} from '../session-store.js';
import { StoreError } from '../store-error.js';
import { upperBound } from './name-index.js';
import type { SessionState } from './session-state.js';
import { SessionTable } from './session-table.js';
import { ToolTable } from './tool-table.js';
import { VariableSlot, type PreparedWrite } from './variable-slot.js';
import { openWatcher } from './watch-subscription.js';

export type { StoreTypeEngine } from '../internal/engine.js';

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
  /** The sessions, their TTLs and the tombstones of expired ones. */
  private readonly sessions: SessionTable;
  /** The global tools and the scope rules of every tool. */
  private readonly tools: ToolTable;
  /** The expiry sweep timer (`unref`ed); undefined when disabled or closed. */
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Set by `close()`: every later call fails with `StoreClosed`. */
  private closed = false;

  /** Creates an empty store; see {@link MemoryStoreOptions}. Throws a RangeError naming a bad option. */
  constructor(options: MemoryStoreOptions = {}) {
    this.limits = resolveStoreLimits(options.limits, 'MemoryStore');
    this.clock = options.clock ?? { now: Date.now };
    this.engine = options.engine ?? DEFAULT_TYPE_ENGINE;
    this.sessions = new SessionTable(this.limits, this.clock);
    this.tools = new ToolTable(this.sessions, this.limits, this.clock);
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
    return this.sessions.sweepExpired();
  }

  // ---------------------------------------------------------------- sessions

  async createSession(options: StoreCreateSessionOptions = {}): Promise<SessionRecord> {
    this.assertOpen();
    const checked = checkCreateSessionOptions(options, this.limits.sessionTtlMs);
    return this.recordOf(this.sessions.create(checked));
  }

  async getSession(sessionId: string): Promise<SessionRecord> {
    return this.recordOf(this.liveSession(sessionId));
  }

  async touchSession(sessionId: string): Promise<SessionRecord> {
    return this.recordOf(this.liveSession(sessionId));
  }

  async closeSession(sessionId: string): Promise<void> {
    this.sessions.close(this.liveSession(sessionId));
  }

  async listSessions(
    options: StoreListSessionsOptions = {},
  ): Promise<Page & { readonly sessions: readonly SessionRecord[] }> {
    this.assertOpen();
    const page = this.sessions.list(readPageOptions(options), options.owner);
    return { sessions: page.items.map((s) => this.recordOf(s)), nextPageToken: page.nextPageToken };
  }

  // --------------------------------------------------------------- variables

  async registerVariable(sessionId: string, input: RegisterVariableInput): Promise<StoredVariable> {
    const s = this.liveSession(sessionId);
    const { name, type, constraints, metadata } = checkVariableInput(input);
    if (s.variables.has(name)) throw variableAlreadyExists(s.id, name);
    if (s.variables.size >= this.limits.maxVariablesPerSession) {
      throw limitReached(
        this.limits,
        'maxVariablesPerSession',
        `session ${s.id} already holds ${this.limits.maxVariablesPerSession} variables`,
      );
    }
    const compiled = compileVariableType(this.engine, type, constraints);
    const { value, mutable } = snapshotValue(checkValue(this.engine, this.limits, compiled, input.value, name));
    const revision = s.nextRevision();
    const rec = registeredVariableRecord({
      id: newVariableId(name),
      name,
      type: compiled.type,
      value,
      constraints: compiled.constraints,
      metadata,
      revision,
      now: this.clock.now(),
    });
    const slot = new VariableSlot(rec, compiled, metadata, mutable);
    s.addVariable(slot);
    s.watch.record(changeEvent('created', revision, slot.readRecord()));
    return slot.readRecord();
  }

  async getVariable(sessionId: string, identifier: string): Promise<StoredVariable> {
    return this.liveSession(sessionId).resolveVariable(identifier).readRecord();
  }

  async getVariables(
    sessionId: string,
    identifiers: readonly string[],
  ): Promise<{ readonly found: ReadonlyMap<string, StoredVariable>; readonly missing: readonly string[] }> {
    const s = this.liveSession(sessionId);
    if (!Array.isArray(identifiers)) throw invalidArgument('identifiers must be an array of strings');
    const found = new Map<string, StoredVariable>();
    const missing: string[] = [];
    for (const ident of identifiers) {
      const slot = s.findVariable(ident);
      if (slot === undefined) missing.push(ident);
      else found.set(ident, slot.readRecord());
    }
    return { found, missing };
  }

  async updateVariable(
    sessionId: string,
    identifier: string,
    value: unknown,
    options: UpdateVariableOptions = {},
  ): Promise<StoredVariable> {
    return this.updateOne(sessionId, identifier, value, options.expectedVersion, options.metadata);
  }

  async updateVariables(
    sessionId: string,
    updates: readonly VariableUpdate[],
    options: UpdateVariablesOptions,
  ): Promise<readonly VariableUpdateResult[]> {
    const s = this.liveSession(sessionId);
    checkBatch(updates, options, (identifier) => s.findVariable(identifier)?.current.name);
    const outcomes = prepareEach(updates, (u) =>
      this.prepareWrite(s, u.identifier, u.value, u.expectedVersion, u.metadata),
    );
    if (options.atomic) {
      const rejected = atomicBatchError(updates, outcomes);
      if (rejected !== undefined) throw rejected;
    }
    const results: VariableUpdateResult[] = [];
    const events: WatchEvent[] = [];
    outcomes.forEach((o, i) => {
      const identifier = (updates[i] as VariableUpdate).identifier;
      if (o instanceof StoreError) {
        results.push({ identifier, ok: false, error: o });
      } else {
        const slot = this.applyWrite(s, o, 'updated', events);
        results.push({ identifier, ok: true, variable: slot.readRecord() });
      }
    });
    s.watch.broadcast(events);
    return results;
  }

  async deleteVariable(sessionId: string, identifier: string): Promise<StoredVariable> {
    const s = this.liveSession(sessionId);
    const slot = s.resolveVariable(identifier);
    s.removeVariable(slot);
    s.watch.record(changeEvent('deleted', s.nextRevision(), slot.readRecord()));
    return slot.readRecord();
  }

  async listVariables(
    sessionId: string,
    options: ListVariablesOptions = {},
  ): Promise<Page & { readonly variables: readonly StoredVariable[] }> {
    const s = this.liveSession(sessionId);
    const { pageSize, after } = readPageOptions(options);
    const match = compileGlob(options.pattern ?? '');
    const names = s.names.names();
    const variables: StoredVariable[] = [];
    let i = after === undefined ? 0 : upperBound(names, after);
    let last: string | undefined;
    for (; i < names.length; i++) {
      const name = names[i] as string;
      if (!match(name)) continue;
      if (variables.length === pageSize) {
        return { variables, nextPageToken: encodePageToken(last as string) };
      }
      variables.push((s.variables.get(name) as VariableSlot).readRecord());
      last = name;
    }
    return { variables, nextPageToken: '' };
  }

  async getHistory(
    sessionId: string,
    identifier: string,
    options: GetHistoryOptions = {},
  ): Promise<readonly StoredHistoryEntry[]> {
    const s = this.liveSession(sessionId);
    const slot = s.resolveVariable(identifier);
    const limit = checkHistoryLimit(options.limit);
    const depth = this.limits.historyDepth;
    return slot.historyEntries(limit === 0 ? depth : Math.min(limit, depth));
  }

  async rollbackVariable(
    sessionId: string,
    identifier: string,
    version: number,
    options: RollbackVariableOptions = {},
  ): Promise<StoredVariable> {
    const s = this.liveSession(sessionId);
    const slot = s.resolveVariable(identifier);
    const target = checkRollbackVersion(version);
    const { current } = slot;
    checkExpectedVersion(current.name, current.version, checkVersion(options.expectedVersion, 'expectedVersion'));
    const retained = slot.retainedValue(target, this.limits.historyDepth > 0);
    if (!retained.found) throw versionNotRetained(s.id, current.name, target);
    const write = {
      slot,
      value: retained.value,
      mutable: slot.holdsBinary,
      writeMeta: EMPTY_METADATA,
      metadata: current.metadata,
    };
    return this.applyWrite(s, write, 'rolled_back').readRecord();
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
      () => this.liveSession(sessionId).resolveVariable(identifier).readRecord(),
      // A synchronous fn runs inside this critical section: it cannot conflict.
      fn,
      (current, next) => this.updateOne(sessionId, current.id, next, current.version, options.metadata),
    );
  }

  watch(sessionId: string, options: StoreWatchOptions = {}): AsyncIterable<WatchEvent> {
    return {
      [Symbol.asyncIterator]: () => {
        try {
          if (options.signal?.aborted) return doneIterator();
          return openWatcher(this.liveSession(sessionId), options, this.limits);
        } catch (err) {
          return failedIterator(err);
        }
      },
    };
  }

  // ------------------------------------------------------------------- tools

  async registerTool(sessionId: string | null, tool: ToolInput): Promise<ToolRecord> {
    return this.tools.register(this.sessionOrGlobal(sessionId), tool);
  }

  async unregisterTool(sessionId: string | null, name: string, owner: string): Promise<void> {
    this.tools.unregister(this.sessionOrGlobal(sessionId), name, owner);
  }

  async removeToolsOf(owner: string): Promise<number> {
    this.assertOpen();
    return this.tools.removeToolsOf(owner);
  }

  async getTool(sessionId: string, name: string): Promise<ToolRecord> {
    return this.tools.get(this.liveSession(sessionId), name);
  }

  async listTools(
    sessionId: string,
    options: PageOptions = {},
  ): Promise<Page & { readonly tools: readonly ToolRecord[] }> {
    const s = this.liveSession(sessionId);
    const page = this.tools.list(s, readPageOptions(options));
    return { tools: page.items, nextPageToken: page.nextPageToken };
  }

  /** Counts the live sessions and their variables (O(sessions); read by the server's metrics at scrape time). */
  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const now = this.clock.now();
    let sessions = 0;
    let variables = 0;
    for (const s of this.sessions.values()) {
      if (s.expiredAt(now)) continue;
      sessions++;
      variables += s.variables.size;
    }
    return { sessions, variables };
  }

  // --------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sessions.values()) s.watch.endAll(storeClosed(), { drain: false });
    this.sessions.clear();
    this.tools.clear();
  }

  /** Same as {@link MemoryStore.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---------------------------------------------------------------- internals

  private assertOpen(): void {
    if (this.closed) throw storeClosed();
  }

  /**
   * The live session of `sessionId`, its idle TTL slid.
   * @throws `StoreClosed`, `SessionNotFound`, `SessionExpired`.
   */
  private liveSession(sessionId: string): SessionState {
    this.assertOpen();
    return this.sessions.touch(sessionId);
  }

  /** The live session of `sessionId`, or `null` (the global tool scope) for `null`. */
  private sessionOrGlobal(sessionId: string | null): SessionState | null {
    if (sessionId !== null) return this.liveSession(sessionId);
    this.assertOpen();
    return null;
  }

  private recordOf(s: SessionState): SessionRecord {
    return sessionRecord({
      id: s.id,
      owner: s.owner,
      metadata: s.metadata,
      createdAt: s.createdAt,
      lastUsedAt: s.lastUsedAt,
      ttlMs: s.ttlMs,
      variableCount: s.variables.size,
      toolCount: this.tools.visibleCount(s),
      revision: s.revision,
    });
  }

  /** Validates and applies one update of a variable of a live session. */
  private updateOne(
    sessionId: string,
    identifier: string,
    value: unknown,
    expectedVersion: unknown,
    metadata: unknown,
  ): StoredVariable {
    const s = this.liveSession(sessionId);
    const prepared = this.prepareWrite(s, identifier, value, expectedVersion, metadata);
    return this.applyWrite(s, prepared, 'updated').readRecord();
  }

  /** Validates one write completely without changing anything. */
  private prepareWrite(
    s: SessionState,
    identifier: string,
    raw: unknown,
    expectedVersion: unknown,
    metadata: unknown,
  ): PreparedWrite {
    const slot = s.resolveVariable(identifier);
    const { current } = slot;
    checkExpectedVersion(current.name, current.version, checkVersion(expectedVersion, 'expectedVersion'));
    const writeMeta = checkMetadata(metadata);
    const merged = mergeMetadata(current.metadata, writeMeta);
    const { value, mutable } = snapshotValue(checkValue(this.engine, this.limits, slot.compiled, raw, current.name));
    return { slot, value, mutable, writeMeta, metadata: merged };
  }

  /** Applies a prepared write: history, new snapshot, revision, event (into `batch` when given). Never throws. */
  private applyWrite(s: SessionState, write: PreparedWrite, kind: ChangeKind, batch?: WatchEvent[]): VariableSlot {
    const { slot } = write;
    const revision = s.nextRevision();
    slot.write(write, revision, this.clock.now(), this.limits.historyDepth - 1);
    s.watch.record(changeEvent(kind, revision, slot.readRecord()), batch);
    return slot;
  }
}
