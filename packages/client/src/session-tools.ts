import { create, type JsonObject } from '@bufbuild/protobuf';
import type { Code } from '@connectrpc/connect';
import {
  ExecuteToolRequestSchema,
  ExecuteToolStreamRequestSchema,
  ExecuteToolsRequestSchema,
  ListToolsRequestSchema,
  ToolCallSchema,
} from '@unified-bridge/proto';
import { decodeValue } from './codec.js';
import { BridgeError, bridgeErrorFromDetail, isBridgeError, toBridgeError, withToolName } from './errors.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { checkTimeout, type CallOptions, type Rpc } from './rpc.js';
import { checkToolName, toArguments } from './tool-arguments.js';
import { toolInfoFromWire, type ToolListCache } from './tool-list-cache.js';
import { openToolStream, type ToolStream } from './tool-stream.js';
import {
  metricsFromWire,
  type CallManyOptions,
  type CallManyResult,
  type CallWithRetryOptions,
  type ListToolsOptions,
  type ToolArguments,
  type ToolCallRequest,
  type ToolCallResult,
  type ToolInfo,
  type ToolMetrics,
} from './tool-types.js';

/**
 * A tool bound to its name: call it like a function; `.stream()`,
 * `.callWithMetrics()`, `.callWithRetry()` and `.spec` do the rest.
 *
 * @example
 * ```ts
 * const add = session.tools.proxy<number>('add');
 * console.log(await add({ a: 1, b: 2 }), (await add.spec).description);
 * ```
 */
export interface ToolProxy<T = unknown> {
  /** Calls the tool (see `session.tools.call`). */
  (args?: ToolArguments, opts?: CallOptions): Promise<T>;
  /** The tool's name. */
  readonly name: string;
  /** The tool's spec from the (cached) tool list; rejects with ToolNotFound when the session has no such tool. */
  readonly spec: Promise<ToolInfo>;
  /** Streams the tool's output (see `session.tools.stream`). */
  stream<C = unknown>(args?: ToolArguments, opts?: CallOptions): ToolStream<C>;
  /** Calls the tool and returns its result with metrics. */
  callWithMetrics(args?: ToolArguments, opts?: CallOptions): Promise<ToolCallResult<T>>;
  /** Calls the tool, retrying rate limits and unavailability (see `session.tools.callWithRetry`). */
  callWithRetry(args?: ToolArguments, opts?: CallWithRetryOptions): Promise<T>;
}

/** What {@link SessionTools} shares with its session and client. */
export interface ToolsContext {
  readonly rpc: Rpc;
  readonly retry: RetryPolicy;
  readonly lists: ToolListCache;
}

const NO_METRICS: ToolMetrics = Object.freeze({ durationMs: 0, executedBy: '' });

/**
 * The tools a session can call: host tools and worker tools, its own and
 * global ones. Obtained as `session.tools`. Tool calls are never retried
 * automatically (a tool may not be idempotent): use `callWithRetry()` to
 * opt in. Every failure of a call carries `toolName`.
 *
 * @example
 * ```ts
 * const sum = await session.tools.call<number>('add', { a: 1, b: 2 });
 * for await (const chunk of session.tools.stream('count', { n: 3 })) console.log(chunk);
 * ```
 */
export class SessionTools {
  /** Use `session.tools`. */
  constructor(
    /** The session id. */
    readonly sessionId: string,
    private readonly ctx: ToolsContext,
  ) {}

  /**
   * Every tool the session can call, ordered by name (all pages). Served
   * from a small cache: for the client's `toolListTtlMs` (default 5 s), and
   * dropped when a call in this session fails with ToolNotFound, when a
   * worker of this client registers or stops, or by `invalidate()`.
   */
  list(opts: ListToolsOptions = {}): Promise<ToolInfo[]> {
    const { rpc, lists } = this.ctx;
    return lists.get(
      this.sessionId,
      async () => {
        const out: ToolInfo[] = [];
        let pageToken = '';
        do {
          const r = await rpc.call('read', opts, (o) =>
            rpc.tools.listTools(
              create(ListToolsRequestSchema, { sessionId: this.sessionId, pageSize: 1000, pageToken }),
              o,
            ),
          );
          for (const t of r.tools) out.push(toolInfoFromWire(t));
          pageToken = r.nextPageToken;
        } while (pageToken !== '');
        return out;
      },
      { fresh: opts.fresh === true },
    );
  }

