import { create } from '@bufbuild/protobuf';
import { Code } from '@connectrpc/connect';
import { ServeToolsRequestSchema, WorkerHeartbeatRequestSchema, type WorkerToolCall } from '@unified-bridge/proto';
import { BridgeError, toBridgeErrorFor } from './errors.js';
import { backoffDelayMs, sleep, type RetryPolicy } from './retry.js';
import type { Rpc } from './rpc.js';
import type { Session } from './session.js';
import { resolveTools, type ServedTool, type ToolDefinitions } from './tool-definitions.js';
import { executeCall } from './worker-call.js';
import { resolveWorkerOptions, type ServeToolsOptions } from './worker-options.js';

/** What a {@link ToolWorker} needs from its client. */
export interface WorkerContext {
  readonly rpc: Rpc;
  readonly retry: RetryPolicy;
  /** A Session of the client for an id (created lazily for a handler's `ctx.session`). */
  readonly session: (id: string) => Session;
  /** Called when the worker's tools appear or disappear (tool-list caches are stale). */
  readonly onToolsChanged: () => void;
  /** Called once when the worker has stopped. */
  readonly onStopped: (worker: ToolWorker) => void;
}

/** Failures after which a worker reconnects; anything else (including a server without ToolWorkerService, UNIMPLEMENTED) stops it. */
const transient = (e: BridgeError): boolean =>
  e.type === 'Unavailable' ||
  e.type === 'DeadlineExceeded' ||
  (e.type === 'Internal' && e.code === Code.Internal) ||
  e.type === 'RateLimited' ||
  e.type === 'ResourceExhausted';

/**
 * A running tool worker (from `client.serveTools()`): serves its tools
 * through one ServeTools stream, reconnecting with backoff (same worker id)
 * until stopped. Works over gRPC (HTTP/2) and Connect / gRPC-Web over
 * HTTP/1.1 alike: calls arrive on a server stream, answers go as unary calls.
 *
 * @example
 * ```ts
 * await using worker = client.serveTools(session, { add: ({ a, b }) => (a as number) + (b as number) });
 * await worker.ready;
 * ```
 */
export class ToolWorker implements AsyncDisposable {
  /** Resolves when the server registered the worker the first time; rejects if it never could. */
  readonly ready: Promise<void>;
  /** Resolves once the worker stopped by `stop()` (or the client closed); rejects with the error that ended it otherwise. */
  readonly closed: Promise<void>;
  readonly #ctx: WorkerContext;
  readonly #sessionId: string;
  readonly #tools: Map<string, ServedTool>;
  readonly #maxConcurrency: number;
  readonly #reconnect: boolean;
  readonly #onError: (err: BridgeError) => void;
  readonly #stopGraceMs: number;
  readonly #stop = new AbortController();
  readonly #calls = new Map<string, { readonly ctrl: AbortController; readonly toolName: string }>();
  readonly #running = new Set<Promise<void>>();
  readonly #queue: (() => boolean)[] = [];
  #active = 0;
  #workerId: string;
  #connected = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (e: unknown) => void;
  #stopping: Promise<void> | undefined;
  #registeredOnce = false;

  /** Use `client.serveTools()`. */
  constructor(ctx: WorkerContext, sessionId: string, tools: ToolDefinitions, options: ServeToolsOptions = {}) {
    this.#ctx = ctx;
    this.#sessionId = sessionId;
    this.#tools = resolveTools(tools);
    const settings = resolveWorkerOptions(options);
    this.#stopGraceMs = settings.stopGraceMs;
    this.#maxConcurrency = settings.maxConcurrency;
    this.#reconnect = settings.reconnect;
    this.#onError = settings.onError;
    this.#workerId = settings.workerId;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed through `closed` too; never an unhandled rejection
    this.closed = this.#run();
    this.closed.catch(() => {});
  }

  /** The worker id (the server's once registered; before that the one asked for, or ""). */
  get workerId(): string {
    return this.#workerId;
  }

  /** The session served, or undefined for a global worker. */
  get sessionId(): string | undefined {
    return this.#sessionId === '' ? undefined : this.#sessionId;
  }

  /** True while the ServeTools stream is registered. */
  get connected(): boolean {
    return this.#connected;
  }

