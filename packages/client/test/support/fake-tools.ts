// An in-memory fake of ToolService and ToolWorkerService for unit tests of the
// client through createRouterTransport (no socket). It follows the comments of
// tool.proto: listing ordered by name and paged, unary calls with metrics,
// streams with consecutive sequence numbers and a final `end`, batches in
// request order, and workers that receive calls, cancellations and pings on
// their ServeTools stream and answer through the unary reports. It does not
// validate arguments against JSON Schemas (the real server does).
import { create, type JsonObject } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import {
  ErrorDetailSchema,
  ErrorType,
  ExecuteToolStreamResponseSchema,
  ServeToolsResponseSchema,
  ToolCallResultSchema,
  ToolSpecSchema,
  ToolService,
  ToolWorkerService,
  type ErrorDetail,
  type ExecuteToolStreamResponse,
  type ServeToolsResponse,
  type ToolSpec,
  type Value,
} from '@unified-bridge/proto';
import { toWire } from '@unified-bridge/types';
import { wireError } from './fake-bridge.js';

/** A host tool of the fake: a unary function or an async generator of chunks. */
export interface FakeHostTool {
  description?: string;
  streaming?: boolean;
  /** Unary: the result (a JS value, encoded with toWire) or a thrown ConnectError. */
  run?: (args: JsonObject, signal: AbortSignal) => unknown;
  /** Streaming: yields chunks; the signal aborts when the caller cancels. */
  stream?: (args: JsonObject, signal: AbortSignal) => AsyncIterable<unknown>;
}

/** A simple unbounded async queue that can be ended with an error. */
class Channel<T> {
  readonly #items: T[] = [];
  #wake: (() => void) | undefined;
  #end: { error: Error | undefined } | undefined;

  push(item: T): void {
    this.#items.push(item);
    this.#wake?.();
  }

  end(error?: Error): void {
    this.#end ??= { error };
    this.#wake?.();
  }

  get ended(): boolean {
    return this.#end !== undefined;
  }

  async *drain(signal: AbortSignal): AsyncGenerator<T> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift() as T;
      if (this.#end) {
        if (this.#end.error) throw this.#end.error;
        return;
      }
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      this.#wake = undefined;
    }
  }
}

interface FakeWorker {
  readonly id: string;
  readonly sessionId: string;
  readonly tools: ToolSpec[];
  readonly events: Channel<ServeToolsResponse>;
  readonly maxConcurrency: number;
}

interface PendingCall {
  readonly workerId: string;
  readonly streaming: boolean;
  readonly chunks: Channel<Value>;
  nextSequence: bigint;
  outcome: { result?: Value; error?: ErrorDetail } | undefined;
  done: () => void;
  readonly finished: Promise<void>;
}

function detailOf(e: unknown): { detail: ErrorDetail; code: Code } {
  if (e instanceof ConnectError) {
    const [d] = e.findDetails(ErrorDetailSchema);
    return {
      detail: d ?? create(ErrorDetailSchema, { type: ErrorType.INTERNAL, message: e.rawMessage }),
      code: e.code,
    };
  }
  return {
    detail: create(ErrorDetailSchema, { type: ErrorType.TOOL_ERROR, message: String((e as Error)?.message ?? e) }),
    code: Code.Unknown,
  };
}

