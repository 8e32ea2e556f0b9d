// @private Internal code of unified-bridge, does not follow semantic versioning.
//
// The failure a tool's handler chooses, one shape for host tools (run by the
// server) and worker tools (run by a client): thrown by a handler, it reaches
// the caller as a ToolError with exactly this type, message and details (any
// other thrown value is reported without its message). The server and the
// client re-export it; tool authors import it from there.

/** `Code.Unknown` of @connectrpc/connect: the status of a ToolError unless the tool chooses one. */
const CODE_UNKNOWN = 2;
/** `Code.Canceled`, the lowest code other than OK. */
const CODE_MIN = 1;
/** `Code.Unauthenticated`, the highest code. */
const CODE_MAX = 16;

/** Options of {@link ToolFailure}. */
export interface ToolFailureOptions {
  /** Free-form key/value details sent to the caller. Default `{}`. */
  readonly details?: Readonly<Record<string, string>>;
  /**
   * The status code of the failed call: a `Code` from @connectrpc/connect
   * other than OK. Default `Code.Unknown` (2, what the protocol prescribes
   * for ToolError); for example `Code.InvalidArgument` when the tool rejects
   * its input, `Code.FailedPrecondition` for a state the caller must fix first.
   */
  readonly code?: number;
  /** The underlying error, kept for logs (never sent). */
  readonly cause?: unknown;
}

/**
 * A tool's own failure. Throw it (or {@link toolError}) from a tool's handler
 * to fail the call with a ToolError the caller sees as given: the error type
 * (`tool_error_type`), the message and the details. Only these reach the
 * caller of a host tool; a plain `Error` is reported as "tool <name> failed"
 * without its message.
 *
 * @example
 * throw new ToolFailure('QuotaExceeded', 'the daily quota is used up', { details: { quota: '100' } });
 */
export class ToolFailure extends Error {
  /** Always `"ToolFailure"`. */
  override readonly name = 'ToolFailure';
  /** The tool's error type, free-form (for example `"NotFound"`), sent as `tool_error_type`. */
  readonly toolErrorType: string;
  /** Key/value details sent to the caller. */
  readonly details: Readonly<Record<string, string>>;
  /** The status code of the failed call, a `Code` from @connectrpc/connect (default `Code.Unknown`, 2). */
  readonly code: number;

  /** Creates the failure; a TypeError (RangeError for `code`) names a bad argument. */
  constructor(type: string, message: string, options: ToolFailureOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (typeof type !== 'string' || type === '') throw new TypeError('ToolFailure: type must be a non-empty string');
    if (typeof message !== 'string') throw new TypeError('ToolFailure: message must be a string');
    const details: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.details ?? {})) {
      if (typeof v !== 'string') throw new TypeError(`ToolFailure: details.${k} must be a string`);
      details[k] = v;
    }
    const code = options.code ?? CODE_UNKNOWN;
    if (!Number.isInteger(code) || code < CODE_MIN || code > CODE_MAX) {
      throw new RangeError(
        `ToolFailure: code must be a Code from @connectrpc/connect other than OK, got ${String(code)}`,
      );
    }
    this.toolErrorType = type;
    this.details = Object.freeze(details);
    this.code = code;
  }
}

/**
 * Creates a {@link ToolFailure} to throw from a handler. `code` is a `Code`
 * from @connectrpc/connect (default `Code.Unknown`).
 *
 * @example
 * throw toolError('NotFound', `no city named ${args.city}`, { city: String(args.city) }, Code.NotFound);
 */
export function toolError(
  type: string,
  message: string,
  details?: Readonly<Record<string, string>>,
  code?: number,
): ToolFailure {
  return new ToolFailure(type, message, {
    ...(details !== undefined ? { details } : {}),
    ...(code !== undefined ? { code } : {}),
  });
}

/** True for a {@link ToolFailure}, also one from another copy of this package (checked by shape). */
export function isToolFailure(err: unknown): err is ToolFailure {
  if (err instanceof ToolFailure) return true;
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Partial<ToolFailure>;
  return (
    e.name === 'ToolFailure' &&
    typeof e.toolErrorType === 'string' &&
    typeof e.message === 'string' &&
    typeof e.code === 'number' &&
    typeof e.details === 'object' &&
    e.details !== null
  );
}
