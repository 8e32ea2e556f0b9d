import type { StoreError } from './store-error.js';

/** A metadata map: string keys to string values (at most 64 entries, 128-char keys, 1 KiB values). */
export type Metadata = Readonly<Record<string, string>>;

/**
 * A time source in milliseconds since the epoch. Injected into stores so
 * tests can move time (TTL expiry) without sleeping. Default `Date.now`.
 */
export interface Clock {
  /** The current time in ms since the epoch. */
  now(): number;
}

/** A session as the store reports it: an immutable snapshot. */
export interface SessionRecord {
  /** The session id (1-128 chars of [A-Za-z0-9_.:-]). */
  readonly id: string;
  /** Who created the session (for example a principal); `""` when not given. */
  readonly owner: string;
  /** Caller-supplied metadata given at creation. */
  readonly metadata: Metadata;
  /** When the session was created (ms epoch). */
  readonly createdAt: number;
  /** When a call last named the session (ms epoch). */
  readonly lastUsedAt: number;
  /** When the session expires unless used again: `lastUsedAt + ttlMs` (ms epoch). */
  readonly expiresAt: number;
  /** The sliding idle TTL in milliseconds. */
  readonly ttlMs: number;
  /** How many variables the session holds. */
  readonly variableCount: number;
  /** How many tools the session can see (its own plus global ones). */
  readonly toolCount: number;
  /** The session's current revision: the revision of its latest variable change (0 when none). */
  readonly revision: number;
}

/** Options of {@link SessionStore.createSession}. */
export interface StoreCreateSessionOptions {
  /** The id to use (1-128 chars of [A-Za-z0-9_.:-]); absent or `""` generates one. A live duplicate fails with `AlreadyExists`. */
  id?: string;
  /** The idle TTL in ms; absent or 0 uses the store's `sessionTtlMs` (default 1 hour). */
  ttlMs?: number;
  /** Free-form metadata kept with the session. Default `{}`. */
  metadata?: Record<string, string>;
  /** Who creates the session (kept and filterable in `listSessions`). Default `""`. */
  owner?: string;
}

/** @deprecated Use {@link StoreCreateSessionOptions} (the client has its own `CreateSessionOptions`). */
export type CreateSessionOptions = StoreCreateSessionOptions;

/** Paging options shared by every list call. */
export interface PageOptions {
  /** Maximum items per page; absent or 0 uses 100, larger than 1000 is clamped to 1000. */
  pageSize?: number;
  /** The `nextPageToken` of a previous page; absent or `""` starts at the beginning. */
  pageToken?: string;
}

/** Options of {@link SessionStore.listSessions}. */
export interface StoreListSessionsOptions extends PageOptions {
  /** Only sessions with this owner. Default: every session. */
  owner?: string;
}

/** @deprecated Use {@link StoreListSessionsOptions} (the client has its own `ListSessionsOptions`). */
export type ListSessionsOptions = StoreListSessionsOptions;

/** One page of a list call. `nextPageToken` is `""` on the last page. */
export interface Page {
  /** The token of the next page; `""` when there is none. */
  readonly nextPageToken: string;
}

/** A variable as the store reports it: an immutable snapshot (frozen). */
export interface StoredVariable {
  /** The id, `var_<name>_<random>`. */
  readonly id: string;
  /** The name, unique in the session. */
  readonly name: string;
  /** The type name (float, integer, string, boolean, choice, module, embedding, tensor, json, ...). */
  readonly type: string;
  /** The current value, as the types engine normalised it (for example a bigint for integers). */
  readonly value: unknown;
  /** The constraints the variable was registered with (`{}` when none). */
  readonly constraints: Readonly<Record<string, unknown>>;
  /** Free-form metadata (registration metadata merged with every update's metadata). */
  readonly metadata: Metadata;
  /** The version: 0 at registration, + 1 per update or rollback. */
  readonly version: number;
  /** The session revision of the variable's last change. */
  readonly revision: number;
  /** When the variable was registered (ms epoch). */
  readonly createdAt: number;
  /** When the value last changed (ms epoch). */
  readonly updatedAt: number;
}

