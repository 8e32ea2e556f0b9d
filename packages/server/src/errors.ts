// The one place where store/engine failures become ConnectError. Every error a
// client sees is a ConnectError (never a subclass) with exactly one detail, the
// ErrorDetail message of @unified-bridge/proto, and `cause` set.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema, ErrorType, FieldViolationSchema } from '@unified-bridge/proto';
import type { ErrorDetail, FieldViolation } from '@unified-bridge/proto';
import { isStoreError } from '@unified-bridge/store';
import type { StoreError, StoreErrorType, StoreViolation } from '@unified-bridge/store';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ContextValues, Interceptor, StreamResponse, UnaryResponse } from '@connectrpc/connect';
import type { Violation } from '@unified-bridge/types';
import { isToolFailure, valueText } from '@unified-bridge/types/internal';
import type { BridgeLogger } from './logger.js';
import { observedCallOf } from './observed-call.js';

/** Init shape of the ErrorDetail message, minus the type and message given separately. */
type DetailExtras = Omit<MessageInitShape<typeof ErrorDetailSchema>, 'type' | 'message' | '$typeName'>;

/** The generic message of INTERNAL errors; the raw exception stays in the log. */
export const INTERNAL_MESSAGE = 'internal server error';

/** Creates a ConnectError with `code` and one ErrorDetail of `type`. */
export function connectError(
  code: Code,
  type: ErrorType,
  message: string,
  extras: DetailExtras = {},
  cause?: unknown,
): ConnectError {
  const detail = create(ErrorDetailSchema, { ...extras, type, message });
  return new ConnectError(message, code, undefined, [{ desc: ErrorDetailSchema, value: detail }], cause);
}

/** The status code and wire error type of every StoreError type. */
const STORE_ERROR_MAP: Readonly<Record<StoreErrorType, readonly [Code, ErrorType]>> = {
  SessionNotFound: [Code.NotFound, ErrorType.SESSION_NOT_FOUND],
  SessionExpired: [Code.NotFound, ErrorType.SESSION_EXPIRED],
  AlreadyExists: [Code.AlreadyExists, ErrorType.ALREADY_EXISTS],
  VariableNotFound: [Code.NotFound, ErrorType.VARIABLE_NOT_FOUND],
  ValidationError: [Code.InvalidArgument, ErrorType.VALIDATION_ERROR],
  VersionConflict: [Code.Aborted, ErrorType.VERSION_CONFLICT],
  Compacted: [Code.OutOfRange, ErrorType.COMPACTED],
  WatcherOverflow: [Code.ResourceExhausted, ErrorType.WATCHER_OVERFLOW],
  ResourceExhausted: [Code.ResourceExhausted, ErrorType.RESOURCE_EXHAUSTED],
  InvalidArgument: [Code.InvalidArgument, ErrorType.INVALID_ARGUMENT],
  ToolNotFound: [Code.NotFound, ErrorType.TOOL_NOT_FOUND],
  StoreClosed: [Code.Unavailable, ErrorType.UNAVAILABLE],
  StoreUnavailable: [Code.Unavailable, ErrorType.UNAVAILABLE],
};

/** The status code each wire error type stands for (ToolError: UNKNOWN unless the tool chose one). */
const TYPE_TO_CODE: Partial<Record<ErrorType, Code>> = {
  [ErrorType.VALIDATION_ERROR]: Code.InvalidArgument,
  [ErrorType.VARIABLE_NOT_FOUND]: Code.NotFound,
  [ErrorType.VERSION_CONFLICT]: Code.Aborted,
  [ErrorType.SESSION_NOT_FOUND]: Code.NotFound,
  [ErrorType.SESSION_EXPIRED]: Code.NotFound,
  [ErrorType.TOOL_NOT_FOUND]: Code.NotFound,
  [ErrorType.TOOL_ERROR]: Code.Unknown,
  [ErrorType.RATE_LIMITED]: Code.ResourceExhausted,
  [ErrorType.PAYLOAD_TOO_LARGE]: Code.ResourceExhausted,
  [ErrorType.ALREADY_EXISTS]: Code.AlreadyExists,
  [ErrorType.COMPACTED]: Code.OutOfRange,
  [ErrorType.WATCHER_OVERFLOW]: Code.ResourceExhausted,
  [ErrorType.RESOURCE_EXHAUSTED]: Code.ResourceExhausted,
  [ErrorType.UNAUTHENTICATED]: Code.Unauthenticated,
  [ErrorType.INVALID_ARGUMENT]: Code.InvalidArgument,
  [ErrorType.DEADLINE_EXCEEDED]: Code.DeadlineExceeded,
  [ErrorType.CANCELLED]: Code.Canceled,
  [ErrorType.UNAVAILABLE]: Code.Unavailable,
  [ErrorType.INTERNAL]: Code.Internal,
};

