/**
 * The configurable limits of a store. Every one has a safe default in
 * {@link DEFAULT_STORE_LIMITS}; exceeding a limit fails with a
 * `ResourceExhausted` {@link StoreError} whose `limit` names the field.
 */
export interface StoreLimits {
  /** Live sessions at once. Default 10,000. Guards memory against session floods. */
  maxSessions: number;
  /** Variables in one session. Default 100,000 (raise it for very large sessions). */
  maxVariablesPerSession: number;
  /**
   * Encoded size of one value in bytes (as `encodedSize` of the types engine
   * reports it). Default 10 MiB, the server's message size limit.
   */
  maxValueBytes: number;
  /**
   * Versions retained per variable, the current one included. Default 100;
   * 0 disables history (then `getHistory` returns `[]` and rollback always
   * fails with `VariableNotFound`).
   */
  historyDepth: number;
  /** Concurrent watchers of one session. Default 1,000. */
  maxWatchersPerSession: number;
  /** Tools registered in one session (and, separately, global host tools). Default 1,000. */
  maxToolsPerSession: number;
  /**
   * Undelivered events one watcher may hold before it is ended with a
   * resumable `WatcherOverflow`. Default 1,000 events.
   */
  watcherBufferSize: number;
  /**
   * Recent change events retained per session for resuming a watch with
   * `sinceRevision`. Default 10,000 events; older resumes fail with `Compacted`.
   */
  watchWindow: number;
  /** Default idle TTL of a session in milliseconds (sliding). Default 3,600,000 (1 hour). */
  sessionTtlMs: number;
}

/**
 * The default {@link StoreLimits}, frozen.
 *
 * @example
 * new MemoryStore({ limits: { ...DEFAULT_STORE_LIMITS, maxVariablesPerSession: 2_000_000 } });
 */
export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = Object.freeze({
  maxSessions: 10_000,
  maxVariablesPerSession: 100_000,
  maxValueBytes: 10 * 1024 * 1024,
  historyDepth: 100,
  maxWatchersPerSession: 1_000,
  maxToolsPerSession: 1_000,
  watcherBufferSize: 1_000,
  watchWindow: 10_000,
  sessionTtlMs: 60 * 60 * 1000,
});

/**
 * Fixed rules (not configurable) that every backend enforces, exported so
 * clients and servers can validate early with the same numbers.
 */
export const STORE_RULES = Object.freeze({
  /** Variable and tool names: 1-128 chars of [A-Za-z0-9_.-], starting with a letter or underscore. */
  namePattern: /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
  /** Session ids: 1-128 chars of [A-Za-z0-9_.:-]. */
  sessionIdPattern: /^[A-Za-z0-9_.:-]{1,128}$/,
  /** Tool owners ("host" or a worker id): 1-128 chars of [A-Za-z0-9_.:-]. */
  ownerPattern: /^[A-Za-z0-9_.:-]{1,128}$/,
  /** Entries of one metadata map (sessions, variables, tools, writes). */
  maxMetadataEntries: 64,
  /** Length of one metadata key, in characters. */
  maxMetadataKeyLength: 128,
  /** Length of one metadata value, in characters. */
  maxMetadataValueLength: 1024,
  /** Default page size of every list call. */
  defaultPageSize: 100,
  /** Largest page size of every list call (larger requests are clamped). */
  maxPageSize: 1000,
  /** Length of a glob pattern of `listVariables`, in characters. */
  maxPatternLength: 256,
  /** Retries of `modifyVariable` when no `maxRetries` is given. */
  defaultModifyRetries: 100,
});