/** @deprecated Use {@link StoredVariable} (the client has its own `VariableRecord`). */
export type VariableRecord = StoredVariable;

/** Input of {@link SessionStore.registerVariable}. */
export interface RegisterVariableInput {
  /** The name: 1-128 chars of [A-Za-z0-9_.-], starting with a letter or underscore. */
  name: string;
  /** The type name, compiled with the constraints by the types engine. */
  type: string;
  /** The initial value; validated and normalised by the compiled type. */
  value: unknown;
  /** The constraints (for example `{ min: 0, max: 1 }`). Default `{}`. */
  constraints?: Record<string, unknown>;
  /** Free-form metadata. Default `{}`. */
  metadata?: Record<string, string>;
}

/** Options of {@link SessionStore.updateVariable}. */
export interface UpdateVariableOptions {
  /** When set, the update applies only if the current version equals it (`VersionConflict` otherwise). */
  expectedVersion?: number;
  /** Metadata to merge into the variable's metadata and to record with this version in history. */
  metadata?: Record<string, string>;
}

/** One update of {@link SessionStore.updateVariables}. */
export interface VariableUpdate {
  /** The variable's name or id; each variable may appear once per batch. */
  identifier: string;
  /** The new value. */
  value: unknown;
  /** When set, this update applies only if the current version equals it. */
  expectedVersion?: number;
  /** Metadata to merge into the variable's metadata. */
  metadata?: Record<string, string>;
}

/** Options of {@link SessionStore.updateVariables}. */
export interface UpdateVariablesOptions {
  /** All or nothing when true (one `StoreError` listing every failure); a result per update when false. */
  atomic: boolean;
}

/** The outcome of one update of a batch, in request order. */
export type VariableUpdateResult =
  | { readonly identifier: string; readonly ok: true; readonly variable: StoredVariable }
  | { readonly identifier: string; readonly ok: false; readonly error: StoreError };

/** Options of {@link SessionStore.listVariables}. */
export interface ListVariablesOptions extends PageOptions {
  /** A glob over the whole name: `*` any run, `?` one character; absent or `""` matches every name. */
  pattern?: string;
}

/** One retained version of a variable. */
export interface StoredHistoryEntry {
  /** The version. */
  readonly version: number;
  /** The value at that version. */
  readonly value: unknown;
  /** When that version was written (ms epoch). */
  readonly updatedAt: number;
  /** The metadata given with that write (`{}` when none). */
  readonly metadata: Metadata;
}

/** @deprecated Use {@link StoredHistoryEntry} (the client has its own `HistoryEntry`). */
export type HistoryEntry = StoredHistoryEntry;

/** Options of {@link SessionStore.getHistory}. */
export interface GetHistoryOptions {
  /** The maximum number of entries; absent or 0 returns every retained entry. */
  limit?: number;
}

/** Options of {@link SessionStore.rollbackVariable}. */
export interface RollbackVariableOptions {
  /** When set, the rollback applies only if the current version equals it. */
  expectedVersion?: number;
}

/** Options of {@link SessionStore.modifyVariable}. */
export interface ModifyVariableOptions {
  /** How many times to retry after a version conflict. Default 100. */
  maxRetries?: number;
  /** Metadata to merge with the write. */
  metadata?: Record<string, string>;
}

/** Every {@link WatchEventKind}, in the order a watch may send them (the source of the type). */
export const WATCH_EVENT_KINDS = Object.freeze([
  'initial',
  'synced',
  'created',
  'updated',
  'deleted',
  'rolled_back',
] as const);