  /** The spec of one tool (from the cached list, refreshed once on a miss); ToolNotFound when absent. */
  async spec(name: string, opts: ListToolsOptions = {}): Promise<ToolInfo> {
    checkToolName(name);
    let found = (await this.list(opts)).find((t) => t.name === name);
    if (found === undefined && opts.fresh !== true) {
      found = (await this.list({ ...opts, fresh: true })).find((t) => t.name === name);
    }
    if (found === undefined) {
      throw new BridgeError('ToolNotFound', `tool '${name}' not found in session '${this.sessionId}'`, {
        toolName: name,
        details: { tool: name },
      });
    }
    return found;
  }

  /** Drops the cached tool list of this session (the next `list()` asks the server). */
  invalidate(): void {
    this.ctx.lists.invalidate(this.sessionId);
  }

  /**
   * Calls a tool and returns its result, decoded (integers beyond 2^53 are
   * bigint, tensors `{ dtype, shape, data }`, JSON as JSON). A failing tool
   * rejects with a `ToolError` BridgeError (`toolErrorType`, `details`,
   * `toolName`); bad arguments with `ValidationError` and field violations.
   */
  async call<T = unknown>(name: string, args?: ToolArguments, opts?: CallOptions): Promise<T> {
    return (await this.callWithMetrics<T>(name, args, opts)).result;
  }

  /** Like {@link call}, with the call's metrics: `{ result, metrics: { durationMs, executedBy } }`. */
  async callWithMetrics<T = unknown>(
    name: string,
    args?: ToolArguments,
    opts?: CallOptions,
  ): Promise<ToolCallResult<T>> {
    checkToolName(name);
    return this.#execute<T>(name, toArguments(name, args), opts);
  }

