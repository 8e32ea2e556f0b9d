import { create, type JsonObject } from '@bufbuild/protobuf';
import type { Code } from '@connectrpc/connect';
import {
  ExecuteToolRequestSchema,
  ExecuteToolStreamRequestSchema,
  ExecuteToolsRequestSchema,
  ListToolsRequestSchema,
  ToolCallSchema,
  type ToolMetrics as WireToolMetrics,
  type ToolSpec,
} from '@unified-bridge/proto';
import { decodeValue } from './codec.js';
import {
  BridgeError,
  bridgeErrorFromDetail,
  isBridgeError,
  localValidationError,
  toBridgeError,
  toBridgeErrorFor,
  withToolName,
} from './errors.js';
import { backoffDelayMs, cancelled, sleep, type RetryPolicy } from './retry.js';
import { checkTimeout, type CallOptions, type Rpc } from './rpc.js';

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

/**
 * A tool bound to its name: call it like a function; `.stream()`,
 * `.callWithMetrics()`, `.callWithRetry()` and `.spec` do the rest.
 *
 * @example
 * ```ts
 * const add = session.tools.get<number>('add');
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

/** Default TTL of the tool-list cache, in ms. */
export const DEFAULT_TOOL_LIST_TTL_MS = 5000;

interface ListEntry {
  readonly at: number;
  readonly generation: number;
  readonly tools: Promise<ToolInfo[]>;
}

/**
 * The client's tool-list cache: one list per session, served for `ttlMs`,
 * dropped on ToolNotFound in that session and (all of them) when a worker
 * of this client registers or stops. Concurrent misses share one fetch.
 */
export class ToolListCache {
  readonly #entries = new Map<string, ListEntry>();
  #generation = 0;

  constructor(readonly ttlMs: number) {}

  /** The list of a session, from the cache or fetched with `load`. */
  get(sessionId: string, fresh: boolean, load: () => Promise<ToolInfo[]>): Promise<ToolInfo[]> {
    const hit = this.#entries.get(sessionId);
    if (!fresh && hit !== undefined && hit.generation === this.#generation && Date.now() - hit.at < this.ttlMs) {
      return hit.tools;
    }
    const tools = load();
    const entry: ListEntry = { at: Date.now(), generation: this.#generation, tools };
    if (this.ttlMs > 0) this.#entries.set(sessionId, entry);
    tools.catch(() => {
      if (this.#entries.get(sessionId) === entry) this.#entries.delete(sessionId);
    });
    return tools;
  }

  /** Drops one session's list, or every list (the tool set changed). */
  invalidate(sessionId?: string): void {
    if (sessionId === undefined) {
      this.#generation++;
      this.#entries.clear();
    } else {
      this.#entries.delete(sessionId);
    }
  }
}

/** What {@link SessionTools} shares with its session and client. */
export interface ToolsContext {
  readonly rpc: Rpc;
  readonly retry: RetryPolicy;
  readonly lists: ToolListCache;
}

/** Converts a wire ToolSpec. */
export function toolInfoFromWire(t: ToolSpec): ToolInfo {
  return {
    name: t.name,
    description: t.description,
    parameters: t.parameters as Readonly<Record<string, unknown>> | undefined,
    streaming: t.streaming,
    metadata: t.metadata,
    owner: t.owner,
    global: t.global,
  };
}

function metricsFromWire(m: WireToolMetrics | undefined): ToolMetrics | undefined {
  return m === undefined ? undefined : { durationMs: m.durationMs, executedBy: m.executedBy };
}

const NO_METRICS: ToolMetrics = Object.freeze({ durationMs: 0, executedBy: '' });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Where `v` is not JSON (a JSON pointer and what is wrong), or undefined. */
function notJson(v: unknown, path: string, depth: number): [string, string] | undefined {
  if (depth > 100) return [path, 'nests too deeply'];
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : [path, `is ${String(v)}, which JSON cannot hold`];
    case 'object':
      if (v === null) return undefined;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const bad = notJson(v[i], `${path}/${i}`, depth + 1);
          if (bad) return bad;
        }
        return undefined;
      }
      if (isPlainObject(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (x === undefined) continue; // dropped, as JSON.stringify does
          const bad = notJson(x, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1);
          if (bad) return bad;
        }
        return undefined;
      }
      return [path, `is a ${(v as object).constructor?.name ?? 'non-plain object'}, not a JSON value`];
    default:
      return [path, `is a ${typeof v}, not a JSON value`];
  }
}