/**
 * The kind of a watch event:
 *
 * - `initial`: a watched variable's current value, sent first when `includeInitial` is set.
 * - `synced`: the watch has caught up (after `initial` and replayed events); carries no variable.
 * - `created`: a variable was registered.
 * - `updated`: a variable was written (`updateVariable`, a batch, `modifyVariable`).
 * - `deleted`: a variable was deleted; the event carries its last state.
 * - `rolled_back`: a rollback wrote an old value as a new version.
 */
export type WatchEventKind = (typeof WATCH_EVENT_KINDS)[number];

/** One event of a watch. */
export interface WatchEvent {
  /** What happened. */
  readonly kind: WatchEventKind;
  /**
   * The session revision of the change; for `initial` and `synced` the
   * revision the snapshot was taken at. Changes increase it by exactly one.
   */
  readonly revision: number;
  /** The variable after the change (its last state for `deleted`); absent for `synced`. */
  readonly variable?: StoredVariable;
}

/** Options of {@link SessionStore.watch}. */
export interface StoreWatchOptions {
  /** Variable names to watch; absent or empty watches every variable. */
  names?: readonly string[];
  /**
   * Resume after this revision: every retained change with a greater revision
   * is sent before `synced`. Older than the retained window fails with
   * `Compacted`; ahead of the session's revision fails with `InvalidArgument`.
   * Absent starts at the current revision.
   */
  sinceRevision?: number;
  /** Send the current value of each watched variable first (`initial` events, ordered by name). Default false. */
  includeInitial?: boolean;
  /** Aborting it ends the iteration at once and cleanly (no error); buffered events are dropped. */
  signal?: AbortSignal;
}

/** @deprecated Use {@link StoreWatchOptions} (the client has its own `WatchOptions`). */
export type WatchOptions = StoreWatchOptions;

/** Input of {@link SessionStore.registerTool}. */
export interface ToolInput {
  /** The name: 1-128 chars of [A-Za-z0-9_.-], starting with a letter or underscore. */
  name: string;
  /** What the tool does. Default `""`. */
  description?: string;
  /** A JSON Schema for the arguments object (stored, not interpreted). Default: absent (any object). */
  parameters?: Record<string, unknown>;
  /** Whether the tool streams its output. Default false. */
  streaming?: boolean;
  /** Free-form metadata. Default `{}`. */
  metadata?: Record<string, string>;
  /** Who serves the tool: `"host"` or a worker id (1-128 chars of [A-Za-z0-9_.:-]). */
  owner: string;
}

/** A tool as the store reports it: an immutable snapshot. */
export interface ToolRecord {
  /** The name, unique among the tools a session can see. */
  readonly name: string;
  /** What the tool does. */
  readonly description: string;
  /** The JSON Schema of the arguments, or `undefined` (any object). */
  readonly parameters: Readonly<Record<string, unknown>> | undefined;
  /** Whether the tool streams its output. */
  readonly streaming: boolean;
  /** Free-form metadata. */
  readonly metadata: Metadata;
  /** Who serves the tool: `"host"` or a worker id. */
  readonly owner: string;
  /** Whether every session sees the tool (registered with a `null` session). */
  readonly global: boolean;
  /** The session the tool belongs to, `null` for global tools. */
  readonly sessionId: string | null;
  /** When the tool was registered (ms epoch). */
  readonly registeredAt: number;
}

/** What {@link SessionStore.stats} reports. */
export interface StoreStats {
  /** Live sessions (expired ones not yet swept are not counted). */
  readonly sessions: number;
  /** Variables of the live sessions. */
  readonly variables: number;
}

/**
 * Where sessions, variables and tools live. Every backend (the in-memory
 * `MemoryStore`, later Redis or file-backed ones) implements this interface
 * with the same semantics, checked by `@unified-bridge/store/conformance`.
 *
 * Semantics shared by every method:
 * - Failures are thrown as one {@link StoreError} class with a closed `type`.
 * - Every call that names a session counts as use: it slides the session's
 *   idle TTL (`lastUsedAt = now`). A session whose TTL has passed fails with
 *   `SessionExpired` (never silently re-created) whose `details.owner` names
 *   the session's owner (`""` when none); an unknown or closed
 *   session fails with `SessionNotFound`.
 * - All operations on one session are linearizable, also under concurrent
 *   async callers; an atomic batch is never observed half-applied.
 * - Returned records are immutable snapshots: mutating them cannot change the store.
 * - A failed call changes nothing.
 */
