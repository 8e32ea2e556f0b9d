// One tool call as the runners (host tools, worker broker) see it.
import type { JsonObject } from '@bufbuild/protobuf';
import type { Value } from '@unified-bridge/proto';
import type { ToolRecord } from '@unified-bridge/store';
import type { ObservedCall } from './observed-call.js';

/** A validated call, ready to run. */
export interface Invocation {
  /** The call's id (unique in this server). */
  readonly callId: string;
  /** The session the call was made in. */
  readonly sessionId: string;
  /** The tool as the store knows it. */
  readonly tool: ToolRecord;
  /** The arguments, validated against the tool's parameters. */
  readonly args: JsonObject;
  /** Whether the caller streams the output (ExecuteToolStream). */
  readonly streaming: boolean;
  /** Aborted with the caller's error when the call is cancelled, times out or the server shuts down. */
  readonly signal: AbortSignal;
  /** The call's deadline, ms since the epoch. */
  readonly deadline: number;
  /** The caller's request headers. */
  readonly requestHeader: Headers;
  /** The RPC the call was made in (its request id and logger), when it is observed. */
  readonly call?: ObservedCall;
  /** The W3C trace context of the call's span, for a worker (`WorkerToolCall.trace_context`). */
  readonly traceContext?: Readonly<Record<string, string>>;
  /** Hands one chunk to the caller's stream; resolves once taken. Rejects once the call is over. */
  emit(chunk: Value): Promise<void>;
}