/** Checks and converts tool arguments (a local ValidationError when they are not a JSON object). */
export function toArguments(name: string, args: unknown): JsonObject {
  if (args === undefined) return {};
  if (!isPlainObject(args)) {
    throw localValidationError(
      `the arguments of tool '${name}' must be a plain object`,
      [{ field: '', constraint: 'type', description: 'must be an object', expected: 'object', actual: typeof args }],
      { tool: name },
    );
  }
  const bad = notJson(args, '', 0);
  if (bad) {
    throw localValidationError(
      `the arguments of tool '${name}' are not JSON: ${bad[0] || '/'} ${bad[1]}`,
      [{ field: bad[0], constraint: 'type', description: bad[1], expected: 'JSON', actual: '' }],
      { tool: name },
    );
  }
  return JSON.parse(JSON.stringify(args)) as JsonObject;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new TypeError('tool name must be a non-empty string');
  return name;
}

/**
 * The output of a streaming tool call as an async iterable of decoded
 * chunks, in order. The call starts when iteration starts (once: a second
 * iteration is a TypeError); `break` (or the signal) cancels it and the tool
 * is told. Sequence numbers and the final message are checked: a stream that
 * drops before its end fails with `Unavailable` after the chunks received.
 *
 * @example
 * ```ts
 * const stream = session.tools.stream<number>('count', { n: 3 });
 * for await (const n of stream) console.log(n);
 * console.log(stream.totalChunks, stream.metrics?.durationMs);
 * ```
 */
export class ToolStream<T = unknown> implements AsyncIterable<T> {
  #started = false;
  #metrics: ToolMetrics | undefined;
  #total: number | undefined;

  /** Use `session.tools.stream()`. */
  constructor(private readonly run: (stream: ToolStream<T>) => AsyncGenerator<T, void, undefined>) {}

  /** The call's metrics, once the final message arrived. */
  get metrics(): ToolMetrics | undefined {
    return this.#metrics;
  }

  /** How many chunks the tool sent, once the final message arrived. */
  get totalChunks(): number | undefined {
    return this.#total;
  }

  /** @internal Records the final message. */
  end(total: number, metrics: ToolMetrics | undefined): void {
    this.#total = total;
    this.#metrics = metrics;
  }