/** The generic wire error types, each the only one of its status code among the generic ones. */
const GENERIC_TYPES = [
  ErrorType.CANCELLED,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.UNAVAILABLE,
  ErrorType.UNAUTHENTICATED,
  ErrorType.INVALID_ARGUMENT,
  ErrorType.RESOURCE_EXHAUSTED,
  ErrorType.INTERNAL,
] as const;

/** The wire error type used when a ConnectError without our detail passes through: the generic type of its code. */
const CODE_TO_TYPE: Partial<Record<Code, ErrorType>> = Object.fromEntries(
  GENERIC_TYPES.map((t) => [TYPE_TO_CODE[t], t]),
);

/** Converts one store violation into a wire FieldViolation. */
export function toFieldViolation(v: StoreViolation): FieldViolation {
  return create(FieldViolationSchema, {
    field: v.path !== undefined && v.path !== '' ? `${v.field}${v.path.startsWith('/') ? '' : '/'}${v.path}` : v.field,
    constraint: v.constraint,
    description: v.message,
    expected: v.expected ?? '',
    actual: v.actual ?? '',
  });
}

/** The ErrorDetail of a StoreError (used for the status and for per-item batch results). */
export function storeErrorDetail(err: StoreError): ErrorDetail {
  const [, type] = STORE_ERROR_MAP[err.type];
  const details: Record<string, string> = { ...err.details };
  delete details['owner']; // the owner of a session (a principal) is never sent
  if (err.limit !== undefined) details['limit'] = err.limit;
  if (err.lastRevision !== undefined) details['last_revision'] = String(err.lastRevision);
  return create(ErrorDetailSchema, {
    type,
    message: err.message,
    details,
    fieldViolations: err.violations.map(toFieldViolation),
    ...(err.currentVersion !== undefined ? { currentVersion: BigInt(err.currentVersion) } : {}),
    ...(err.oldestRevision !== undefined ? { oldestRevision: BigInt(err.oldestRevision) } : {}),
    ...(err.retryAfterMs !== undefined
      ? { retryDelay: { seconds: BigInt(Math.floor(err.retryAfterMs / 1000)), nanos: (err.retryAfterMs % 1000) * 1e6 } }
      : {}),
  });
}

/** Converts a StoreError into its ConnectError (code from the fixed table). */
export function storeErrorToConnectError(err: StoreError): ConnectError {
  const [code] = STORE_ERROR_MAP[err.type];
  const detail = storeErrorDetail(err);
  return new ConnectError(err.message, code, undefined, [{ desc: ErrorDetailSchema, value: detail }], err);
}

/** True when a ConnectError already carries our ErrorDetail. */
function hasBridgeDetail(err: ConnectError): boolean {
  return err.findDetails(ErrorDetailSchema).length > 0;
}

/** Where an unexpected failure happened, for the log line. */
export interface ErrorContext {
  /** The fully qualified procedure, for example `unified_bridge.v1.SessionService/GetSession`. */
  readonly procedure?: string;
  /** The call's request id (a new one when absent). */
  readonly requestId?: string;
  /** The call's logger (the server's when absent). */
  readonly logger?: BridgeLogger;
}

/** The error context of a handler's call: its procedure, request id and logger. */
export function callErrorContext(values: ContextValues, procedure: string): ErrorContext {
  const call = observedCallOf(values);
  return call === undefined ? { procedure } : { procedure, requestId: call.requestId, logger: call.logger };
}

/**
 * Turns anything a handler threw into the ConnectError a client may see:
 * StoreError -> its code and detail; a ConnectError with our detail passes
 * unchanged; a ConnectError without it gets one (its message is ours or
 * connect's, never a raw exception's) unless no ErrorType names its code (then it passes
 * as it is); anything else becomes INTERNAL with a
 * generic message and a request id that is also logged with the raw error.
 */
export function toConnectError(err: unknown, logger: BridgeLogger, context: ErrorContext = {}): ConnectError {
  if (isStoreError(err)) return storeErrorToConnectError(err);
  if (err instanceof ConnectError) {
    if (hasBridgeDetail(err)) return err;
    if (err.code === Code.Internal || err.code === Code.Unknown) return internalError(err, logger, context);
    const type = CODE_TO_TYPE[err.code];
    // A deliberate ConnectError whose code no ErrorType names (such as grpc.health.v1's NOT_FOUND
    // for an unknown service) keeps its own code and message and carries no detail.
    if (type === undefined) return err;
    return connectError(err.code, type, err.rawMessage, {}, err);
  }
  return internalError(err, logger, context);
}

