import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType, type ErrorDetail } from '@unified-bridge/proto';
import { namesByWireNumber } from './wire-enum.js';

/**
 * Every {@link BridgeErrorType}, in wire enum order (handy for exhaustive
 * tests and switches): the wire `ErrorDetail.type` as a string, plus the
 * transport-level types. The one list the type is derived from.
 */
export const BRIDGE_ERROR_TYPES = Object.freeze([
  'ValidationError',
  'VariableNotFound',
  'VersionConflict',
  'SessionNotFound',
  'SessionExpired',
  'ToolNotFound',
  'ToolError',
  'RateLimited',
  'PayloadTooLarge',
  'AlreadyExists',
  'Compacted',
  'WatcherOverflow',
  'ResourceExhausted',
  'Unauthenticated',
  'InvalidArgument',
  'DeadlineExceeded',
  'Cancelled',
  'Unavailable',
  'Internal',
] as const);

/** The closed list of error types a {@link BridgeError} can have (see {@link BRIDGE_ERROR_TYPES}). */
export type BridgeErrorType = (typeof BRIDGE_ERROR_TYPES)[number];

/** One failed field of a {@link BridgeError}: a variable of a batch, a constraint of a value, a tool argument. */
export interface BridgeFieldViolation {
  /** The field: a variable name or id, `"value"`, or a JSON pointer into tool arguments. */
  readonly field: string;
  /** The constraint that failed, for example `"max"` or `"pattern"`. */
  readonly constraint: string;
  /** What went wrong, for example `"value 1.5 is above maximum 1"`. */
  readonly description: string;
  /** What the constraint expects, as text (empty when unknown). */
  readonly expected: string;
  /** What was given, as text (empty when unknown). */
  readonly actual: string;
}

/** Everything a {@link BridgeError} can carry besides its type, code and message. */
export interface BridgeErrorInit {
  /** The Connect status code. Default: the code that belongs to the type. */
  code?: Code;
  /** Free-form key/value details (for example `variable`, `limit`). Default `{}`. */
  details?: Readonly<Record<string, string>>;
  /** Per-field failures. Default `[]`. */
  fieldViolations?: readonly BridgeFieldViolation[];
  /** How long to wait before retrying, in milliseconds (RateLimited, Unavailable). */
  retryDelayMs?: number;
  /** The variable's current version (VersionConflict). */
  currentVersion?: number;
  /** The oldest revision still available to resume a watch (Compacted). */
  oldestRevision?: number;
  /** The tool's own error type (ToolError). */
  toolErrorType?: string;
  /** The tool a failed tool call named (set by `session.tools` on every failure of a call). */
  toolName?: string;
  /** The server log's request id (Internal). */
  requestId?: string;
  /** The underlying error (usually the `ConnectError`). */
  cause?: unknown;
}

const BRAND = Symbol.for('@unified-bridge/client.BridgeError');

const TYPE_CODES: Readonly<Record<BridgeErrorType, Code>> = {
  ValidationError: Code.InvalidArgument,
  VariableNotFound: Code.NotFound,
  VersionConflict: Code.Aborted,
  SessionNotFound: Code.NotFound,
  SessionExpired: Code.NotFound,
  ToolNotFound: Code.NotFound,
  ToolError: Code.Unknown,
  RateLimited: Code.ResourceExhausted,
  PayloadTooLarge: Code.ResourceExhausted,
  AlreadyExists: Code.AlreadyExists,
  Compacted: Code.OutOfRange,
  WatcherOverflow: Code.ResourceExhausted,
  ResourceExhausted: Code.ResourceExhausted,
  Unauthenticated: Code.Unauthenticated,
  InvalidArgument: Code.InvalidArgument,
  DeadlineExceeded: Code.DeadlineExceeded,
  Cancelled: Code.Canceled,
  Unavailable: Code.Unavailable,
  Internal: Code.Internal,
};

/**
 * The one error class of the client: every failed call rejects with it.
 * Check it with {@link isBridgeError} (works across two installed copies),
 * then branch on `type`.
 *
 * @example
 * ```ts
 * try {
 *   await session.set('temperature', 2, { expectedVersion: 3 });
 * } catch (err) {
 *   if (isBridgeError(err, 'VersionConflict')) console.log('now at', err.currentVersion);
 *   else throw err;
 * }
 * ```
 */
