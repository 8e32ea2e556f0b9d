import { createClient, type CallOptions as ConnectCallOptions, type Client, type Transport } from '@connectrpc/connect';
import { SessionService, ToolService, ToolWorkerService, VariableService } from '@unified-bridge/proto';
import { BridgeError } from './errors.js';
import { NO_RETRY, withRetry, type RetryPolicy } from './retry.js';

/**
 * Per-call options accepted by every method of the client.
 *
 * @example
 * ```ts
 * await session.get('x', { timeoutMs: 500, signal: AbortSignal.timeout(1000) });
 * ```
 */
export interface CallOptions {
  /** The deadline of the whole call (retries and their waits included), in ms. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Aborts the call; it then rejects with a `Cancelled` BridgeError. */
  signal?: AbortSignal;
}

/**
 * How a call may be retried: `read` (idempotent: retried on Unavailable and
 * RateLimited), `cas` (a write guarded by an expected version: retried on
 * Unavailable), `write` (never retried).
 */
export type CallKind = 'read' | 'cas' | 'write';

const retryRead = (e: BridgeError): boolean => e.type === 'Unavailable' || e.type === 'RateLimited';
const retryCas = (e: BridgeError): boolean => e.type === 'Unavailable';

/** Checks a `timeoutMs` option (RangeError naming it). */
export function checkTimeout(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !(v > 0) || v > 2 ** 31 - 1) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(v)}`);
  }
  return v;
}

type SetMaxListeners = (n: number, ...targets: EventTarget[]) => void;

/**
 * Lifts Node's "possible EventTarget memory leak" threshold (10 listeners)
 * on a long-lived signal that every call in flight links to (Connect adds one
 * abort listener per call): 11 concurrent calls are not a leak. A no-op where
 * `node:events` is not available (browsers do not warn).
 */
export function allowManyListeners(signal: AbortSignal): void {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const events = proc?.getBuiltinModule?.('node:events') as { setMaxListeners?: SetMaxListeners } | undefined;
  events?.setMaxListeners?.(0, signal);
}

/**
 * The RPC layer shared by a client and its sessions: generated Connect
 * clients, deadlines, retries and the one ConnectError -> BridgeError
 * conversion. For library authors extending the client (tools).
 */
export class Rpc {
  /** SessionService client. */
  readonly sessions: Client<typeof SessionService>;
  /** VariableService client. */
  readonly variables: Client<typeof VariableService>;
  /** ToolService client. */
  readonly tools: Client<typeof ToolService>;
  /** ToolWorkerService client. */
  readonly workers: Client<typeof ToolWorkerService>;
  readonly #abort = new AbortController();

  constructor(
    /** The transport every call goes through. */
    readonly transport: Transport,
    /** Default deadline of unary calls in ms (undefined: none). */
    readonly defaultTimeoutMs: number | undefined,
    /** Retry policy of idempotent calls. */
    readonly retry: RetryPolicy,
  ) {
    this.sessions = createClient(SessionService, transport);
    this.variables = createClient(VariableService, transport);
    this.tools = createClient(ToolService, transport);
    this.workers = createClient(ToolWorkerService, transport);
    // Every call without a signal of its own links to this one.
    allowManyListeners(this.#abort.signal);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Aborts every in-flight call and stream of this client. */
  close(): void {
    this.#abort.abort(new BridgeError('Cancelled', 'the client is closed'));
  }

  /** The error every call of a closed client rejects with. */
  closedError(): BridgeError {
    return new BridgeError('Cancelled', 'the client is closed');
  }

  /** A signal that aborts when `user` aborts or the client closes. */
  signal(user?: AbortSignal): AbortSignal {
    return user ? AbortSignal.any([user, this.#abort.signal]) : this.#abort.signal;
  }

  /**
   * Runs one unary call with the deadline, cancellation and retry policy of
   * `kind`; every failure becomes a BridgeError.
   */
  async call<T>(kind: CallKind, opts: CallOptions | undefined, fn: (o: ConnectCallOptions) => Promise<T>): Promise<T> {
    if (this.closed) throw this.closedError();
    const timeoutMs = checkTimeout('timeoutMs', opts?.timeoutMs) ?? this.defaultTimeoutMs;
    const signal = this.signal(opts?.signal);
    const policy = kind === 'write' ? NO_RETRY : this.retry;
    return withRetry(policy, { timeoutMs, signal, retryable: kind === 'read' ? retryRead : retryCas }, (left) =>
      fn({ timeoutMs: left, signal }),
    );
  }
}