/** INTERNAL with a generic message and a logged request id. */
export function internalError(err: unknown, logger: BridgeLogger, context: ErrorContext = {}): ConnectError {
  const requestId = context.requestId ?? randomUUID();
  (context.logger ?? logger).error({ err, requestId, procedure: context.procedure }, 'unexpected error in handler');
  return connectError(Code.Internal, ErrorType.INTERNAL, INTERNAL_MESSAGE, { requestId }, err);
}

/** NOT_FOUND SessionNotFound, the same answer for a missing session and another principal's session. */
export function sessionNotFound(sessionId: string, cause?: unknown): ConnectError {
  return connectError(
    Code.NotFound,
    ErrorType.SESSION_NOT_FOUND,
    `session ${sessionId} not found`,
    { details: { session: sessionId } },
    cause,
  );
}

/** INVALID_ARGUMENT InvalidArgument for a malformed request field. */
export function invalidArgument(field: string, message: string): ConnectError {
  return connectError(Code.InvalidArgument, ErrorType.INVALID_ARGUMENT, message, {
    fieldViolations: [{ field, constraint: 'request', description: message }],
  });
}

/** UNAVAILABLE "server shutting down", for refused calls and ended streams. */
export function shuttingDown(): ConnectError {
  return connectError(Code.Unavailable, ErrorType.UNAVAILABLE, 'server shutting down');
}

/** UNAUTHENTICATED with the given reason. */
export function unauthenticated(message: string): ConnectError {
  return connectError(Code.Unauthenticated, ErrorType.UNAUTHENTICATED, message);
}

/** RESOURCE_EXHAUSTED PayloadTooLarge "message too large". */
export function payloadTooLarge(limitBytes: number, cause?: unknown): ConnectError {
  return connectError(
    Code.ResourceExhausted,
    ErrorType.PAYLOAD_TOO_LARGE,
    'message too large',
    { details: { limit: 'maxMessageBytes', max_bytes: String(limitBytes) } },
    cause,
  );
}

/**
 * The interceptor that applies {@link toConnectError} to everything a
 * handler (or an inner interceptor) throws, for unary calls and for errors
 * raised while a response stream is iterated. A failure caused by the
 * caller going away (its signal aborted with a non-Connect reason) is
 * reported as CANCELED rather than logged as INTERNAL.
 */
export function createErrorInterceptor(logger: BridgeLogger): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const map = (err: unknown): ConnectError => {
      if (req.signal.aborted && err === req.signal.reason && !(err instanceof ConnectError)) {
        return connectError(Code.Canceled, ErrorType.CANCELLED, 'the call was cancelled', {}, err);
      }
      return toConnectError(err, logger, callErrorContext(req.contextValues, procedure));
    };
    let res: UnaryResponse | StreamResponse;
    try {
      res = await next(req);
    } catch (err) {
      throw map(err);
    }
    if (!res.stream) return res;
    const source = res.message;
    async function* mapped() {
      try {
        yield* source;
      } catch (err) {
        throw map(err);
      }
    }
    return { ...res, message: mapped() };
  };
}

// ------------------------------------------------------------------- tools

/** RESOURCE_EXHAUSTED RateLimited with the time until a call is allowed again. */
export function rateLimited(sessionId: string, retryDelayMs: number): ConnectError {
  const ms = Math.max(1, Math.ceil(retryDelayMs));
  return connectError(
    Code.ResourceExhausted,
    ErrorType.RATE_LIMITED,
    `too many tool calls in session ${sessionId}: retry in ${ms} ms`,
    {
      details: { session: sessionId, limit: 'rateLimit' },
      retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 },
    },
  );
}

/** DEADLINE_EXCEEDED for a tool call whose deadline passed. */
export function toolDeadlineExceeded(toolName: string, timeoutMs: number): ConnectError {
  return connectError(
    Code.DeadlineExceeded,
    ErrorType.DEADLINE_EXCEEDED,
    `tool ${toolName} did not finish within its deadline of ${Math.round(timeoutMs)} ms`,
    { details: { tool: toolName } },
  );
}

/** CANCELLED for a tool call whose caller cancelled or went away. */
export function toolCancelled(toolName: string): ConnectError {
  return connectError(Code.Canceled, ErrorType.CANCELLED, `the call of tool ${toolName} was cancelled`, {
    details: { tool: toolName },
  });
}

/** NOT_FOUND ToolNotFound, as the store reports it, for a worker tool whose last worker just left. */
export function toolNotFound(toolName: string, sessionId: string): ConnectError {
  return connectError(Code.NotFound, ErrorType.TOOL_NOT_FOUND, `tool ${toolName} not found in session ${sessionId}`, {
    details: { tool: toolName, session: sessionId },
  });
}

