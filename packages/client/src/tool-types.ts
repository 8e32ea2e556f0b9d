// The data and option types of `session.tools` (a leaf: no imports of other tool modules).
import type { ToolMetrics as WireToolMetrics } from '@unified-bridge/proto';
import type { BridgeError } from './errors.js';
import type { CallOptions } from './rpc.js';

/** A tool as `session.tools.list()` reports it. */
export interface ToolInfo {
  /** The name, unique among the tools the session can see. */
  readonly name: string;
  /** What the tool does (may be empty). */
  readonly description: string;
  /** The JSON Schema of the arguments object; undefined accepts any object. */
  readonly parameters: Readonly<Record<string, unknown>> | undefined;
  /** Whether the tool streams its output (call it with `stream()`). */
  readonly streaming: boolean;
  /** Free-form metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Who serves it: `"host"` (a tool of the embedding service) or a worker id. */
  readonly owner: string;
  /** Whether every session can see it. */
  readonly global: boolean;
}

/** Timing of one tool call, as the server measured it. */
export interface ToolMetrics {
  /** Wall time from dispatch to completion on the server, in milliseconds. */
  readonly durationMs: number;
  /** Who executed the call: `"host"` or a worker id. */
  readonly executedBy: string;
}

/** The result of `callWithMetrics()`: the decoded result and the call's metrics. */
export interface ToolCallResult<T = unknown> {
  /** The tool's result, decoded by `@unified-bridge/types` (`fromWire`). */
  readonly result: T;
  /** Timing of the call. */
  readonly metrics: ToolMetrics;
}

/** The arguments of a tool call: a JSON object (checked locally; not JSON is a ValidationError). */
export type ToolArguments = Readonly<Record<string, unknown>>;

/** Options of `session.tools.list()` and `spec()`. */
export interface ListToolsOptions extends CallOptions {
  /** Bypass the tool-list cache (the fresh list is cached). Default false. */
  fresh?: boolean;
}

/** One call of `session.tools.callMany()`. */
export interface ToolCallRequest {
  /** The tool's name. */
  readonly name: string;
  /** The arguments. Default `{}`. */
  readonly args?: ToolArguments;
}

/** Options of `session.tools.callMany()`. */
export interface CallManyOptions extends CallOptions {
  /** How many calls the server runs at once. Default: the server's (16). */
  maxConcurrency?: number;
}

/** The outcome of one call of `callMany()`, in request order. */
export type CallManyResult<T = unknown> =
  | { readonly name: string; readonly ok: true; readonly value: T; readonly metrics: ToolMetrics | undefined }
  | {
      readonly name: string;
      readonly ok: false;
      readonly error: BridgeError;
      readonly metrics: ToolMetrics | undefined;
    };

/**
 * Options of `session.tools.callWithRetry()`.
 *
 * @example
 * ```ts
 * await session.tools.callWithRetry('search', { q: 'x' }, { retries: 5, attemptTimeoutMs: 2000 });
 * ```
 */
export interface CallWithRetryOptions extends CallOptions {
  /** Retries after the first attempt. Default: the client's `retry.maxAttempts - 1` (3). */
  retries?: number;
  /**
   * Deadline of each attempt in ms; an attempt that exceeds it is retried
   * (while `timeoutMs`, the whole call's deadline, allows). Default: none
   * (each attempt gets what is left of `timeoutMs`).
   */
  attemptTimeoutMs?: number;
  /**
   * The wait between attempts (given the delay in ms and the call's signal).
   * Default: an unref'd timer. Inject one to observe or skip the waits in tests.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Converts wire tool metrics. */
export function metricsFromWire(m: WireToolMetrics | undefined): ToolMetrics | undefined {
  return m === undefined ? undefined : { durationMs: m.durationMs, executedBy: m.executedBy };
}
