// What the server knows about one RPC while it runs, shared by the handler
// wrapper that starts and finishes it (call-observer.ts), the interceptor
// that learns its session, target and status, the error mapping (request id,
// logger) and the tool runner (trace context of worker calls). It travels in
// the call's context values.
import { createContextKey } from '@connectrpc/connect';
import type { ContextValues } from '@connectrpc/connect';
import type { Context, Span } from '@opentelemetry/api';
import type { BridgeLogger } from './logger.js';
import { childLogger } from './logger.js';
import type { RpcProtocol, StatusCode } from './rpc-status.js';

/** Why a request was refused before it did anything: the `reason` label of `unified_bridge_rejected_total`. */
export const REJECT_REASONS = ['too_large', 'rate_limited', 'unauthenticated', 'malformed'] as const;

/** A reason of {@link REJECT_REASONS}. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The longest session id, variable or tool name copied into logs and span attributes. */
const MAX_ECHO = 256;
const bounded = (s: string): string => (s.length > MAX_ECHO ? `${s.slice(0, MAX_ECHO)}…` : s);

/** One RPC in flight. */
export class ObservedCall {
  /** The session the request names ("" when none). */
  sessionId = '';
  /** The variable (VariableService) or tool (ToolService) the request names ("" when none). */
  target = '';
  /** Which of the two `target` is. */
  targetKind: 'variable' | 'tool' | undefined;
  /** The status the handlers ended with; undefined while running, or when the call never reached them. */
  code: StatusCode | undefined;
  /** Set once the bridge's interceptors run: the request was decoded and accepted by Connect. */
  reached = false;
  /** Why the request was refused, when it was. */
  reason: RejectReason | undefined;
  #logger: BridgeLogger | undefined;

  constructor(
    /** The call's id (see request-id.ts). */
    readonly requestId: string,
    /** `service/method`, for example `unified_bridge.v1.VariableService/GetVariable`. */
    readonly procedure: string,
    readonly protocol: RpcProtocol,
    /** The remote address (`ip:port`) when the adapter told it, else "". */
    readonly peer: string,
    /** The server span of the call (a non-recording one without an OpenTelemetry SDK). */
    readonly span: Span,
    /** The caller's context with the call's span: the parent of what the call starts. */
    readonly traceContext: Context,
    readonly startedAt: number,
    readonly baseLogger: BridgeLogger,
  ) {}

  /** The call's logger: the server's, with `requestId` on every line (made on first use). */
  get logger(): BridgeLogger {
    return (this.#logger ??= childLogger(this.baseLogger, { requestId: this.requestId }));
  }

  /** Records the session and target a request message names (bounded copies). */
  describe(message: unknown, targetKind: 'variable' | 'tool' | undefined): void {
    const m = message as { sessionId?: unknown; identifier?: unknown; name?: unknown; toolName?: unknown };
    if (typeof m.sessionId === 'string' && m.sessionId !== '') this.sessionId = bounded(m.sessionId);
    const target =
      targetKind === 'variable' ? (m.identifier ?? m.name) : targetKind === 'tool' ? m.toolName : undefined;
    if (typeof target === 'string' && target !== '') {
      this.target = bounded(target);
      this.targetKind = targetKind;
    }
  }
}

/** Context key of the {@link ObservedCall} of a call. */
export const observedCallKey = createContextKey<ObservedCall | undefined>(undefined, {
  description: 'unified-bridge observed call',
});

/** The observed call of a handler's or interceptor's context values, if the call is observed. */
export function observedCallOf(values: ContextValues): ObservedCall | undefined {
  return values.get(observedCallKey);
}

/** The peer of a call whose adapter did not tell it. */
export const PEER_UNKNOWN = '';

/** Context key of the remote address of a call, set by an adapter that knows it (the standalone server's). */
export const peerKey = createContextKey<string>(PEER_UNKNOWN, { description: 'unified-bridge peer address' });