export class BridgeError extends Error {
  /** Always `"BridgeError"`. */
  override readonly name = 'BridgeError' as const;
  /** What went wrong, from a closed list. */
  readonly type: BridgeErrorType;
  /** The Connect status code of the failure. */
  readonly code: Code;
  /** Free-form key/value details from the server (for example `variable`, `limit`). */
  readonly details: Readonly<Record<string, string>>;
  /** Per-field failures (validation errors, atomic batch failures). */
  readonly fieldViolations: readonly BridgeFieldViolation[];
  /** How long the server asks to wait before retrying, in milliseconds, if it said so. */
  readonly retryDelayMs: number | undefined;
  /** The variable's current version (VersionConflict). */
  readonly currentVersion: number | undefined;
  /** The oldest revision a watch can resume from (Compacted). */
  readonly oldestRevision: number | undefined;
  /** The tool's own error type (ToolError), for example `"ValidationError"`. */
  readonly toolErrorType: string | undefined;
  /** The tool a failed tool call named (any failure of a `session.tools` call), for example `"add"`. */
  readonly toolName: string | undefined;
  /** The server log's request id (Internal), to quote in a bug report. */
  readonly requestId: string | undefined;
  /** Brand for {@link isBridgeError}; shared by every copy of this package. */
  readonly [BRAND] = true;

  /** Creates a BridgeError; the code defaults to the one that belongs to `type`. */
  constructor(type: BridgeErrorType, message: string, init: BridgeErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.type = type;
    this.code = init.code ?? TYPE_CODES[type];
    this.details = init.details ?? {};
    this.fieldViolations = init.fieldViolations ?? [];
    this.retryDelayMs = init.retryDelayMs;
    this.currentVersion = init.currentVersion;
    this.oldestRevision = init.oldestRevision;
    this.toolErrorType = init.toolErrorType;
    this.toolName = init.toolName;
    this.requestId = init.requestId;
  }
}

/**
 * True when `err` is a {@link BridgeError} (of the given type, if one is
 * given). Structural: it also recognises errors thrown by another installed
 * copy of this package.
 *
 * @example
 * ```ts
 * if (isBridgeError(err, 'VariableNotFound')) return undefined;
 * ```
 */
export function isBridgeError<T extends BridgeErrorType>(
  err: unknown,
  type?: T,
): err is BridgeError & { readonly type: T } {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Partial<BridgeError> & { [BRAND]?: unknown };
  if (e[BRAND] !== true || e.name !== 'BridgeError' || typeof e.type !== 'string') return false;
  return type === undefined || e.type === type;
}

/** Wire `ErrorType` -> {@link BridgeErrorType}, by name (`VALIDATION_ERROR` -> `ValidationError`). */
const WIRE_TYPES = namesByWireNumber(ErrorType, BRIDGE_ERROR_TYPES);

/** The type of an error that carries no ErrorDetail (proxies, transports, non-conforming servers). */
function typeFromCode(code: Code, cause: unknown): BridgeErrorType {
  switch (code) {
    case Code.Canceled:
      return 'Cancelled';
    case Code.DeadlineExceeded:
      return 'DeadlineExceeded';
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return 'Unauthenticated';
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 'InvalidArgument';
    case Code.AlreadyExists:
      return 'AlreadyExists';
    case Code.ResourceExhausted:
      return 'ResourceExhausted';
    case Code.Unavailable:
      return 'Unavailable';
    case Code.Aborted:
      // connect-node reports a reset connection (ECONNRESET, destroyed stream)
      // as ABORTED without a detail; a server-side abort always carries one.
      return 'Unavailable';
    default:
      return hasSystemErrorCode(cause) ? 'Unavailable' : 'Internal';
  }
}

