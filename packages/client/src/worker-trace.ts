// The worker's side of a call's trace: the server sends the W3C Trace
// Context of each call (WorkerToolCall.trace_context); the handler runs in an
// `execute_tool <name>` span that continues it, so a caller's trace goes on
// into the worker. Through @opentelemetry/api only: without an SDK in the
// worker process the span is a no-op.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { WorkerToolCall } from '@unified-bridge/proto';

/** The instrumentation scope of the client's spans. */
export const CLIENT_TRACER_NAME = '@unified-bridge/client';

/**
 * Runs `fn` (a call's handler) in a span that continues the trace the server
 * sent with the call; the span is active while the handler runs, so the
 * handler's own spans are its children. It fails with the handler.
 */
export async function inCallSpan<T>(call: WorkerToolCall, workerId: string, fn: () => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, call.traceContext);
  const span = trace.getTracer(CLIENT_TRACER_NAME).startSpan(
    `execute_tool ${call.toolName}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': call.toolName,
        'gen_ai.tool.call.id': call.callId,
        'unified_bridge.session_id': call.sessionId,
        'unified_bridge.worker_id': workerId,
      },
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
