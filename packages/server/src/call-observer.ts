// One place that sees every RPC from request to the last byte of its
// response, whatever the protocol and even when the request fails before any
// handler runs (too large, malformed): it gives the call its request id and
// server span, and when the response ends it counts the call (metrics),
// ends the span, writes the access log line and feeds the summary. It wraps
// Connect's universal handlers (so it holds with every adapter); its
// interceptor, the bridge's outermost, learns what the request names and how
// the handlers ended, and puts the request id into every ErrorDetail.
import { clone } from '@bufbuild/protobuf';
import { Code, ConnectError, createContextValues } from '@connectrpc/connect';
import type { Interceptor, StreamResponse, UnaryResponse } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ErrorDetailSchema, ErrorType, ToolService, VariableService } from '@unified-bridge/proto';
import type { ErrorDetail } from '@unified-bridge/proto';
import type { AccessSummary } from './access-summary.js';
import { levelEnabled } from './logger.js';
import type { BridgeLogger } from './logger.js';
import type { BridgeMetricSet } from './metrics.js';
import { ObservedCall, observedCallKey, peerKey } from './observed-call.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.js';
import { CODE_OK, protocolOf, statusCodeName, statusOfResponse } from './rpc-status.js';
import type { StatusCode } from './rpc-status.js';
import { bridgeTracer, endSpan, extractTraceContext } from './tracing.js';

/** What the observer records into. */
export interface CallObserverOptions {
  /** The server's logger (each call logs through a child with its request id). */
  readonly logger: BridgeLogger;
  /** The metrics, or undefined when they are off. */
  readonly metrics: BridgeMetricSet | undefined;
  /** The periodic summary of the access log. */
  readonly summary: AccessSummary;
}

/** Calls in flight of one procedure. */
interface Flight {
  readonly service: string;
  readonly method: string;
  count: number;
}

type TargetKind = 'variable' | 'tool' | undefined;

const targetKindOf = (service: string): TargetKind =>
  service === VariableService.typeName ? 'variable' : service === ToolService.typeName ? 'tool' : undefined;

/** The same error with the request id in each of its ErrorDetails that has none (copies: errors may be shared). */
function withRequestId(err: ConnectError, requestId: string): ConnectError {
  let changed = false;
  const details = err.details.map((d) => {
    if (!('desc' in d) || d.desc !== ErrorDetailSchema) return d;
    const detail = d.value as ErrorDetail;
    if (detail.requestId !== '') return d;
    changed = true;
    const copy = clone(ErrorDetailSchema, detail);
    copy.requestId = requestId;
    return { desc: ErrorDetailSchema, value: copy };
  });
  if (!changed) return err;
  const stamped = new ConnectError(err.rawMessage, err.code, err.metadata, [], err.cause);
  stamped.details = details;
  return stamped;
}

/** Puts the request id into the per-item ErrorDetails of a batch response (`results[].outcome.error`). */
function stampResults(message: unknown, requestId: string): void {
  const results = (message as { results?: unknown }).results;
  if (!Array.isArray(results)) return;
  for (const r of results as { outcome?: { case?: unknown; value?: unknown } }[]) {
    const outcome = r.outcome;
    if (outcome?.case !== 'error' || (outcome.value as ErrorDetail).requestId !== '') continue;
    const copy = clone(ErrorDetailSchema, outcome.value as ErrorDetail);
    copy.requestId = requestId;
    outcome.value = copy;
  }
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

/**
 * The request body as it is read, with request-id-stamped errors: a request
 * refused while its body streams in (over the size limit) fails with an
 * ErrorDetail that names the call, and counts as `too_large`.
 */
function watchRequestBody(body: UniversalServerRequest['body'], call: ObservedCall): UniversalServerRequest['body'] {
  if (!isByteStream(body)) return body;
  const fail = (err: unknown): never => {
    if (!(err instanceof ConnectError)) throw err;
    if (err.findDetails(ErrorDetailSchema).some((d) => d.type === ErrorType.PAYLOAD_TOO_LARGE)) {
      call.reason = 'too_large';
    }
    throw withRequestId(err, call.requestId);
  };
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        next: () => it.next().catch(fail),
        return: (value?: unknown) =>
          it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined as unknown as Uint8Array }),
      };
    },
  };
}

