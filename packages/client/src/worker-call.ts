// One call delivered to a tool worker: run its handler (chunks reported as they come) and report
// the outcome. The worker loop (worker.ts) owns the call's signal, deadline and slot.
import { create } from '@bufbuild/protobuf';
import {
  ErrorDetailSchema,
  ErrorType,
  ReportToolChunkRequestSchema,
  ReportToolResultRequestSchema,
  type ErrorDetail,
  type Value,
  type WorkerToolCall,
} from '@unified-bridge/proto';
import { toWire } from '@unified-bridge/types';
import { BridgeError, isBridgeError } from './errors.js';
import type { Rpc } from './rpc.js';
import type { Session } from './session.js';
import type { ServedTool, ToolContext } from './tool-definitions.js';

/** The wire error a handler's failure reports: its own type for a tool error, else the Error's name and message. */
export function errorDetailOf(err: unknown): ErrorDetail {
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    toolErrorType?: unknown;
    type?: unknown;
    name?: unknown;
    message?: unknown;
    details?: unknown;
  };
  let toolErrorType: string;
  if (typeof e.toolErrorType === 'string' && e.toolErrorType !== '') toolErrorType = e.toolErrorType;
  else if (isBridgeError(err)) toolErrorType = err.type;
  else if (typeof e.name === 'string' && e.name !== '') toolErrorType = e.name;
  else toolErrorType = 'Error';
  const details: Record<string, string> = {};
  if (typeof e.details === 'object' && e.details !== null) {
    for (const [k, v] of Object.entries(e.details)) if (typeof v === 'string') details[k] = v;
  }
  const message =
    typeof e.message === 'string' && e.message !== '' ? e.message : typeof err === 'string' ? err : 'the tool failed';
  return create(ErrorDetailSchema, { type: ErrorType.TOOL_ERROR, message, details, toolErrorType });
}

function encodeResult(value: unknown): Value {
  return toWire(value === undefined ? null : value);
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

/** What running one call needs from its worker. */
export interface WorkerCall {
  readonly rpc: Rpc;
  /** A Session of the client for an id (created lazily for a handler's `ctx.session`). */
  readonly session: (id: string) => Session;
  /** The call as the server delivered it. */
  readonly call: WorkerToolCall;
  /** The tool it names, or undefined when this worker does not serve it. */
  readonly served: ServedTool | undefined;
  /** Aborted when the call is cancelled, its deadline passes, or the worker stops or loses its stream. */
  readonly signal: AbortSignal;
  /** Aborts the call's signal (the server no longer waits for it). */
  readonly cancel: (reason: BridgeError) => void;
  /** When the caller stops waiting, if it set a deadline. */
  readonly deadline: Date | undefined;
  /** The worker id the call was delivered to. */
  readonly workerId: string;
}

type Outcome = { case: 'result'; value: Value } | { case: 'error'; value: ErrorDetail } | { case: undefined };

/** Runs the handler of one call and reports its outcome; an aborted call reports nothing. */
export async function executeCall(w: WorkerCall): Promise<void> {
  const { rpc, call, served, signal, workerId } = w;
  if (signal.aborted) return;
  let outcome: Outcome;
  if (served === undefined) {
    outcome = {
      case: 'error',
      value: create(ErrorDetailSchema, {
        type: ErrorType.TOOL_NOT_FOUND,
        message: `worker '${workerId}' does not serve tool '${call.toolName}'`,
        details: { tool: call.toolName },
      }),
    };
  } else {
    let out: unknown;
    try {
      out = await runHandler(w, served);
    } catch (e) {
      if (signal.aborted) return; // nobody waits for this outcome
      out = undefined;
      outcome = { case: 'error', value: errorDetailOf(e) };
    }
    if (signal.aborted) return;
    try {
      outcome ??=
        call.streaming && out === undefined ? { case: undefined } : { case: 'result', value: encodeResult(out) };
    } catch (e) {
      outcome = {
        case: 'error',
        value: errorDetailOf({
          toolErrorType: 'InvalidResult',
          message: `tool '${call.toolName}' returned a value with no wire encoding: ${e instanceof Error ? e.message : String(e)}`,
        }),
      };
    }
  }
  await rpc.call('cas', {}, (o) =>
    rpc.workers.reportToolResult(create(ReportToolResultRequestSchema, { workerId, callId: call.callId, outcome }), o),
  );
}

/**
 * Runs a handler: chunks (yielded or emitted) are reported in order with
 * sequence numbers from 0 when the call streams (collected into an array
 * result when a streaming tool is called unary). Returns the result.
 */
async function runHandler(w: WorkerCall, served: ServedTool): Promise<unknown> {
  const { rpc, call, signal, workerId } = w;
  const streaming = served.spec.streaming;
  const collected: unknown[] = [];
  let sequence = 0n;
  let chain: Promise<void> = Promise.resolve();
  const emit = (chunk: unknown): Promise<void> => {
    if (!streaming) {
      return Promise.reject(
        new TypeError(`tool '${call.toolName}' is not streaming: return the result instead of calling emit()`),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (!call.streaming) {
      collected.push(chunk);
      return Promise.resolve();
    }
    let value: Value;
    try {
      value = toWire(chunk);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new TypeError(String(e)));
    }
    const seq = sequence++;
    chain = chain.then(async () => {
      if (signal.aborted) throw signal.reason as Error;
      const r = await rpc.call('write', { signal }, (o) =>
        rpc.workers.reportToolChunk(
          create(ReportToolChunkRequestSchema, { workerId, callId: call.callId, sequence: seq, chunk: value }),
          o,
        ),
      );
      if (!r.accepted) {
        w.cancel(new BridgeError('Cancelled', 'the server no longer waits for this call'));
        throw signal.reason as Error;
      }
    });
    return chain;
  };
  const sessionOf = w.session;
  let session: Session | undefined;
  const ctx: ToolContext = {
    signal,
    sessionId: call.sessionId,
    callId: call.callId,
    toolName: call.toolName,
    deadline: w.deadline,
    get session(): Session {
      session ??= sessionOf(call.sessionId);
      return session;
    },
    emit,
  };
  let out = await served.handler({ ...(call.arguments ?? {}) }, ctx);
  if (streaming && isAsyncIterable(out)) {
    const it = out[Symbol.asyncIterator]();
    let done = false;
    try {
      while (!signal.aborted) {
        const r = await it.next();
        if (r.done === true) {
          done = true;
          out = r.value;
          break;
        }
        await emit(r.value);
      }
    } finally {
      if (!done) await it.return?.();
    }
  }
  await chain;
  if (streaming && !call.streaming && collected.length > 0 && out === undefined) return collected;
  return out;
}
