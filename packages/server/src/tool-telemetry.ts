// Metrics and spans of tool calls: one `execute_tool <name>` span per call
// (OpenTelemetry's GenAI convention for tool execution), a child of the RPC's
// span, whose trace context goes to the worker that runs the call; the
// calls-by-tool counter and latency histogram; the calls in flight; and the
// count of calls refused by the rate limit.
import { ConnectError, Code } from '@connectrpc/connect';
import { context, SpanKind } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { isStoreError } from '@unified-bridge/store';
import { storeErrorToConnectError } from './errors.js';
import type { BridgeMetricSet } from './metrics.js';
import type { ObservedCall } from './observed-call.js';
import { RateLimiter } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';
import { CODE_OK } from './rpc-status.js';
import type { StatusCode } from './rpc-status.js';
import { bridgeTracer, endSpan, injectTraceContext } from './tracing.js';

/** One tool call being measured. */
export interface ToolCallTelemetry {
  /** The W3C trace context of the call's span, for the worker (`WorkerToolCall.trace_context`). */
  readonly traceContext: Readonly<Record<string, string>>;
  /** Says the name is a tool (looked up): it becomes the metric's `tool` label. */
  found(toolName: string): void;
  /** Ends the call: `err` undefined for success, else what it failed with. */
  end(err?: unknown): void;
}

/** The status code of what a tool call failed with. */
function codeOfFailure(err: unknown): StatusCode {
  if (err instanceof ConnectError) return err.code;
  if (isStoreError(err)) return storeErrorToConnectError(err).code;
  return Code.Internal;
}

/** Measures tool calls; one per routes object. */
export class ToolTelemetry {
  /** Tool calls running now. */
  inFlight = 0;
  readonly #metrics: BridgeMetricSet | undefined;
  readonly #tracer: Tracer = bridgeTracer();

  constructor(metrics: BridgeMetricSet | undefined) {
    this.#metrics = metrics;
  }

  /** Starts measuring a call of `toolName`, made within `call` (the RPC) when it is observed. */
  start(toolName: string, sessionId: string, call: ObservedCall | undefined): ToolCallTelemetry {
    const parent = call?.traceContext ?? context.active();
    const span = this.#tracer.startSpan(
      `execute_tool ${toolName}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.name': toolName,
          'unified_bridge.session_id': sessionId,
        },
      },
      parent,
    );
    const startedAt = performance.now();
    this.inFlight++;
    let tool: string | undefined;
    let ended = false;
    return {
      traceContext: injectTraceContext(parent, span),
      found: (name) => {
        tool = name;
      },
      end: (err) => {
        if (ended) return;
        ended = true;
        this.inFlight--;
        const code = err === undefined ? CODE_OK : codeOfFailure(err);
        this.#metrics?.toolCall(tool, code, (performance.now() - startedAt) / 1000);
        endSpan(span, code, err instanceof Error ? err.message : undefined);
      },
    };
  }

  /** A rate limiter that also counts each refused call as `rejected{reason="rate_limited"}`. */
  rateLimiter(options: Required<RateLimitOptions>): RateLimiter {
    const metrics = this.#metrics;
    return new (class extends RateLimiter {
      override take(sessionId: string): number {
        const waitMs = super.take(sessionId);
        if (waitMs > 0) metrics?.reject('rate_limited');
        return waitMs;
      }
    })(options);
  }
}
