/**
 * Every {@link StoreErrorType}, in declaration order (the source of the type;
 * handy for exhaustive mappings and tests).
 */
export const STORE_ERROR_TYPES = Object.freeze([
  'SessionNotFound',
  'SessionExpired',
  'AlreadyExists',
  'VariableNotFound',
  'ValidationError',
  'VersionConflict',
  'Compacted',
  'WatcherOverflow',
  'ResourceExhausted',
  'InvalidArgument',
  'ToolNotFound',
  'StoreClosed',
  'StoreUnavailable',
] as const);

/**
 * The closed list of failures a {@link SessionStore} reports. Each maps to one
 * wire error type / status code in the server:
 *
 * - `SessionNotFound`: no such session, or it was closed (NOT_FOUND).
 * - `SessionExpired`: the session existed but expired after its idle TTL (NOT_FOUND).
 * - `AlreadyExists`: a session, variable or tool of that name/id exists (ALREADY_EXISTS).
 * - `VariableNotFound`: no such variable, or a rollback version no longer retained (NOT_FOUND).
 * - `ValidationError`: a value failed its type or constraints; see `violations` (INVALID_ARGUMENT).
 *   Formerly `ValidationFailed`, which the constructor and {@link isStoreError} still accept.
 * - `VersionConflict`: `expectedVersion` did not match; see `currentVersion` (ABORTED).
 * - `Compacted`: a watch asked to resume before the retained window; see `oldestRevision` (OUT_OF_RANGE).
 * - `WatcherOverflow`: a watcher fell behind its buffer; resume from `lastRevision` (RESOURCE_EXHAUSTED).
 * - `ResourceExhausted`: a configured limit was reached; `limit` names it (RESOURCE_EXHAUSTED).
 * - `InvalidArgument`: a malformed request (bad name, bad type/constraints, bad page token) (INVALID_ARGUMENT).
 * - `ToolNotFound`: no such tool visible to the session (NOT_FOUND).
 * - `StoreClosed`: the store was closed (`close()`); nothing more is served (UNAVAILABLE).
 * - `StoreUnavailable`: the backend (for example Redis) cannot be reached right now; retry after
 *   `retryAfterMs` (UNAVAILABLE with a retry delay). A write that failed this way may have been applied.
 */
export type StoreErrorType = (typeof STORE_ERROR_TYPES)[number];

/**
 * Old names of {@link StoreErrorType}s, still accepted by the {@link StoreError}
 * constructor (which stores the new name) and by {@link isStoreError} (which
 * matches either name, also of an error thrown by an older copy of this package).
 */
const DEPRECATED_TYPES: Readonly<Record<string, StoreErrorType>> = Object.freeze({
  ValidationFailed: 'ValidationError',
});

/** The current name of a type given by its current or its deprecated name (`undefined` for neither). */
function currentType(type: unknown): StoreErrorType | undefined {
  if (typeof type !== 'string') return undefined;
  if ((STORE_ERROR_TYPES as readonly string[]).includes(type)) return type as StoreErrorType;
  return Object.hasOwn(DEPRECATED_TYPES, type) ? DEPRECATED_TYPES[type] : undefined;
}

/**
 * One failed field: a constraint of a value, or one entry of an atomic batch
 * (then `field` is the batch entry's identifier and `constraint` is the
 * engine constraint, or the {@link StoreErrorType} for non-validation failures).
 */
export interface StoreViolation {
  /** The field: a variable identifier for batches, `"value"`, `"constraints"` or `"name"` otherwise. */
  readonly field: string;
  /** The constraint that failed, for example `"max"` or `"pattern"`. */
  readonly constraint: string;
  /** What went wrong, for example `"value 1.5 is above maximum 1"`. */
  readonly message: string;
  /** What the constraint expects, as text (may be absent). */
  readonly expected?: string;
  /** What was given, as text (may be absent). */
  readonly actual?: string;
  /** A JSON pointer into the value, for nested (json) values (may be absent). */
  readonly path?: string;
}