/** True when the cause chain holds a Node.js system error (`code` like "ECONNRESET"): a transport failure. */
function hasSystemErrorCode(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|ERR_HTTP2_|ERR_STREAM_)/.test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function fromDetail(detail: ErrorDetail, code: Code, message: string, cause: unknown): BridgeError {
  const type = WIRE_TYPES.get(detail.type) ?? typeFromCode(code, cause);
  const delay = detail.retryDelay;
  return new BridgeError(type, detail.message || message, {
    code,
    details: { ...detail.details },
    fieldViolations: detail.fieldViolations.map((v) => ({
      field: v.field,
      constraint: v.constraint,
      description: v.description,
      expected: v.expected,
      actual: v.actual,
    })),
    retryDelayMs: delay === undefined ? undefined : Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6),
    currentVersion: detail.currentVersion === undefined ? undefined : Number(detail.currentVersion),
    oldestRevision: detail.oldestRevision === undefined ? undefined : Number(detail.oldestRevision),
    toolErrorType: detail.toolErrorType || undefined,
    requestId: detail.requestId || undefined,
    cause,
  });
}

/**
 * Converts a wire `ErrorDetail` (for example one result of a non-atomic batch
 * update) into a BridgeError. For library authors building on the client.
 */
export function bridgeErrorFromDetail(detail: ErrorDetail, code?: Code): BridgeError {
  const type = WIRE_TYPES.get(detail.type) ?? 'Internal';
  return fromDetail(detail, code ?? TYPE_CODES[type], detail.message, undefined);
}

/**
 * Turns anything a call can throw into a {@link BridgeError}: a
 * `ConnectError` through its `ErrorDetail` (or its code when it has none),
 * a transport failure into `Unavailable`. A BridgeError is returned as is.
 * The client is the only place where this conversion happens.
 */
export function toBridgeError(err: unknown): BridgeError {
  if (isBridgeError(err)) return err;
  if (err instanceof ConnectError) {
    const ce = err;
    const [detail] = ce.findDetails(ErrorDetailSchema);
    if (detail) return fromDetail(detail, ce.code, ce.rawMessage, ce);
    const type = typeFromCode(ce.code, ce.cause);
    // A transport failure is reported as UNAVAILABLE whatever code the transport chose.
    return new BridgeError(type, ce.rawMessage, {
      code: type === 'Unavailable' ? Code.Unavailable : ce.code,
      cause: ce,
    });
  }
  if (err instanceof Error && err.name === 'AbortError') {
    return new BridgeError('Cancelled', err.message || 'the call was cancelled', { cause: err });
  }
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new BridgeError('DeadlineExceeded', err.message || 'the deadline expired', { cause: err });
  }
  // Anything else escaped the transport (fetch failures, socket errors): the
  // server could not be reached or the connection died.
  const message = err instanceof Error ? err.message : String(err);
  return new BridgeError('Unavailable', message || 'the server is unavailable', { cause: err });
}

/**
 * Like {@link toBridgeError}, knowing whether the caller cancelled: a
 * `Cancelled` failure the caller did not ask for (an HTTP/2 stream reset
 * because the connection died) is a transport failure, `Unavailable`.
 */
export function toBridgeErrorFor(err: unknown, signal: AbortSignal | undefined): BridgeError {
  const e = toBridgeError(err);
  if (e.type !== 'Cancelled' || signal?.aborted === true) return e;
  return new BridgeError('Unavailable', e.message, { code: Code.Unavailable, cause: e.cause ?? e });
}

/**
 * Builds the local `ValidationError` (code INVALID_ARGUMENT) raised before
 * any round trip when a value fails its variable's type or constraints.
 */
export function localValidationError(
  message: string,
  fieldViolations: readonly BridgeFieldViolation[],
  details: Readonly<Record<string, string>> = {},
): BridgeError {
  return new BridgeError('ValidationError', message, { code: Code.InvalidArgument, fieldViolations, details });
}

/** The same error with `toolName` set (a copy; the stack and cause are kept). */
export function withToolName(err: BridgeError, toolName: string): BridgeError {
  if (err.toolName === toolName) return err;
  const copy = new BridgeError(err.type, err.message, {
    code: err.code,
    details: err.details,
    fieldViolations: err.fieldViolations,
    retryDelayMs: err.retryDelayMs,
    currentVersion: err.currentVersion,
    oldestRevision: err.oldestRevision,
    toolErrorType: err.toolErrorType,
    toolName,
    requestId: err.requestId,
    cause: err.cause,
  });
  if (err.stack !== undefined) copy.stack = err.stack;
  return copy;
}