  /** How many calls are running. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /**
   * Stops the worker: closes the stream (the server drops its tools and fails
   * their in-flight calls with UNAVAILABLE), aborts the handlers' signals and
   * resolves when they have settled, or after `stopGraceMs` (default 5000)
   * for handlers that ignore their signal, and once the server confirmed the
   * worker is gone (calls made afterwards are ToolNotFound). Idempotent;
   * never rejects.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stop.abort(new BridgeError('Cancelled', 'the worker was stopped'));
      await this.closed.catch(() => {});
      await this.#awaitServerDrop();
    })();
    return this.#stopping;
  }

  /**
   * After the stream was closed: waits until the server confirms it dropped
   * this worker (a heartbeat answered "not connected"), so that calls made
   * once `stop()` resolved get ToolNotFound instead of being routed to a
   * worker that is gone. Bounded by `stopGraceMs` (at most 2 s); skipped when
   * the client is closed or the worker never registered.
   */
  async #awaitServerDrop(): Promise<void> {
    const { rpc } = this.#ctx;
    if (!this.#registeredOnce || this.#workerId === '' || rpc.closed) return;
    const deadline = Date.now() + Math.min(this.#stopGraceMs, 2000);
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      const left = deadline - Date.now();
      if (left <= 0 || rpc.closed) return;
      try {
        await rpc.call('write', { timeoutMs: left }, (o) =>
          rpc.workers.workerHeartbeat(create(WorkerHeartbeatRequestSchema, { workerId: this.#workerId, nonce: 0n }), o),
        );
      } catch {
        return; // "not connected" (or the server is unreachable): nothing left to wait for
      }
      // A ref'd timer: `await worker.stop()` must not let the process exit half-way (bounded by 2 s).
      await sleep(Math.min(wait, left), undefined, { unref: false }).catch(() => {});
    }
  }

  /** Same as {@link stop}: `await using worker = client.serveTools(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #run(): Promise<void> {
    const { rpc, retry } = this.#ctx;
    let failures = 0;
    let everRegistered = false;
    try {
      for (;;) {
        if (this.#stop.signal.aborted || rpc.closed) return;
        const signal = rpc.signal(this.#stop.signal);
        let err: BridgeError;
        try {
          const req = create(ServeToolsRequestSchema, {
            sessionId: this.#sessionId,
            tools: [...this.#tools.values()].map((t) => t.spec),
            workerId: this.#workerId,
            maxConcurrency: this.#maxConcurrency,
          });
          let registered = false;
          for await (const m of rpc.workers.serveTools(req, { signal })) {
            const ev = m.event;
            if (ev.case === 'registered') {
              registered = true;
              everRegistered = true;
              this.#registeredOnce = true;
              failures = 0;
              this.#workerId = ev.value.workerId || this.#workerId;
              this.#connected = true;
              this.#startHeartbeat(ev.value.heartbeatIntervalMs);
              this.#ctx.onToolsChanged();
              this.#resolveReady();
            } else if (!registered) {
              throw new BridgeError('Internal', `the server sent '${String(ev.case)}' before 'registered'`);
            } else if (ev.case === 'call') {
              this.#dispatch(ev.value);
            } else if (ev.case === 'cancel') {
              this.#calls
                .get(ev.value.callId)
                ?.ctrl.abort(
                  new BridgeError(
                    'Cancelled',
                    `the call was cancelled${ev.value.reason ? `: ${ev.value.reason}` : ''}`,
                  ),
                );
            } else if (ev.case === 'ping') {
              void this.#beat(ev.value.nonce);
            }
          }
          err = new BridgeError('Unavailable', 'the server ended the worker stream');
        } catch (e) {
          err = toBridgeErrorFor(e, signal);
        } finally {
          this.#disconnected();
        }
        if (this.#stop.signal.aborted || rpc.closed) return;
        if (!this.#reconnect || !transient(err)) {
          if (!everRegistered) this.#rejectReady(err);
          throw err;
        }
        this.#onError(err);
        failures++;
        try {
          await sleep(backoffDelayMs(retry, Math.min(failures, 30), err.retryDelayMs), this.#stop.signal);
        } catch {
          return; // stopped while waiting
        }
      }
    } finally {
      this.#rejectReady(new BridgeError('Cancelled', 'the worker stopped before it was registered'));
      await this.#settleHandlers();
      this.#ctx.onStopped(this);
    }
  }

  /**
   * Waits for the (aborted) handlers to settle, at most `stopGraceMs`; the
   * ones still running then are told to `onError` and left to settle alone.
   */
  async #settleHandlers(): Promise<void> {
    if (this.#running.size === 0) return;
    const all = Promise.allSettled([...this.#running]).then(() => true);
    if (this.#stopGraceMs === Infinity) {
      await all;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#stopGraceMs);
      (timer as { unref?: () => void }).unref?.();
    });
    const settled = await Promise.race([all, graceOver]);
    clearTimeout(timer);
    if (settled) return;
    for (const [callId, c] of this.#calls) {
      this.#onError(
        new BridgeError(
          'Cancelled',
          `tool '${c.toolName}' (call ${callId}) ignored its abort signal and did not settle within stopGraceMs (${this.#stopGraceMs} ms): the worker stopped without it`,
          { details: { tool: c.toolName, callId } },
        ),
      );
    }
  }

  #disconnected(): void {
    const wasConnected = this.#connected;
    this.#connected = false;
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    for (const c of this.#calls.values()) c.ctrl.abort(new BridgeError('Unavailable', 'the worker stream broke'));
    // Calls waiting for a slot will never be answered on a new stream: drop them.
    for (const start of this.#queue.splice(0)) start();
    if (wasConnected) this.#ctx.onToolsChanged();
  }

  #startHeartbeat(intervalMs: number): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    if (intervalMs <= 0) return;
    // Twice per interval, so one slow heartbeat does not make the worker look dead.
    this.#heartbeat = setInterval(() => void this.#beat(0n), Math.max(1, Math.floor(intervalMs / 2)));
    this.#heartbeat.unref?.();
  }

  async #beat(nonce: bigint): Promise<void> {
    const { rpc } = this.#ctx;
    try {
      await rpc.call('write', { signal: this.#stop.signal }, (o) =>
        rpc.workers.workerHeartbeat(create(WorkerHeartbeatRequestSchema, { workerId: this.#workerId, nonce }), o),
      );
    } catch (e) {
      if (!this.#stop.signal.aborted && !rpc.closed) this.#onError(toBridgeErrorFor(e, this.#stop.signal));
    }
  }

  #dispatch(call: WorkerToolCall): void {
    // A duplicate call id replaces nothing: the first one keeps running.
    if (this.#calls.has(call.callId)) return;
    const ctrl = new AbortController();
    const entry = { ctrl, toolName: call.toolName };
    this.#calls.set(call.callId, entry);
    const deadline = call.timeoutMs > 0 ? new Date(Date.now() + call.timeoutMs) : undefined;
    const timer =
      call.timeoutMs > 0
        ? setTimeout(
            () => ctrl.abort(new BridgeError('DeadlineExceeded', `the call's deadline of ${call.timeoutMs} ms passed`)),
            call.timeoutMs,
          )
        : undefined;
    (timer as { unref?: () => void } | undefined)?.unref?.();
    const { rpc, session } = this.#ctx;
    const run = {
      rpc,
      session,
      call,
      served: this.#tools.get(call.toolName),
      signal: ctrl.signal,
      cancel: (reason: BridgeError) => ctrl.abort(reason),
      deadline,
      workerId: this.#workerId,
    };
    const p = this.#slot(ctrl.signal)
      .then((release) => executeCall(run).finally(release))
      .catch((e: unknown) => {
        if (!ctrl.signal.aborted) this.#onError(toBridgeErrorFor(e, undefined));
      })
      .finally(() => {
        clearTimeout(timer);
        if (this.#calls.get(call.callId) === entry) this.#calls.delete(call.callId);
        this.#running.delete(p);
      });
    this.#running.add(p);
  }

  /** Waits for one of `maxConcurrency` slots; the returned function frees it. */
  #slot(signal: AbortSignal): Promise<() => void> {
    const release = (): void => {
      this.#active--;
      // Hand the slot to the first waiter still wanted (aborted ones give up).
      while (this.#queue.length > 0 && !(this.#queue.shift() as () => boolean)()) {
        /* next */
      }
    };
    if (this.#active < this.#maxConcurrency) {
      this.#active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push(() => {
        if (signal.aborted) {
          reject(signal.reason as Error);
          return false;
        }
        this.#active++;
        resolve(release);
        return true;
      });
    });
  }
}
