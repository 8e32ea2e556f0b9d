// The failure a tool's handler chooses: thrown by a handler, it reaches the
// caller as a ToolError with exactly this type, message and details (any
// other thrown value becomes a generic "tool <name> failed").
import { Code } from '@connectrpc/connect';

/** Options of {@link ToolFailure}. */
export interface ToolFailureOptions {
  /** Free-form key/value details sent to the caller. Default `{}`. */
  readonly details?: Readonly<Record<string, string>>;
  /**
   * The status code of the failed call. Default `Code.Unknown` (what the
   * protocol prescribes for ToolError); for example `Code.InvalidArgument`
   * when the tool rejects its input, `Code.FailedPrecondition` for a state the
   * caller must fix first.
   */
  readonly code?: Code;
  /** The underlying error, kept for logs (never sent). */
  readonly cause?: unknown;
}

/**
 * A tool's own failure. Throw it (or {@link toolError}) from a host tool's
 * handler to fail the call with a ToolError the caller sees as given: the
 * error type (`tool_error_type`), the message and the details. Only these
 * reach the caller; a plain `Error` is reported as "tool <name> failed"
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
  /** The status code of the failed call (default `Code.Unknown`). */
  readonly code: Code;

  /** Creates the failure; a TypeError names a bad argument. */
  constructor(type: string, message: string, options: ToolFailureOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (typeof type !== 'string' || type === '') throw new TypeError('ToolFailure: type must be a non-empty string');
    if (typeof message !== 'string') throw new TypeError('ToolFailure: message must be a string');
    const details: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.details ?? {})) {
      if (typeof v !== 'string') throw new TypeError(`ToolFailure: details.${k} must be a string`);
      details[k] = v;
    }
    const code = options.code ?? Code.Unknown;
    if (!Number.isInteger(code) || code < Code.Canceled || code > Code.Unauthenticated) {
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
 * Creates a {@link ToolFailure} to throw from a handler.
 *
 * @example
 * throw toolError('NotFound', `no city named ${args.city}`, { city: String(args.city) }, Code.NotFound);
 */
export function toolError(
  type: string,
  message: string,
  details?: Readonly<Record<string, string>>,
  code?: Code,
): ToolFailure {
  return new ToolFailure(type, message, {
    ...(details !== undefined ? { details } : {}),
    ...(code !== undefined ? { code } : {}),
  });
}

/** True for a ToolFailure, also one from another copy of this package (checked by shape). */
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
