// Helpers of the tool specs: a scripted tool worker speaking the raw
// ToolWorkerService protocol (no client library), and small tool factories.
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { Client, Transport } from '@connectrpc/connect';
import type { JsonObject } from '@bufbuild/protobuf';
import { ToolWorkerService } from '@unified-bridge/proto';
import type { ServeToolsResponse, WorkerCancel, WorkerToolCall } from '@unified-bridge/proto';
import { toWire } from '@unified-bridge/types';

/** A tool as a raw worker announces it. */
export interface RawToolSpec {
  name: string;
  description?: string;
  parameters?: JsonObject;
  streaming?: boolean;
  metadata?: Record<string, string>;
}

/** What a raw worker does with each call; return a value to report it as the result. */
export type RawHandler = (call: WorkerToolCall, worker: RawWorker) => Promise<unknown> | unknown;

export interface RawWorkerOptions {
  sessionId?: string;
  workerId?: string;
  maxConcurrency?: number;
  tools: RawToolSpec[];
  /** Answers calls automatically (reporting the returned value); absent: the test answers itself. */
  handler?: RawHandler;
  /** Answer pings with heartbeats. Default true. */
  heartbeats?: boolean;
}

/**
 * A worker written against the wire protocol: opens ServeTools, records every
 * event, and answers pings. `stop()` aborts the stream (a disconnect).
 */
export class RawWorker {
  readonly client: Client<typeof ToolWorkerService>;
  readonly registered: Promise<{ workerId: string; heartbeatIntervalMs: number }>;
  /** Settles with the error that ended the stream (undefined for a clean end). */
  readonly ended: Promise<ConnectError | undefined>;
  readonly calls: WorkerToolCall[] = [];
  readonly cancels: WorkerCancel[] = [];
  pings = 0;
  /** Heartbeats the server acknowledged (answers to pings). */
  beats = 0;
  workerId = '';
  readonly #abort = new AbortController();
  readonly #waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(
    transport: Transport,
    readonly options: RawWorkerOptions,
  ) {
    const client = createClient(ToolWorkerService, transport);
    this.client = client;
    let onRegistered!: (v: { workerId: string; heartbeatIntervalMs: number }) => void;
    let onFailed!: (e: unknown) => void;
    this.registered = new Promise((resolve, reject) => {
      onRegistered = resolve;
      onFailed = reject;
    });
    this.registered.catch(() => {});
    this.ended = (async () => {
      try {
        const stream = client.serveTools(
          {
            sessionId: options.sessionId ?? '',
            workerId: options.workerId ?? '',
            maxConcurrency: options.maxConcurrency ?? 0,
            tools: options.tools.map((t) => ({
              name: t.name,
              description: t.description ?? '',
              parameters: t.parameters,
              streaming: t.streaming ?? false,
              metadata: t.metadata ?? {},
            })),
          },
          { signal: this.#abort.signal },
        );
        for await (const m of stream) this.#on(m, onRegistered);
        return undefined;
      } catch (err) {
        const e = ConnectError.from(err);
        onFailed(e);
        return e;
      } finally {
        onFailed(new Error('the stream ended before registration'));
        this.#notify();
      }
    })();
  }

  #on(m: ServeToolsResponse, onRegistered: (v: { workerId: string; heartbeatIntervalMs: number }) => void): void {
    const ev = m.event;
    if (ev.case === 'registered') {
      this.workerId = ev.value.workerId;
      onRegistered({ workerId: ev.value.workerId, heartbeatIntervalMs: ev.value.heartbeatIntervalMs });
    } else if (ev.case === 'call') {
      this.calls.push(ev.value);
      const handler = this.options.handler;
      if (handler !== undefined) void this.#answer(ev.value, handler);
    } else if (ev.case === 'cancel') {
      this.cancels.push(ev.value);
    } else if (ev.case === 'ping') {
      this.pings++;
      if (this.options.heartbeats !== false) {
        this.client.workerHeartbeat({ workerId: this.workerId, nonce: ev.value.nonce }).then(
          () => {
            this.beats++;
            this.#notify();
          },
          () => {},
        );
      }
    }
    this.#notify();
  }

  async #answer(call: WorkerToolCall, handler: RawHandler): Promise<void> {
    try {
      const out = await handler(call, this);
      await this.result(call.callId, out);
    } catch (err) {
      const e = err as { toolErrorType?: string; message?: string };
      await this.fail(call.callId, e.toolErrorType ?? 'Error', e.message ?? 'failed').catch(() => {});
    }
  }

  #notify(): void {
    for (const w of [...this.#waiters]) {
      if (w.test()) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves once `test` holds (checked after every event). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  /** The n-th call (0-based), once it arrived. */
  async call(n = 0): Promise<WorkerToolCall> {
    await this.until(() => this.calls.length > n);
    return this.calls[n]!;
  }

  /** Reports a result. */
  async result(callId: string, value: unknown): Promise<boolean> {
    const r = await this.client.reportToolResult({
      workerId: this.workerId,
      callId,
      outcome: value === undefined ? { case: undefined } : { case: 'result', value: toWire(value) },
    });
    return r.accepted;
  }

  /** Reports a tool error. */
  async fail(callId: string, type: string, message: string, details: Record<string, string> = {}): Promise<boolean> {
    const r = await this.client.reportToolResult({
      workerId: this.workerId,
      callId,
      outcome: { case: 'error', value: { type: 7 /* TOOL_ERROR */, toolErrorType: type, message, details } },
    });
    return r.accepted;
  }

  /** Reports a chunk. */
  async chunk(callId: string, sequence: number, value: unknown): Promise<boolean> {
    const r = await this.client.reportToolChunk({
      workerId: this.workerId,
      callId,
      sequence: BigInt(sequence),
      chunk: toWire(value),
    });
    return r.accepted;
  }

  /** Aborts the stream (as a crash or disconnect would). */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.ended;
  }
}

/** Awaits a promise that must reject; returns the ConnectError. */
export async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected a failure');
}

export { Code };
