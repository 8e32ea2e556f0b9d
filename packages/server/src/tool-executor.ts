// One tool call from request to result: rate limit, tool lookup, argument
// validation (compiled schema cached per tool), deadline, dispatch to a host
// tool or a worker, metrics.
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '@bufbuild/protobuf';
import { ConnectError } from '@connectrpc/connect';
import type { HandlerContext } from '@connectrpc/connect';
import type { Value } from '@unified-bridge/proto';
import type { SessionStore, ToolRecord } from '@unified-bridge/store';
import { compileSchema } from '@unified-bridge/types';
import type { ValidationResult } from '@unified-bridge/types';
import { abortable, createDeadlineSignal, createLinkedAbortController } from '@unified-bridge/types/internal';
import { invalidToolArguments, rateLimited, toolCancelled, toolDeadlineExceeded } from './errors.js';
import { HOST_OWNER } from './host-tools.js';
import type { HostTools } from './host-tools.js';
import type { RateLimiter } from './rate-limit.js';
import { observedCallOf } from './observed-call.js';
import { run } from './service-context.js';
import type { Invocation } from './tool-invocation.js';
import type { ToolCallTelemetry, ToolTelemetry } from './tool-telemetry.js';
import type { WorkerBroker } from './worker-broker.js';

/** The default deadline of a tool call whose caller sent none, in ms. */
export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;

/** What tool calls need. */
export interface ToolRuntime {
  readonly store: SessionStore;
  readonly host: HostTools;
  readonly broker: WorkerBroker;
  /** The per-session rate limit, or undefined when off. */
  readonly limiter: RateLimiter | undefined;
  /** The deadline of calls without one, in ms. */
  readonly defaultTimeoutMs: number;
  /** Metrics and spans of the calls (none when absent). */
  readonly telemetry?: ToolTelemetry;
}

/** One call to make. */
export interface ToolCallRequest {
  readonly sessionId: string;
  readonly toolName: string;
  readonly args: JsonObject | undefined;
  /** Whether the caller streams the output. */
  readonly streaming: boolean;
  /** Receives the chunks of a streaming call, in order; resolves once the caller's stream took them. */
  readonly onChunk?: (chunk: Value) => Promise<void>;
  /** Aborts the call (besides the RPC's own signal), for example when a stream's consumer stops. */
  readonly signal?: AbortSignal;
}

/** A finished call. */
export interface ToolCallOutcome {
  /** The result; for a streaming call, undefined unless the tool ended with a final value. */
  readonly result: Value | undefined;
  readonly durationMs: number;
  readonly executedBy: string;
}

type Validate = (value: unknown) => ValidationResult;
/** Compiled argument schemas, per tool record (records are immutable; a re-registered tool is a new record). */
const validators = new WeakMap<ToolRecord, Validate | null>();

function validatorOf(tool: ToolRecord): Validate | null {
  let v = validators.get(tool);
  if (v === undefined) {
    if (tool.parameters === undefined) {
      v = null;
    } else {
      const compiled = compileSchema(tool.parameters);
      // Specs are checked when registered; a schema that still fails to compile accepts any object.
      v = compiled.ok ? (value: unknown) => compiled.validate(value) : null;
    }
    validators.set(tool, v);
  }
  return v;
}

/** Takes a token of the session's rate limit or fails with RateLimited. */
export function checkRate(rt: ToolRuntime, sessionId: string): void {
  if (rt.limiter === undefined) return;
  const waitMs = rt.limiter.take(sessionId);
  if (waitMs > 0) throw rateLimited(sessionId, waitMs);
}

/**
 * Runs one call (the caller's visibility of the session and the rate limit
 * are checked by the service before), measured by the runtime's telemetry.
 * Rejects with the caller's error.
 */
export async function executeTool(
  rt: ToolRuntime,
  ctx: HandlerContext,
  req: ToolCallRequest,
): Promise<ToolCallOutcome> {
  const call = observedCallOf(ctx.values);
  const t = rt.telemetry?.start(req.toolName, req.sessionId, call);
  try {
    const out = await runTool(rt, ctx, req, t);
    t?.end();
    return out;
  } catch (err) {
    t?.end(err);
    throw err;
  }
}

async function runTool(
  rt: ToolRuntime,
  ctx: HandlerContext,
  req: ToolCallRequest,
  t: ToolCallTelemetry | undefined,
): Promise<ToolCallOutcome> {
  await rt.host.ready.catch(() => {});
  const tool = await run(ctx, () => rt.store.getTool(req.sessionId, req.toolName));
  t?.found(tool.name);
  const args: JsonObject = req.args ?? {};
  const validate = validatorOf(tool);
  if (validate !== null) {
    const r = validate(args);
    if (!r.ok) throw invalidToolArguments(tool.name, r.violations);
  }

  const timeoutMs = ctx.timeoutMs() ?? rt.defaultTimeoutMs;
  const deadline = Date.now() + timeoutMs;
  const timer = createDeadlineSignal(timeoutMs, () => toolDeadlineExceeded(tool.name, timeoutMs));
  // The call ends with the RPC, with the caller's stream (when it streams) and at its deadline.
  const ctrl = createLinkedAbortController([ctx.signal, req.signal, timer.signal], (reason) =>
    reason instanceof ConnectError ? reason : toolCancelled(tool.name),
  );

  let over = false;
  const onChunk = req.onChunk;
  const inv: Invocation = {
    callId: `call_${randomUUID().replaceAll('-', '')}`,
    sessionId: req.sessionId,
    tool,
    args,
    streaming: req.streaming,
    signal: ctrl.signal,
    deadline,
    requestHeader: ctx.requestHeader,
    call: observedCallOf(ctx.values),
    ...(t !== undefined ? { traceContext: t.traceContext } : {}),
    emit: (chunk) => {
      if (over || ctrl.signal.aborted) return Promise.reject(new Error(`the call of tool ${tool.name} is over`));
      return onChunk === undefined ? Promise.resolve() : onChunk(chunk);
    },
  };
  const started = performance.now();
  try {
    ctrl.signal.throwIfAborted();
    let result: Value | undefined;
    let executedBy: string;
    if (tool.owner === HOST_OWNER) {
      result = await abortable(rt.host.run(inv), ctrl.signal);
      executedBy = HOST_OWNER;
    } else {
      const out = await abortable(rt.broker.call(inv), ctrl.signal);
      result = out.result;
      executedBy = out.workerId;
    }
    return { result, durationMs: performance.now() - started, executedBy };
  } finally {
    over = true;
    ctrl.cleanup();
    timer.cleanup();
  }
}