/** The response body, calling `end` once when it is done, failed or abandoned, and `chunk` for each chunk. */
function watchResponseBody(
  body: AsyncIterable<Uint8Array>,
  end: () => void,
  chunk: ((c: Uint8Array) => void) | undefined,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const it = body[Symbol.asyncIterator]();
      return {
        async next() {
          let r: IteratorResult<Uint8Array>;
          try {
            r = await it.next();
          } catch (err) {
            end();
            throw err;
          }
          if (r.done === true) end();
          else chunk?.(r.value);
          return r;
        },
        async return(value?: unknown) {
          end();
          return it.return !== undefined ? it.return(value) : { done: true as const, value: undefined };
        },
        async throw(err?: unknown) {
          end();
          if (it.throw !== undefined) return it.throw(err);
          throw err;
        },
      };
    },
  };
}

/** Observes the calls of the handlers it wraps; see the file comment. */
export class CallObserver {
  readonly #logger: BridgeLogger;
  readonly #metrics: BridgeMetricSet | undefined;
  readonly #summary: AccessSummary;
  readonly #tracer = bridgeTracer();
  readonly #flights = new Map<string, Flight>();

  constructor(options: CallObserverOptions) {
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#summary = options.summary;
  }

  /** Calls in flight per procedure (for the `unified_bridge_rpc_server_in_flight` gauge). */
  *inFlight(): Iterable<readonly [service: string, method: string, count: number]> {
    for (const f of this.#flights.values()) yield [f.service, f.method, f.count];
  }

  /** Calls in flight of one procedure. */
  inFlightOf(service: string, method: string): number {
    return this.#flights.get(`${service}/${method}`)?.count ?? 0;
  }

  /** Replaces `handlers[from..]` by observed ones. */
  wrapHandlers(handlers: UniversalHandler[], from: number): void {
    for (let i = from; i < handlers.length; i++) handlers[i] = this.#wrap(handlers[i]!);
  }

  #wrap(h: UniversalHandler): UniversalHandler {
    const service = h.service.typeName;
    const method = h.method.name;
    const procedure = `${service}/${method}`;
    const rpc = this.#metrics?.procedure(service, method);
    const flight: Flight = { service, method, count: 0 };
    this.#flights.set(procedure, flight);
    const tracer = this.#tracer;
    const logger = this.#logger;
    const rpcSystem = { grpc: 'grpc', 'grpc-web': 'grpc', connect: 'connect_rpc' } as const;
    const wrapped = async (req: UniversalServerRequest): Promise<UniversalServerResponse> => {
      const startedAt = performance.now();
      const protocol = protocolOf(req.header.get('content-type'));
      const requestId = requestIdFor(req.header.get(REQUEST_ID_HEADER));
      const parent = extractTraceContext(req.header);
      const span = tracer.startSpan(
        procedure,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'rpc.system': rpcSystem[protocol],
            'rpc.service': service,
            'rpc.method': method,
            'unified_bridge.request_id': requestId,
          },
        },
        parent,
      );
      const values = req.contextValues ?? createContextValues();
      const call = new ObservedCall(
        requestId,
        procedure,
        protocol,
        values.get(peerKey),
        span,
        trace.setSpan(parent, span),
        startedAt,
        logger,
      );
      values.set(observedCallKey, call);
      flight.count++;
      let finished = false;
      const finish = (code: StatusCode): void => {
        if (finished) return;
        finished = true;
        flight.count--;
        this.#finish(call, code, rpc?.record);
      };
      let res: UniversalServerResponse;
      try {
        const inner = { ...req, contextValues: values, body: watchRequestBody(req.body, call) };
        res = await context.with(call.traceContext, () => h(inner));
      } catch (err) {
        finish(ConnectError.from(err).code);
        throw err;
      }
      const header = res.header instanceof Headers ? res.header : new Headers(res.header);
      header.set(REQUEST_ID_HEADER, requestId);
      const body = res.body;
      if (!isByteStream(body)) {
        finish(call.code ?? statusOfResponse(protocol, res, body === undefined ? [] : [body]));
        return { ...res, header };
      }
      // A call that never reached the handlers failed in Connect: its (small)
      // response is kept to read the status back from it.
      const kept: Uint8Array[] | undefined = call.reached ? undefined : [];
      const end = (): void =>
        finish(call.code ?? (kept !== undefined ? statusOfResponse(protocol, res, kept) : Code.Canceled));
      return { ...res, header, body: watchResponseBody(body, end, kept && ((c) => kept.push(c))) };
    };
    return Object.assign(wrapped, h);
  }

  #finish(
    call: ObservedCall,
    code: StatusCode,
    record: ((p: ObservedCall['protocol'], c: StatusCode, s: number) => void) | undefined,
  ): void {
    const durationMs = performance.now() - call.startedAt;
    if (!call.reached && call.reason === undefined) {
      if (code === Code.ResourceExhausted) call.reason = 'too_large';
      else if (
        code === Code.InvalidArgument ||
        code === Code.Internal ||
        code === Code.Unknown ||
        code === Code.Unimplemented
      ) {
        call.reason = 'malformed';
      }
    }
    if (call.reason !== undefined) this.#metrics?.reject(call.reason);
    record?.(call.protocol, code, durationMs / 1000);
    this.#summary.record(code);
    const { span } = call;
    if (span.isRecording()) {
      if (call.sessionId !== '') span.setAttribute('unified_bridge.session_id', call.sessionId);
      if (call.targetKind !== undefined) span.setAttribute(`unified_bridge.${call.targetKind}`, call.target);
    }
    endSpan(span, code);
    const log = call.logger;
    if (!levelEnabled(log, 'debug')) return;
    const [service, method] = call.procedure.split('/') as [string, string];
    log.debug(
      {
        service,
        method,
        protocol: call.protocol,
        code: statusCodeName(code),
        durationMs: Math.round(durationMs * 1000) / 1000,
        ...(call.sessionId !== '' ? { session: call.sessionId } : {}),
        ...(call.targetKind !== undefined ? { [call.targetKind]: call.target } : {}),
        ...(call.peer !== '' ? { peer: call.peer } : {}),
        ...(call.reason !== undefined ? { rejected: call.reason } : {}),
      },
      'rpc',
    );
  }

  /**
   * The interceptor (the bridge's outermost): records what the request names
   * and how the handlers ended, and stamps the request id into errors and
   * batch results.
   */
  interceptor(): Interceptor {
    const failed = (call: ObservedCall, err: unknown): unknown => {
      if (!(err instanceof ConnectError)) {
        call.code = Code.Internal;
        return err;
      }
      call.code = err.code;
      if (err.code === Code.Unauthenticated) call.reason = 'unauthenticated';
      return withRequestId(err, call.requestId);
    };
    return (next) => async (req) => {
      const call = req.contextValues.get(observedCallKey);
      if (call === undefined) return next(req);
      call.reached = true;
      const kind = targetKindOf(req.service.typeName);
      if (!req.stream) {
        call.describe(req.message, kind);
      } else {
        const messages = req.message;
        req = {
          ...req,
          message: (async function* () {
            let first = true;
            for await (const m of messages) {
              if (first) call.describe(m, kind);
              first = false;
              yield m;
            }
          })(),
        };
      }
      let res: UnaryResponse | StreamResponse;
      try {
        res = await next(req);
      } catch (err) {
        throw failed(call, err);
      }
      if (!res.stream) {
        call.code = CODE_OK;
        stampResults(res.message, call.requestId);
        return res;
      }
      const source = res.message;
      async function* observed() {
        try {
          yield* source;
          call!.code = CODE_OK;
        } catch (err) {
          throw failed(call!, err);
        } finally {
          call!.code ??= Code.Canceled;
        }
      }
      return { ...res, message: observed() };
    };
  }
}
