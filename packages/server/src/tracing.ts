// OpenTelemetry through @opentelemetry/api only: the server never installs an
// SDK (without one every span is a cheap non-recording one). It honours the
// caller's trace context through the globally registered propagator (the W3C
// one of the SDK), starts one server span per RPC named by the RPC semantic
// conventions, and hands the trace context of each tool call to workers.
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Span, TextMapGetter, Tracer } from '@opentelemetry/api';
import { Code } from '@connectrpc/connect';
import type { StatusCode } from './rpc-status.js';

/** The instrumentation scope of the server's spans. */
export const TRACER_NAME = '@unified-bridge/server';

/** The tracer of the server (a proxy: an SDK registered later still gets the spans). */
export function bridgeTracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Reads trace headers from a fetch `Headers` object. */
const headersGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => {
    const keys: string[] = [];
    carrier.forEach((_value, key) => keys.push(key));
    return keys;
  },
};

/**
 * The parent context of a call's span: the active one when it has a span
 * already (an HTTP instrumentation of the host got there first), else the
 * caller's trace context from the request headers (`traceparent`,
 * `tracestate`, `baggage`, by the registered propagator).
 */
export function extractTraceContext(header: Headers): Context {
  const active = context.active();
  return trace.getSpan(active) !== undefined ? active : propagation.extract(active, header, headersGetter);
}

/** The trace context of `span` (a child of `parent`) as a map of headers, for a worker call. */
export function injectTraceContext(parent: Context, span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  return carrier;
}

/**
 * The codes that mark a server span as failed, by the gRPC semantic
 * conventions (the others are the caller's mistake, not the server's).
 */
const SERVER_ERRORS: ReadonlySet<StatusCode> = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

/** Sets `rpc.grpc.status_code` and, for a server-side failure, the span's error status. */
export function endSpan(span: Span, code: StatusCode, message?: string): void {
  if (span.isRecording()) {
    span.setAttribute('rpc.grpc.status_code', code);
    if (SERVER_ERRORS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  }
  span.end();
}