  /** Starts the call (once). */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    if (this.#started) throw new TypeError('a tool stream can be iterated only once: call stream() again');
    this.#started = true;
    return this.run(this);
  }
}

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
    return lists.get(this.sessionId, opts.fresh === true, async () => {
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
    });
  }

  /** The spec of one tool (from the cached list, refreshed once on a miss); ToolNotFound when absent. */
  async spec(name: string, opts: ListToolsOptions = {}): Promise<ToolInfo> {
    checkName(name);
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
    checkName(name);
    const { rpc } = this.ctx;
    const req = create(ExecuteToolRequestSchema, {
      sessionId: this.sessionId,
      toolName: name,
      arguments: toArguments(name, args),
    });
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
    checkName(name);
    const timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs);
    const req = create(ExecuteToolStreamRequestSchema, {
      sessionId: this.sessionId,
      toolName: name,
      arguments: toArguments(name, args),
    });
    const { rpc } = this.ctx;
    const failure = (e: unknown, signal: AbortSignal): BridgeError => this.#failure(name, toBridgeErrorFor(e, signal));
    return new ToolStream<T>(async function* (stream) {
      if (rpc.closed) throw withToolName(rpc.closedError(), name);
      const own = new AbortController();
      const signal = rpc.signal(opts.signal ? AbortSignal.any([opts.signal, own.signal]) : own.signal);
      const bad = (message: string): BridgeError =>
        new BridgeError('Internal', `tool '${name}' stream: ${message}`, { toolName: name });
      try {
        let next = 0n;
        let ended = false;
        for await (const m of rpc.tools.executeToolStream(req, { signal, timeoutMs })) {
          if (ended) throw bad('the server sent a message after the final one');
          if (m.sequence !== next) throw bad(`expected sequence ${next}, got ${m.sequence}`);
          next++;
          if (m.payload.case === 'chunk') {
            yield decodeValue(m.payload.value, `chunk ${m.sequence} of tool '${name}'`) as T;
          } else if (m.payload.case === 'end') {
            const total = m.payload.value.totalChunks;
            if (total !== m.sequence) throw bad(`the final message counts ${total} chunks, ${m.sequence} were sent`);
            stream.end(Number(total), metricsFromWire(m.payload.value.metrics));
            ended = true;
          } else {
            throw bad(`message ${m.sequence} has neither a chunk nor the end`);
          }
        }
        if (!ended) {
          throw new BridgeError('Unavailable', `tool '${name}' stream ended before its final message`, {
            toolName: name,
          });
        }
      } catch (e) {
        if (isBridgeError(e) && e.toolName === name) throw e;
        throw failure(e, signal);
      } finally {
        // Breaking out of the loop lands here: cancel the call so the tool stops.
        own.abort(new BridgeError('Cancelled', 'the stream was closed by its consumer'));
      }
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
      create(ToolCallSchema, { toolName: checkName(c?.name), arguments: toArguments(c.name, c.args) }),
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
    checkName(name);
    const { retry, rpc } = this.ctx;
    const retries = opts.retries ?? retry.maxAttempts - 1;
    if (!Number.isInteger(retries) || retries < 0 || retries > 100) {
      throw new RangeError(`retries must be an integer in [0, 100], got ${String(opts.retries)}`);
    }
    const attemptTimeoutMs = checkTimeout('attemptTimeoutMs', opts.attemptTimeoutMs);
    const timeoutMs = checkTimeout('timeoutMs', opts.timeoutMs) ?? rpc.defaultTimeoutMs;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const wait = opts.sleep ?? sleep;
    for (let attempt = 1; ; attempt++) {
      const left = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
      const perAttempt =
        attemptTimeoutMs === undefined
          ? left
          : left === undefined
            ? attemptTimeoutMs
            : Math.min(left, attemptTimeoutMs);
      try {
        return (await this.callWithMetrics<T>(name, args, { timeoutMs: perAttempt, signal: opts.signal })).result;
      } catch (e) {
        const err = e as BridgeError;
        const retryable =
          err.type === 'RateLimited' ||
          err.type === 'Unavailable' ||
          (err.type === 'DeadlineExceeded' && attemptTimeoutMs !== undefined && perAttempt === attemptTimeoutMs);
        if (!retryable || attempt > retries || opts.signal?.aborted === true) throw err;
        const delay = backoffDelayMs(retry, attempt, err.retryDelayMs);
        if (deadline !== undefined && Date.now() + delay >= deadline) throw err;
        try {
          await wait(delay, opts.signal);
        } catch (w) {
          throw withToolName(opts.signal?.aborted ? cancelled(opts.signal) : toBridgeError(w), name);
        }
      }
    }
  }

  /**
   * A callable proxy of one tool (no round trip until called).
   *
   * @example
   * ```ts
   * const add = session.tools.get<number>('add');
   * await add({ a: 1, b: 2 }); // 3
   * ```
   */
  get<T = unknown>(name: string): ToolProxy<T> {
    checkName(name);
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
}