export interface SessionStore extends AsyncDisposable {
  /**
   * Creates a session with the given or a generated id.
   * @throws `AlreadyExists` (live id), `InvalidArgument` (bad id/ttl/metadata), `ResourceExhausted` (`maxSessions`).
   */
  createSession(options?: StoreCreateSessionOptions): Promise<SessionRecord>;
  /**
   * Returns a session with its counts and times (and slides its TTL).
   * @throws `SessionNotFound`, `SessionExpired`.
   */
  getSession(sessionId: string): Promise<SessionRecord>;
  /**
   * Heartbeat: extends the idle TTL from now and returns the new expiry.
   * @throws `SessionNotFound`, `SessionExpired`.
   */
  touchSession(sessionId: string): Promise<SessionRecord>;
  /**
   * Closes a session: removes its variables, history and tools, and ends its
   * watchers (they throw `SessionNotFound` after their buffered events).
   * @throws `SessionNotFound`, `SessionExpired`.
   */
  closeSession(sessionId: string): Promise<void>;
  /** Lists live sessions ordered by id, paged; optionally only one owner's. Does not slide TTLs. */
  listSessions(options?: StoreListSessionsOptions): Promise<Page & { readonly sessions: readonly SessionRecord[] }>;

  /**
   * Registers a variable (version 0, id `var_<name>_<random>`); type and
   * constraints are compiled and the value validated by the types engine.
   * @throws `AlreadyExists` (name), `InvalidArgument` (name, type or constraints, with violations),
   * `ValidationError` (value, with violations), `ResourceExhausted` (`maxVariablesPerSession`, `maxValueBytes`).
   */
  registerVariable(sessionId: string, input: RegisterVariableInput): Promise<StoredVariable>;
  /**
   * Returns one variable by name or id (a name wins if a name equals another variable's id).
   * @throws `VariableNotFound`.
   */
  getVariable(sessionId: string, identifier: string): Promise<StoredVariable>;
  /**
   * Returns the variables among the identifiers (keyed by the identifier used)
   * and the identifiers that named none, in request order.
   */
  getVariables(
    sessionId: string,
    identifiers: readonly string[],
  ): Promise<{ readonly found: ReadonlyMap<string, StoredVariable>; readonly missing: readonly string[] }>;
  /**
   * Validates and writes a new value (version + 1), recording the previous
   * version in history.
   * @throws `VariableNotFound`, `ValidationError`, `VersionConflict` (with `currentVersion`),
   * `ResourceExhausted` (`maxValueBytes`).
   */
  updateVariable(
    sessionId: string,
    identifier: string,
    value: unknown,
    options?: UpdateVariableOptions,
  ): Promise<StoredVariable>;
  /**
   * Updates several variables. Atomic: everything is validated first and
   * applied all together or not at all; a failure throws one `StoreError`
   * (the type of the first failure) listing every failure in `violations`
   * with `field` = identifier. Non-atomic: each update is applied on its own
   * and a result per update is returned in request order.
   * @throws `InvalidArgument` (an identifier, or one variable, appears twice).
   */
  updateVariables(
    sessionId: string,
    updates: readonly VariableUpdate[],
    options: UpdateVariablesOptions,
  ): Promise<readonly VariableUpdateResult[]>;
  /**
   * Deletes a variable and its history; returns its last state.
   * @throws `VariableNotFound`.
   */
  deleteVariable(sessionId: string, identifier: string): Promise<StoredVariable>;
  /**
   * Lists variables ordered by name, filtered by an anchored glob, paged.
   * Page tokens are stable under concurrent inserts and deletes.
   * @throws `InvalidArgument` (bad page token or pattern).
   */
  listVariables(
    sessionId: string,
    options?: ListVariablesOptions,
  ): Promise<Page & { readonly variables: readonly StoredVariable[] }>;
  /**
   * Returns a variable's retained history, newest first (the current version
   * first); at most `historyDepth` entries.
   * @throws `VariableNotFound`.
   */
  getHistory(
    sessionId: string,
    identifier: string,
    options?: GetHistoryOptions,
  ): Promise<readonly StoredHistoryEntry[]>;
  /**
   * Writes the value the variable had at `version` as a new version.
   * @throws `VariableNotFound` (also a version no longer retained), `VersionConflict`.
   */
  rollbackVariable(
    sessionId: string,
    identifier: string,
    version: number,
    options?: RollbackVariableOptions,
  ): Promise<StoredVariable>;
  /**
   * Read-modify-write helper built on `expectedVersion`: calls `fn` with the
   * current record and writes its result, retrying on `VersionConflict` up to
   * `maxRetries` times (default 100), so concurrent increments never lose one.
   * @example await store.modifyVariable(sid, 'counter', (v) => (v.value as bigint) + 1n);
   */
  modifyVariable(
    sessionId: string,
    identifier: string,
    fn: (current: StoredVariable) => unknown,
    options?: ModifyVariableOptions,
  ): Promise<StoredVariable>;
  /**
   * Streams the session's variable changes: `initial` events (when asked),
   * retained changes after `sinceRevision` (when given), one `synced` event
   * with the current revision, then every change live, each revision one
   * higher than the last. Subscription happens when iteration starts.
   * Ends by throwing `StoreError`: `SessionNotFound`/`SessionExpired` when the
   * session closes or expires, `Compacted` (resume too old), `WatcherOverflow`
   * (fell behind; `lastRevision` says where to resume), `ResourceExhausted`
   * (`maxWatchersPerSession`), `StoreClosed`. Aborting `signal` or breaking
   * out of the loop ends it cleanly and frees its buffer at once.
   */
  watch(sessionId: string, options?: StoreWatchOptions): AsyncIterable<WatchEvent>;