export class FakeTools {
  readonly host = new Map<string, FakeHostTool>();
  readonly workers = new Map<string, FakeWorker>();
  readonly calls = new Map<string, number>();
  readonly faults = new Map<string, Error[]>();
  /** Heartbeats received: worker id and nonce. */
  readonly heartbeats: { workerId: string; nonce: bigint }[] = [];
  /** Chunk and result reports received, in order. */
  readonly reports: { kind: 'chunk' | 'result'; callId: string; sequence?: bigint; outcome?: string }[] = [];
  /** ServeTools requests received. */
  readonly serveRequests: { workerId: string; sessionId: string; maxConcurrency: number; tools: string[] }[] = [];
  /** Page size of ListTools when the request gives none. */
  defaultPageSize = 100;
  /** heartbeat_interval_ms announced to workers. */
  heartbeatIntervalMs = 0;
  /** Tool names whose stream calls were cancelled by their caller. */
  readonly cancelled: string[] = [];
  /** Whether a caller's cancellation is forwarded to the worker (WorkerCancel). */
  sendCancels = true;
  /** Lets a test drop (return undefined) or rewrite stream messages, like a faulty proxy. */
  tamperStream: ((m: ExecuteToolStreamResponse) => ExecuteToolStreamResponse | undefined) | undefined;
  readonly #pending = new Map<string, PendingCall>();
  #nextId = 1;

  count(method: string): number {
    return this.calls.get(method) ?? 0;
  }

