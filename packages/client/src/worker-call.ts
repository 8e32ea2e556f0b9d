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
import { runToolHandler } from '@unified-bridge/types/internal';
import { BridgeError, isBridgeError } from './errors.js';
import type { Rpc } from './rpc.js';
import type { Session } from './session.js';
import type { ServedTool, ToolContext } from './tool-definitions.js';
import { inCallSpan } from './worker-trace.js';

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
    try {
      const result = await inCallSpan(call, workerId, () => runHandler(w, served));
      outcome = result === undefined ? { case: undefined } : { case: 'result', value: result };
    } catch (e) {
      if (signal.aborted) return; // nobody waits for this outcome
      outcome = { case: 'error', value: errorDetailOf(e) };
    }
    if (signal.aborted) return;
  }
  await rpc.call('cas', {}, (o) =>
    rpc.workers.reportToolResult(create(ReportToolResultRequestSchema, { workerId, callId: call.callId, outcome }), o),
  );
}

/**
 * Runs a handler by the shared tool-handler rules (runToolHandler): chunks
 * (yielded or emitted) are reported in order with sequence numbers from 0
 * when the call streams, collected into an array result when a streaming
 * tool is called unary. Resolves to the encoded result, or undefined when a
 * streaming call ended without one.
 */
function runHandler(w: WorkerCall, served: ServedTool): Promise<Value | undefined> {
  const { rpc, call, signal, workerId } = w;
  const sessionOf = w.session;
  let session: Session | undefined;
  return runToolHandler<ToolContext>({
    toolName: call.toolName,
    handler: served.handler,
    args: call.arguments ?? {},
    streaming: served.spec.streaming,
    callerStreams: call.streaming,
    signal,
    context: (emit) => ({
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
    }),
    send: async (chunk, sequence) => {
      const r = await rpc.call('write', { signal }, (o) =>
        rpc.workers.reportToolChunk(
          create(ReportToolChunkRequestSchema, { workerId, callId: call.callId, sequence: BigInt(sequence), chunk }),
          o,
        ),
      );
      if (!r.accepted) {
        w.cancel(new BridgeError('Cancelled', 'the server no longer waits for this call'));
        throw signal.reason as Error;
      }
    },
  });
}