/** UNAVAILABLE naming a worker (disconnected, missed heartbeats, replaced, gone). */
export function workerUnavailable(workerId: string, message: string): ConnectError {
  return connectError(Code.Unavailable, ErrorType.UNAVAILABLE, message, { details: { worker: workerId } });
}

/** INVALID_ARGUMENT ValidationError for tool arguments that fail the tool's schema (fields are JSON pointers). */
export function invalidToolArguments(toolName: string, violations: readonly Violation[]): ConnectError {
  const fieldViolations = violations.map((v) => ({
    field: `arguments${v.path !== undefined && v.path !== '' ? (v.path.startsWith('/') ? v.path : `/${v.path}`) : ''}`,
    constraint: v.constraint,
    description: v.message,
    expected: valueText(v.expected),
    actual: valueText(v.actual),
  }));
  const first = fieldViolations[0];
  const message =
    first === undefined
      ? `invalid arguments for tool ${toolName}`
      : `invalid arguments for tool ${toolName}: ${first.field} ${first.description}` +
        (fieldViolations.length > 1 ? ` (and ${fieldViolations.length - 1} more)` : '');
  return connectError(Code.InvalidArgument, ErrorType.VALIDATION_ERROR, message, {
    details: { tool: toolName },
    fieldViolations,
  });
}

/** INVALID_ARGUMENT ValidationError for a bad tool spec (announced by a worker). */
export function invalidToolSpec(
  problems: readonly { field: string; constraint: string; message: string }[],
): ConnectError {
  return connectError(
    Code.InvalidArgument,
    ErrorType.VALIDATION_ERROR,
    problems.length === 1
      ? problems[0]!.message
      : `${problems.length} problems in the tool specs: ${problems[0]?.message ?? ''}`,
    { fieldViolations: problems.map((p) => ({ field: p.field, constraint: p.constraint, description: p.message })) },
  );
}

/**
 * The failure a worker reported for a call, as the caller's ConnectError:
 * the worker's ErrorDetail passes through (a missing type becomes ToolError),
 * with the code its type stands for.
 */
export function workerReportedError(workerId: string, toolName: string, detail: ErrorDetail): ConnectError {
  const type = detail.type === ErrorType.UNSPECIFIED ? ErrorType.TOOL_ERROR : detail.type;
  const code = TYPE_TO_CODE[type] ?? Code.Unknown;
  const message = detail.message !== '' ? detail.message : `tool ${toolName} failed`;
  return connectError(
    code,
    type,
    message,
    {
      details: { ...detail.details },
      fieldViolations: detail.fieldViolations,
      toolErrorType: detail.toolErrorType !== '' ? detail.toolErrorType : type === ErrorType.TOOL_ERROR ? 'Error' : '',
      ...(detail.retryDelay !== undefined ? { retryDelay: detail.retryDelay } : {}),
    },
    new Error(`reported by worker ${workerId}`),
  );
}

/**
 * Turns whatever a host tool's handler threw into the caller's error: a
 * ToolFailure keeps its type, message, details and code; a StoreError (from
 * `ctx.session`) becomes a ToolError of its store type and message; anything
 * else is logged (with a request id) and reported as "tool <name> failed",
 * never with its own message.
 */
export function hostToolError(
  toolName: string,
  err: unknown,
  logger: BridgeLogger,
  requestId: string = randomUUID(),
): ConnectError {
  if (isToolFailure(err)) {
    return connectError(
      err.code,
      ErrorType.TOOL_ERROR,
      err.message,
      { toolErrorType: err.toolErrorType, details: { ...err.details } },
      err,
    );
  }
  if (isStoreError(err)) {
    const detail = storeErrorDetail(err);
    return connectError(
      Code.Unknown,
      ErrorType.TOOL_ERROR,
      err.message,
      { toolErrorType: err.type, details: detail.details, fieldViolations: detail.fieldViolations },
      err,
    );
  }
  logger.warn({ err, requestId, tool: toolName }, 'host tool failed');
  return connectError(
    Code.Unknown,
    ErrorType.TOOL_ERROR,
    `tool ${toolName} failed`,
    { toolErrorType: 'Error', requestId, details: { tool: toolName } },
    err,
  );
}

/** The code and ErrorDetail of a failure, for one item of a batch. */
export function errorOutcome(
  err: unknown,
  logger: BridgeLogger,
  context: ErrorContext = {},
): {
  code: Code;
  detail: ErrorDetail;
} {
  const ce = toConnectError(err, logger, context);
  const detail =
    ce.findDetails(ErrorDetailSchema)[0] ??
    create(ErrorDetailSchema, { type: ErrorType.INTERNAL, message: ce.rawMessage });
  return { code: ce.code, detail };
}