/** Optional extra data of a {@link StoreError}. */
export interface StoreErrorOptions {
  /** Free-form key/value details (for example `session`, `variable`, `limit`). Default `{}`. */
  details?: Record<string, string>;
  /** Per-field failures (validation, atomic batches). Default `[]`. */
  violations?: readonly StoreViolation[];
  /** The variable's current version (set for `VersionConflict`). */
  currentVersion?: number;
  /** The oldest revision still available for resuming a watch (set for `Compacted`). */
  oldestRevision?: number;
  /** The last revision a watcher delivered, to resume from (set for `WatcherOverflow`). */
  lastRevision?: number;
  /** The limit that was reached, for example `"maxSessions"` (set for `ResourceExhausted`). */
  limit?: string;
  /** How long to wait before retrying, in ms (set for `StoreUnavailable`). */
  retryAfterMs?: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The one error class every {@link SessionStore} throws. Discriminate on
 * `type` (a closed union), never on the message; use {@link isStoreError}
 * for a check that also works across two installed copies of this package.
 *
 * @example
 * try { await store.getSession('nope'); }
 * catch (err) { if (isStoreError(err, 'SessionNotFound')) console.log(err.details.session); }
 */
export class StoreError extends Error {
  /** Always `"StoreError"`. */
  override readonly name = 'StoreError';
  /** What kind of failure this is. */
  readonly type: StoreErrorType;
  /** Free-form key/value details (for example `session`, `variable`, `limit`). */
  readonly details: Readonly<Record<string, string>>;
  /** Per-field failures (validation errors, atomic batch failures). */
  readonly violations: readonly StoreViolation[];
  /** The variable's current version (`VersionConflict` only). */
  readonly currentVersion: number | undefined;
  /** The oldest revision still available for resuming (`Compacted` only). */
  readonly oldestRevision: number | undefined;
  /** The last revision delivered to the watcher, to resume from (`WatcherOverflow` only). */
  readonly lastRevision: number | undefined;
  /** The name of the limit that was reached (`ResourceExhausted` only). */
  readonly limit: string | undefined;
  /** How long to wait before retrying, in ms (`StoreUnavailable` only). */
  readonly retryAfterMs: number | undefined;

  /** @deprecated `ValidationFailed` is now `ValidationError`; the error's `type` is `ValidationError`. */
  constructor(type: 'ValidationFailed', message: string, options?: StoreErrorOptions);
  /** Creates a store error; `options` carries the typed extras. */
  constructor(type: StoreErrorType, message: string, options?: StoreErrorOptions);
  constructor(type: StoreErrorType | 'ValidationFailed', message: string, options: StoreErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.type = currentType(type) ?? (type as StoreErrorType);
    this.details = Object.freeze({ ...(options.details ?? {}) });
    this.violations = Object.freeze([...(options.violations ?? [])]);
    this.currentVersion = options.currentVersion;
    this.oldestRevision = options.oldestRevision;
    this.lastRevision = options.lastRevision;
    this.limit = options.limit;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Structural check for a {@link StoreError} (by `name` and `type`, so it
 * works even with two installed copies of this package), optionally of one type.
 *
 * @example
 * if (isStoreError(err, 'VersionConflict')) retryWith(err.currentVersion);
 */
export function isStoreError(err: unknown, type?: StoreErrorType): err is StoreError;
/**
 * @deprecated `ValidationFailed` is now `ValidationError`; both names match an
 * error of either name.
 */
export function isStoreError(err: unknown, type: 'ValidationFailed'): err is StoreError;
export function isStoreError(err: unknown, type?: StoreErrorType | 'ValidationFailed'): err is StoreError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; type?: unknown };
  if (e.name !== 'StoreError') return false;
  const actual = currentType(e.type);
  if (actual === undefined) return false;
  return type === undefined || actual === currentType(type);
}