  /** One ExecuteTool call with checked arguments; every failure carries `toolName`. */
  async #execute<T>(name: string, args: JsonObject, opts: CallOptions | undefined): Promise<ToolCallResult<T>> {
    const { rpc } = this.ctx;
    const req = create(ExecuteToolRequestSchema, { sessionId: this.sessionId, toolName: name, arguments: args });
    try {
      const r = await rpc.call('write', opts, (o) => rpc.tools.executeTool(req, o));
      return {
        result: decodeValue(r.result, `the result of tool '${name}'`) as T,
        metrics: metricsFromWire(r.metrics) ?? NO_METRICS,
      };
    } catch (e) {
      throw this.#failure(name, toBridgeError(e));
    }
  }

  #failure(name: string, e: BridgeError): BridgeError {
    const err = withToolName(e, name);
    if (err.type === 'ToolNotFound') this.invalidate();
    return err;
  }

  /**
   * Calls a streaming tool; iterate the result with `for await`. See
   * {@link ToolStream}. `timeoutMs` bounds the whole stream (default: none,
   * unlike unary calls).
   */
  stream<T = unknown>(name: string, args?: ToolArguments, opts: CallOptions = {}): ToolStream<T> {
    checkToolName(name);
    const timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs);
    const request = create(ExecuteToolStreamRequestSchema, {
      sessionId: this.sessionId,
      toolName: name,
      arguments: toArguments(name, args),
    });
    return openToolStream<T>({
      rpc: this.ctx.rpc,
      request,
      signal: opts.signal,
      timeoutMs,
      failed: (e) => this.#failure(name, e),
    });
  }

  /**
   * Calls several tools in one round trip, run concurrently on the server
   * (up to `maxConcurrency`), and returns one outcome per call in request
   * order: `{ name, ok: true, value, metrics }` or `{ name, ok: false, error }`.
   * More than 1000 calls are sent as consecutive batches of 1000. Rejects
   * only when the batch itself fails (session gone, client closed).
   */
  async callMany<T = unknown>(
    calls: readonly ToolCallRequest[],
    opts: CallManyOptions = {},
  ): Promise<CallManyResult<T>[]> {
    if (!Array.isArray(calls)) throw new TypeError('calls must be an array of { name, args }');
    const maxConcurrency = opts.maxConcurrency ?? 0;
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 0 || maxConcurrency > 0xffffffff) {
      throw new RangeError(`maxConcurrency must be a positive integer, got ${String(opts.maxConcurrency)}`);
    }
    const wire = calls.map((c: ToolCallRequest) =>
      create(ToolCallSchema, { toolName: checkToolName(c?.name), arguments: toArguments(c.name, c.args) }),
    );
    const { rpc } = this.ctx;
    const timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs) ?? rpc.defaultTimeoutMs;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const out: CallManyResult<T>[] = [];
    let notFound = false;
    for (let start = 0; start < wire.length; start += 1000) {
      const part = wire.slice(start, start + 1000);
      const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      const r = await rpc.call('write', { timeoutMs: left, signal: opts.signal }, (o) =>
        rpc.tools.executeTools(
          create(ExecuteToolsRequestSchema, { sessionId: this.sessionId, calls: part, maxConcurrency }),
          o,
        ),
      );
      part.forEach((c, i) => {
        const name = c.toolName;
        const res = r.results[i];
        const metrics = metricsFromWire(res?.metrics);
        if (res?.outcome.case === 'result') {
          try {
            out.push({
              name,
              ok: true,
              value: decodeValue(res.outcome.value, `the result of tool '${name}'`) as T,
              metrics,
            });
          } catch (e) {
            out.push({ name, ok: false, error: withToolName(e as BridgeError, name), metrics });
          }
          return;
        }
        const error =
          res?.outcome.case === 'error'
            ? bridgeErrorFromDetail(res.outcome.value, res.code === 0 ? undefined : (res.code as Code))
            : new BridgeError('Internal', `the server sent no outcome for call ${start + i} ('${name}')`);
        if (error.type === 'ToolNotFound') notFound = true;
        out.push({ name, ok: false, error: withToolName(error, name), metrics });
      });
    }
    if (notFound) this.invalidate();
    return out;
  }

  /**
   * Calls a tool, retrying what is safe to retry: `RateLimited` (waiting at
   * least the server's retry delay), `Unavailable` (backoff with jitter from
   * the client's retry policy) and, with `attemptTimeoutMs`, an attempt that
   * ran out of time. Never retries ToolError, ValidationError or anything
   * else. Use it for idempotent tools: a retried call may run twice.
   */
  async callWithRetry<T = unknown>(name: string, args?: ToolArguments, opts: CallWithRetryOptions = {}): Promise<T> {
    checkToolName(name);
    const { retry, rpc } = this.ctx;
    const retries = opts.retries ?? retry.maxAttempts - 1;
    if (!Number.isInteger(retries) || retries < 0 || retries > 100) {
      throw new RangeError(`retries must be an integer in [0, 100], got ${String(opts.retries)}`);
    }
    const attemptTimeoutMs = checkTimeout('attemptTimeoutMs', opts.attemptTimeoutMs);
    const timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs) ?? rpc.defaultTimeoutMs;
    const json = toArguments(name, args);
    // The deadline of the attempt in flight: an attempt cut short by `attemptTimeoutMs` (and not
    // by the whole call's deadline) may be retried.
    let perAttempt: number | undefined;
    const retryable = (err: BridgeError): boolean =>
      err.type === 'RateLimited' ||
      err.type === 'Unavailable' ||
      (err.type === 'DeadlineExceeded' && attemptTimeoutMs !== undefined && perAttempt === attemptTimeoutMs);
    try {
      return await withRetry(
        { ...retry, maxAttempts: retries + 1 },
        // Failures of an attempt are BridgeErrors already (with `toolName`), classified by the call itself.
        { timeoutMs, signal: opts.signal, retryable, toError: (e) => e as BridgeError, sleep: opts.sleep },
        async (left) => {
          perAttempt =
            attemptTimeoutMs === undefined
              ? left
              : left === undefined
                ? attemptTimeoutMs
                : Math.min(left, attemptTimeoutMs);
          return (await this.#execute<T>(name, json, { timeoutMs: perAttempt, signal: opts.signal })).result;
        },
      );
    } catch (e) {
      throw isBridgeError(e) ? withToolName(e, name) : e;
    }
  }

  /**
   * A callable proxy of one tool (no round trip until called).
   *
   * @example
   * ```ts
   * const add = session.tools.proxy<number>('add');
   * await add({ a: 1, b: 2 }); // 3
   * ```
   */
  proxy<T = unknown>(name: string): ToolProxy<T> {
    checkToolName(name);
    const fn = (args?: ToolArguments, opts?: CallOptions): Promise<T> => this.call<T>(name, args, opts);
    Object.defineProperties(fn, {
      name: { value: name, configurable: true },
      spec: { get: () => this.spec(name), enumerable: true },
      stream: { value: <C>(args?: ToolArguments, opts?: CallOptions) => this.stream<C>(name, args, opts) },
      callWithMetrics: {
        value: (args?: ToolArguments, opts?: CallOptions) => this.callWithMetrics<T>(name, args, opts),
      },
      callWithRetry: {
        value: (args?: ToolArguments, opts?: CallWithRetryOptions) => this.callWithRetry<T>(name, args, opts),
      },
    });
    return fn as ToolProxy<T>;
  }

  /**
   * The same as {@link proxy}.
   *
   * @deprecated Use `proxy(name)`: `get` reads like `session.get(name)`, which reads a variable.
   */
  get<T = unknown>(name: string): ToolProxy<T> {
    return this.proxy<T>(name);
  }
}