  failNext(method: string, ...errors: Error[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...errors]);
  }

  #enter(method: string): void {
    this.calls.set(method, this.count(method) + 1);
    const f = this.faults.get(method)?.shift();
    if (f) throw f;
  }

  /** Sends a ping to a worker. */
  ping(workerId: string, nonce: bigint): void {
    this.#worker(workerId).events.push(create(ServeToolsResponseSchema, { event: { case: 'ping', value: { nonce } } }));
  }

  /** Ends a worker's stream with an error (a dropped connection). */
  dropWorker(workerId: string, error: Error = new ConnectError('connection lost', Code.Unavailable)): void {
    const w = this.#worker(workerId);
    this.workers.delete(workerId);
    w.events.end(error);
    this.#failCallsOf(workerId);
  }

  /** The ids of pending worker calls. */
  pendingCalls(): string[] {
    return [...this.#pending.keys()];
  }

  #worker(id: string): FakeWorker {
    const w = this.workers.get(id);
    if (!w) throw new Error(`no worker ${id}`);
    return w;
  }

  #failCallsOf(workerId: string): void {
    for (const [id, p] of this.#pending) {
      if (p.workerId !== workerId) continue;
      p.outcome = {
        error: create(ErrorDetailSchema, { type: ErrorType.UNAVAILABLE, message: 'the worker went away' }),
      };
      p.chunks.end();
      p.done();
      this.#pending.delete(id);
    }
  }

  #visible(sessionId: string): ToolSpec[] {
    const out: ToolSpec[] = [];
    for (const [name, t] of this.host) {
      out.push(
        create(ToolSpecSchema, {
          name,
          description: t.description ?? '',
          streaming: t.streaming ?? t.stream !== undefined,
          owner: 'host',
          global: true,
        }),
      );
    }
    for (const w of this.workers.values()) {
      if (w.sessionId !== '' && w.sessionId !== sessionId) continue;
      for (const t of w.tools) out.push(create(ToolSpecSchema, { ...t, owner: w.id, global: w.sessionId === '' }));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  #find(sessionId: string, name: string): { host?: FakeHostTool; worker?: FakeWorker; spec: ToolSpec } {
    const h = this.host.get(name);
    if (h) return { host: h, spec: this.#visible(sessionId).find((t) => t.name === name) as ToolSpec };
    for (const w of this.workers.values()) {
      if (w.sessionId !== '' && w.sessionId !== sessionId) continue;
      const spec = w.tools.find((t) => t.name === name);
      if (spec) return { worker: w, spec };
    }
    throw wireError(Code.NotFound, ErrorType.TOOL_NOT_FOUND, `tool '${name}' not found`);
  }

  /** Starts a call on a worker; the returned pending call collects chunks and the outcome. */
  #dispatch(
    w: FakeWorker,
    sessionId: string,
    name: string,
    args: JsonObject | undefined,
    streaming: boolean,
    signal: AbortSignal,
    timeoutMs = 0,
  ): PendingCall {
    const callId = `c${this.#nextId++}`;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const p: PendingCall = {
      workerId: w.id,
      streaming,
      chunks: new Channel(),
      nextSequence: 0n,
      outcome: undefined,
      done,
      finished,
    };
    this.#pending.set(callId, p);
    signal.addEventListener(
      'abort',
      () => {
        if (!this.#pending.has(callId)) return;
        this.#pending.delete(callId);
        this.cancelled.push(name);
        if (this.sendCancels)
          w.events.push(
            create(ServeToolsResponseSchema, {
              event: { case: 'cancel', value: { callId, reason: 'caller cancelled' } },
            }),
          );
        p.chunks.end();
        done();
      },
      { once: true },
    );
    w.events.push(
      create(ServeToolsResponseSchema, {
        event: {
          case: 'call',
          value: { callId, toolName: name, sessionId, arguments: args ?? {}, streaming, timeoutMs },
        },
      }),
    );
    return p;
  }

  routes = (router: ConnectRouter): void => {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    router.service(ToolService, {
      listTools: (req) => {
        this.#enter('listTools');
        const all = this.#visible(req.sessionId);
        const start = req.pageToken ? Number(req.pageToken) : 0;
        const size = req.pageSize || this.defaultPageSize;
        return {
          tools: all.slice(start, start + size),
          nextPageToken: start + size < all.length ? String(start + size) : '',
        };
      },
      executeTool: async (req, ctx) => {
        this.#enter('executeTool');
        const t0 = Date.now();
        const found = this.#find(req.sessionId, req.toolName);
        if (found.host) {
          const result = await found.host.run?.(req.arguments ?? {}, ctx.signal);
          return { result: toWire(result ?? null), metrics: { durationMs: Date.now() - t0, executedBy: 'host' } };
        }
        const w = found.worker as FakeWorker;
        const p = this.#dispatch(
          w,
          req.sessionId,
          req.toolName,
          req.arguments,
          false,
          ctx.signal,
          ctx.timeoutMs() ?? 0,
        );
        await p.finished;
        if (p.outcome?.error) {
          throw new ConnectError(
            p.outcome.error.message,
            p.outcome.error.type === ErrorType.UNAVAILABLE ? Code.Unavailable : Code.Unknown,
            undefined,
            [{ desc: ErrorDetailSchema, value: p.outcome.error }],
          );
        }
        if (!p.outcome) throw new ConnectError('cancelled', Code.Canceled);
        return { result: p.outcome.result ?? toWire(null), metrics: { durationMs: Date.now() - t0, executedBy: w.id } };
      },
      executeToolStream: async function* (this: void, req, ctx) {
        for await (const m of self.#stream(req.sessionId, req.toolName, req.arguments, ctx.signal)) {
          const out = self.tamperStream ? self.tamperStream(m) : m;
          if (out) yield out;
        }
      },
      executeTools: async (req, ctx) => {
        this.#enter('executeTools');
        const results = await Promise.all(
          req.calls.map(async (c) => {
            try {
              const found = this.#find(req.sessionId, c.toolName);
              if (!found.host?.run)
                throw wireError(Code.Unimplemented, ErrorType.INVALID_ARGUMENT, 'fake batches host tools only');
              const value = await found.host.run(c.arguments ?? {}, ctx.signal);
              return create(ToolCallResultSchema, {
                outcome: { case: 'result', value: toWire(value ?? null) },
                metrics: { durationMs: 1, executedBy: 'host' },
              });
            } catch (e) {
              const { detail, code } = detailOf(e);
              return create(ToolCallResultSchema, { outcome: { case: 'error', value: detail }, code });
            }
          }),
        );
        return { results };
      },
    });
    router.service(ToolWorkerService, {
      serveTools: (req, ctx) => this.#serve(req.sessionId, req.workerId, req.tools, req.maxConcurrency, ctx.signal),
      reportToolChunk: (req) => {
        this.#enter('reportToolChunk');
        this.reports.push({ kind: 'chunk', callId: req.callId, sequence: req.sequence });
        const p = this.#pending.get(req.callId);
        if (!p || p.workerId !== req.workerId || req.sequence !== p.nextSequence || !req.chunk)
          return { accepted: false };
        p.nextSequence++;
        p.chunks.push(req.chunk);
        return { accepted: true };
      },
      reportToolResult: (req) => {
        this.#enter('reportToolResult');
        this.reports.push({ kind: 'result', callId: req.callId, outcome: req.outcome.case ?? 'none' });
        const p = this.#pending.get(req.callId);
        if (!p || p.workerId !== req.workerId) return { accepted: false };
        this.#pending.delete(req.callId);
        p.outcome =
          req.outcome.case === 'error'
            ? { error: req.outcome.value }
            : { result: req.outcome.case === 'result' ? req.outcome.value : undefined };
        p.chunks.end();
        p.done();
        return { accepted: true };
      },
      workerHeartbeat: (req) => {
        this.#enter('workerHeartbeat');
        // Like the server: a worker whose stream is gone must open ServeTools again.
        if (!this.workers.has(req.workerId)) throw new ConnectError('worker not connected', Code.Unavailable);
        this.heartbeats.push({ workerId: req.workerId, nonce: req.nonce });
        return {};
      },
    });
  };

  async *#serve(
    sessionId: string,
    workerId: string,
    tools: ToolSpec[],
    maxConcurrency: number,
    signal: AbortSignal,
  ): AsyncGenerator<ServeToolsResponse> {
    this.#enter('serveTools');
    this.serveRequests.push({ workerId, sessionId, maxConcurrency, tools: tools.map((t) => t.name) });
    const id = workerId || `w${this.#nextId++}`;
    const w: FakeWorker = { id, sessionId, tools, events: new Channel(), maxConcurrency: maxConcurrency || 16 };
    this.workers.set(id, w);
    try {
      yield create(ServeToolsResponseSchema, {
        event: { case: 'registered', value: { workerId: id, heartbeatIntervalMs: this.heartbeatIntervalMs } },
      });
      yield* w.events.drain(signal);
    } finally {
      if (this.workers.get(id) === w) {
        this.workers.delete(id);
        this.#failCallsOf(id);
      }
    }
  }

  async *#stream(
    sessionId: string,
    name: string,
    args: JsonObject | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<ExecuteToolStreamResponse> {
    this.#enter('executeToolStream');
    const t0 = Date.now();
    const found = this.#find(sessionId, name);
    let seq = 0n;
    const chunk = (value: Value): ExecuteToolStreamResponse =>
      create(ExecuteToolStreamResponseSchema, { sequence: seq++, payload: { case: 'chunk', value } });
    const end = (executedBy: string): ExecuteToolStreamResponse =>
      create(ExecuteToolStreamResponseSchema, {
        sequence: seq,
        payload: { case: 'end', value: { totalChunks: seq, metrics: { durationMs: Date.now() - t0, executedBy } } },
      });
    if (found.host) {
      const src = found.host.stream;
      if (!src) throw wireError(Code.InvalidArgument, ErrorType.INVALID_ARGUMENT, `tool '${name}' does not stream`);
      try {
        for await (const v of src(args ?? {}, signal)) yield chunk(toWire(v));
      } finally {
        if (signal.aborted) this.cancelled.push(name);
      }
      yield end('host');
      return;
    }
    const w = found.worker as FakeWorker;
    const p = this.#dispatch(w, sessionId, name, args, true, signal);
    for await (const v of p.chunks.drain(signal)) yield chunk(v);
    await p.finished;
    if (signal.aborted) return;
    if (p.outcome?.error) {
      throw new ConnectError(p.outcome.error.message, Code.Unknown, undefined, [
        { desc: ErrorDetailSchema, value: p.outcome.error },
      ]);
    }
    yield end(w.id);
  }
}