  /**
   * Registers a tool in a session, or globally (visible to every session) with
   * `sessionId` `null`. A name already visible to the session fails with
   * `AlreadyExists` unless it is the same owner's tool in the same scope, which is replaced.
   * @throws `AlreadyExists`, `InvalidArgument`, `ResourceExhausted` (`maxToolsPerSession`).
   */
  registerTool(sessionId: string | null, tool: ToolInput): Promise<ToolRecord>;
  /**
   * Removes a tool of the given owner from a session (or the global scope with `null`).
   * @throws `ToolNotFound` (absent, or owned by someone else).
   */
  unregisterTool(sessionId: string | null, name: string, owner: string): Promise<void>;
  /** Removes every tool of an owner (for example a disconnected worker) everywhere; returns how many. */
  removeToolsOf(owner: string): Promise<number>;
  /**
   * Returns the tool a session sees under a name (its own, else a global one).
   * @throws `ToolNotFound`.
   */
  getTool(sessionId: string, name: string): Promise<ToolRecord>;
  /** Lists the tools a session sees (its own and global ones) ordered by name, paged. */
  listTools(sessionId: string, options?: PageOptions): Promise<Page & { readonly tools: readonly ToolRecord[] }>;

  /**
   * Optional: how much the store holds now, for metrics (the server's
   * `unified_bridge_sessions` and `unified_bridge_variables` gauges read it
   * at scrape time). A store that cannot count cheaply leaves it out.
   */
  stats?(): Promise<StoreStats>;

  /**
   * Closes the store: stops timers, ends every watcher with `StoreClosed`;
   * every later call fails with `StoreClosed`. Idempotent.
   */
  close(): Promise<void>;
}
