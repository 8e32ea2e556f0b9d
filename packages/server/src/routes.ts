// The embeddable part: Connect routes for SessionService, VariableService,
// ToolService, ToolWorkerService, grpc.health.v1.Health and gRPC server
// reflection, usable with any Connect server adapter. createBridgeRoutes checks the options, builds what
// the services share (store, logger, host tools, worker broker, health, call
// tracking), applies limits, auth and error mapping per service, and owns
// the graceful shutdown.
import { setMaxListeners } from 'node:events';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { compressionGzip } from '@connectrpc/connect-node';
import {
  Health,
  reflectionV1,
  reflectionV1alpha,
  SessionService,
  ToolService,
  ToolWorkerService,
  VariableService,
} from '@unified-bridge/proto';
import { MemoryStore } from '@unified-bridge/store';
import type { SessionStore, StoreLimits } from '@unified-bridge/store';
import { createAuthInterceptor, validateAuthOptions } from './auth.js';
import type { AuthOptions } from './auth.js';
import { createResponseCompression } from './compression.js';
import type { BridgeCompression } from './compression.js';
import { createErrorInterceptor, shuttingDown } from './errors.js';
import { BridgeHealth, createHealthServiceImpl } from './health-service.js';
import type { BridgeMetrics, MetricsOptions } from './metrics.js';
import { createObservability } from './observability.js';
import type { AccessLogOptions } from './observability.js';
import { CallTracker } from './lifecycle.js';
import { createMessageLimit, DEFAULT_MAX_MESSAGE_BYTES } from './limits.js';
import { createBridgeLogger } from './logger.js';
import type { BridgeLogger } from './logger.js';
import { HostTools } from './host-tools.js';
import type { HostToolRegistry } from './host-tools.js';
import { validateRateLimit } from './rate-limit.js';
import type { RateLimitOptions } from './rate-limit.js';
import { createReflectionServices } from './reflection-service.js';
import { createSessionServiceImpl } from './session-service.js';
import { SessionEndWatch } from './session-watch.js';
import { validateHostTool } from './tool-definition.js';
import type { HostToolDefinition } from './tool-definition.js';
import { DEFAULT_TOOL_TIMEOUT_MS } from './tool-executor.js';
import { createToolServiceImpl } from './tool-service.js';
import { createToolWorkerServiceImpl } from './tool-worker-service.js';
import { createVariableServiceImpl } from './variable-service.js';
import { DEFAULT_WORKER_HEARTBEAT_MS, DEFAULT_WORKER_MISSED_HEARTBEATS, WorkerBroker } from './worker-broker.js';

export { BRIDGE_COMPRESSIONS } from './compression.js';
export type { BridgeCompression } from './compression.js';

/**
 * Options of {@link createBridgeRoutes}. Every option has a safe default.
 *
 * @example
 * const routes = createBridgeRoutes({ store: new MemoryStore(), auth: { tokens: ['s3cret'] } });
 */
export interface BridgeRoutesOptions {
  /**
   * Where sessions and variables live. Default: a new `MemoryStore` built
   * with `limits` and `sessionTtlMs`, closed by `shutdown()`. A store you pass
   * in is yours to close.
   */
  readonly store?: SessionStore;
  /** Limits of the default `MemoryStore` (ignored when `store` is given). Default: the store's defaults. */
  readonly limits?: Partial<StoreLimits>;
  /**
   * Idle TTL of sessions created without `ttl_seconds`, in ms. Default: the
   * store's `sessionTtlMs` (1 hour for `MemoryStore`).
   */
  readonly sessionTtlMs?: number;
  /**
   * Bearer-token auth for SessionService, VariableService, ToolService and
   * ToolWorkerService. Default: none (every caller sees every session).
   * Health stays reachable without a token.
   */
  readonly auth?: AuthOptions;
  /** Where log lines go. Default: pino JSON lines on stderr at level `info`. */
  readonly logger?: BridgeLogger;
  /**
   * Largest message the services read or write, in bytes, after
   * decompression. Default 10 MiB (connect-node's own default is ~4 GiB).
   * Larger requests fail with RESOURCE_EXHAUSTED "message too large".
   */
  readonly maxMessageBytes?: number;
  /**
   * Response compression: `"none"` (default, as in grpc-go and grpc-js
   * servers) or `"gzip"` for clients that accept it. Gzip saves bandwidth on
   * slow links but costs CPU on both sides: reading a 4 MB random float32
   * tensor from grpcio takes several times longer. Requests may always be gzip.
   */
  readonly compression?: BridgeCompression;
  /**
   * With `compression: "gzip"`, the smallest response message that is
   * compressed, in bytes; smaller ones go as they are (compressing them costs
   * more CPU than it saves bytes). Default 1024 (connect-es's default).
   */
  readonly compressMinBytes?: number;
  /**
   * Serve gRPC server reflection (`grpc.reflection.v1` and `v1alpha`), so
   * grpcurl, grpcui, Postman and `buf curl` discover the services without the
   * .proto files. With `auth`, reflection needs a token like the bridge
   * services. Default `true`; `false` leaves it UNIMPLEMENTED.
   */
  readonly reflection?: boolean;
  /**
   * Largest deadline a client may ask for, in ms; a larger one fails with
   * INVALID_ARGUMENT. Default 0 (no cap).
   */
  readonly maxTimeoutMs?: number;
  /**
   * Extra interceptors for the bridge services, run inside the bridge's own
   * (after auth). Interceptors given to the adapter do not reach these
   * services, because Connect's per-service options replace them. Default `[]`.
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Host tools every session can call (registered globally, owner `"host"`).
   * More can be added later, globally or per session, with `routes.tools`.
   * A bad definition throws a TypeError naming the tool. Default `[]`.
   */
  readonly tools?: readonly HostToolDefinition[];
  /**
   * Per-session rate limit of tool calls (token bucket); calls over it fail
   * with RESOURCE_EXHAUSTED RateLimited and a retry delay. Default: off.
   */
  readonly rateLimit?: RateLimitOptions;
  /** Deadline of tool calls whose caller sent none, in ms. Default 30,000. */
  readonly defaultToolTimeoutMs?: number;
  /**
   * How often tool workers must send a heartbeat (and are pinged), in ms.
   * Default 5,000.
   */
  readonly workerHeartbeatIntervalMs?: number;
  /**
   * Heartbeat intervals a worker may miss before it counts as dead: its tools
   * go and its calls fail with UNAVAILABLE. Default 3.
   */
  readonly workerMissedHeartbeats?: number;
  /**
   * Prometheus metrics (prom-client): `{ registry }` to register them in your
   * registry, `false` to turn them off. Default: on, in a registry of their
   * own (`routes.metrics.registry`). They cost well under 5% of a call's CPU.
   */
  readonly metrics?: MetricsOptions | false;
  /** The access log: one `debug` line per RPC and an `info` summary every minute. */
  readonly accessLog?: AccessLogOptions;
}

/**
 * Connect routes of the bridge: pass them to `connectNodeAdapter`,
 * `fastifyConnectPlugin` or `expressConnectMiddleware`. The function also
 * carries the health registry, the store, and `shutdown()`.
 */
export interface BridgeRoutes {
  /**
   * Registers SessionService, VariableService, ToolService, ToolWorkerService,
   * grpc.health.v1.Health and (unless `reflection: false`) grpc.reflection.v1
   * and v1alpha on a Connect router.
   */
  (router: ConnectRouter): void;
  /** The grpc.health.v1 serving status (SERVING until shutdown). */
  readonly health: BridgeHealth;
  /** The store the services use. */
  readonly store: SessionStore;
  /** The logger the services use. */
  readonly logger: BridgeLogger;
  /** The host tools: register TypeScript tools globally or per session at any time. */
  readonly tools: HostToolRegistry;
  /** The Prometheus metrics (`registry.metrics()` is the `/metrics` text), undefined with `metrics: false`. */
  readonly metrics: BridgeMetrics | undefined;
  /** Whether `shutdown()` has begun. */
  readonly draining: boolean;
  /**
   * Shuts the services down: health goes NOT_SERVING, new calls are refused
   * with UNAVAILABLE "server shutting down", streams end with that status,
   * in-flight unary calls get `graceMs` (default 10,000) to finish before they
   * are aborted; then the default store is closed. Idempotent.
   */
  shutdown(options?: { graceMs?: number }): Promise<void>;
}

/** The default grace period for in-flight calls at shutdown, in ms. */
export const DEFAULT_GRACE_MS = 10_000;

/**
 * Creates the bridge's Connect routes. The service implementations do not
 * depend on the HTTP adapter; limits, auth, error mapping and shutdown are
 * applied per service here, so they hold with every adapter.
 *
 * @example
 * import http from 'node:http';
 * import { connectNodeAdapter } from '@connectrpc/connect-node';
 * const routes = createBridgeRoutes();
 * http.createServer(connectNodeAdapter({ routes })).listen(8080);
 */
export function createBridgeRoutes(options: BridgeRoutesOptions = {}): BridgeRoutes {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1 || maxMessageBytes > 0xffffffff) {
    throw new RangeError(`maxMessageBytes must be an integer from 1 to 4294967295, got ${String(maxMessageBytes)}`);
  }
  const maxTimeoutMs = options.maxTimeoutMs ?? 0;
  if (!Number.isInteger(maxTimeoutMs) || maxTimeoutMs < 0) {
    throw new RangeError(`maxTimeoutMs must be a non-negative integer (0 = no cap), got ${String(maxTimeoutMs)}`);
  }
  if (options.sessionTtlMs !== undefined && (!Number.isInteger(options.sessionTtlMs) || options.sessionTtlMs < 1)) {
    throw new RangeError(`sessionTtlMs must be a positive integer (ms), got ${String(options.sessionTtlMs)}`);
  }
  const limit = createMessageLimit(maxMessageBytes);
  const compression = createResponseCompression(
    options.compression,
    options.compressMinBytes,
    limit.compression(compressionGzip),
  );
  const reflection = options.reflection ?? true;
  if (typeof reflection !== 'boolean') throw new TypeError(`reflection must be a boolean, got ${String(reflection)}`);
  if (options.auth !== undefined) validateAuthOptions(options.auth);
  const rateLimit = options.rateLimit === undefined ? undefined : validateRateLimit(options.rateLimit);
  const defaultToolTimeoutMs = positiveInt(
    'defaultToolTimeoutMs',
    options.defaultToolTimeoutMs,
    DEFAULT_TOOL_TIMEOUT_MS,
  );
  const heartbeatIntervalMs = positiveInt(
    'workerHeartbeatIntervalMs',
    options.workerHeartbeatIntervalMs,
    DEFAULT_WORKER_HEARTBEAT_MS,
  );
  const missedHeartbeats = positiveInt(
    'workerMissedHeartbeats',
    options.workerMissedHeartbeats,
    DEFAULT_WORKER_MISSED_HEARTBEATS,
  );
  const hostTools = options.tools ?? [];
  if (!Array.isArray(hostTools)) throw new TypeError('tools must be an array of host tool definitions');
  const toolNames = new Set<string>();
  for (const t of hostTools) {
    validateHostTool(t);
    if (toolNames.has(t.name)) throw new TypeError(`tools: tool ${JSON.stringify(t.name)} is defined twice`);
    toolNames.add(t.name);
  }

  const logger = options.logger ?? createBridgeLogger('info');
  const ownStore = options.store === undefined;
  const givenStore =
    options.store ??
    new MemoryStore({
      limits: {
        ...options.limits,
        ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
      },
    });
  const servedServices = [SessionService, VariableService, ToolService, ToolWorkerService, Health];
  const health = new BridgeHealth(servedServices.map((s) => s.typeName));
  const obs = createObservability({
    metrics: options.metrics,
    accessLog: options.accessLog,
    logger,
    store: givenStore,
    workers: () => broker.workerCount,
  });
  const store = obs.store;
  const calls = new CallTracker();
  const streams = new AbortController(); // ends streams at shutdown
  const force = new AbortController(); // aborts whatever is left after the grace period
  // Connect links every call's signal to `force.signal` (its shutdownSignal),
  // one abort listener per call in flight: a listener count is not a leak here.
  setMaxListeners(0, streams.signal, force.signal);

  const deps = { store, sessionTtlMs: options.sessionTtlMs, streamsSignal: streams.signal };
  const sessionEnds = new SessionEndWatch(store);
  const host = new HostTools(store, logger, sessionEnds);
  host.ready = Promise.all(hostTools.map((t) => host.register(t))).then(() => undefined);
  host.ready.catch((err: unknown) => logger.error({ err }, 'could not register the host tools of the tools option'));
  const broker = new WorkerBroker({ store, logger, heartbeatIntervalMs, missedHeartbeats });
  const runtime = {
    store,
    host,
    broker,
    limiter: rateLimit === undefined ? undefined : obs.tools.rateLimiter(rateLimit),
    defaultTimeoutMs: defaultToolTimeoutMs,
    telemetry: obs.tools,
  };
  const baseOptions = {
    readMaxBytes: maxMessageBytes,
    writeMaxBytes: maxMessageBytes,
    ...compression.handlerOptions,
    ...(maxTimeoutMs > 0 ? { maxTimeoutMs } : {}),
    shutdownSignal: force.signal,
    requireConnectProtocolHeader: false,
  };
  const errorInterceptor = createErrorInterceptor(logger);
  const observeInterceptor = obs.observer.interceptor();
  const bridgeInterceptors: Interceptor[] = [
    observeInterceptor,
    errorInterceptor,
    calls.interceptor(),
    ...(options.auth !== undefined ? [createAuthInterceptor(options.auth)] : []),
    ...(options.interceptors ?? []),
  ];
  // Health is never refused or authenticated: probes must see NOT_SERVING during shutdown.
  const healthInterceptors: Interceptor[] = [observeInterceptor, errorInterceptor];

  let shutdownPromise: Promise<void> | undefined;
  const routes = (router: ConnectRouter): void => {
    const first = router.handlers.length;
    router.service(SessionService, createSessionServiceImpl(deps), {
      ...baseOptions,
      interceptors: bridgeInterceptors,
    });
    router.service(VariableService, createVariableServiceImpl(deps), {
      ...baseOptions,
      interceptors: bridgeInterceptors,
    });
    router.service(Health, createHealthServiceImpl(health, streams.signal), {
      ...baseOptions,
      interceptors: healthInterceptors,
    });
    router.service(ToolService, createToolServiceImpl(deps, runtime, logger), {
      ...baseOptions,
      interceptors: bridgeInterceptors,
    });
    router.service(ToolWorkerService, createToolWorkerServiceImpl(deps, broker, sessionEnds, logger), {
      ...baseOptions,
      interceptors: bridgeInterceptors,
    });
    if (reflection) {
      const reflect = createReflectionServices(servedServices, streams.signal);
      const reflectOptions = { ...baseOptions, interceptors: bridgeInterceptors };
      router.service(reflectionV1.ServerReflection, reflect.v1, reflectOptions);
      router.service(reflectionV1alpha.ServerReflection, reflect.v1alpha, reflectOptions);
    }
    obs.observer.wrapHandlers(router.handlers, first); // inside the limit: it sees its refusals
    limit.wrapHandlers(router.handlers, first);
    compression.apply(router.handlers, first);
  };

  const shutdown = (opts: { graceMs?: number } = {}): Promise<void> => {
    shutdownPromise ??= (async () => {
      const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
      calls.drain();
      health.setServing(false);
      // Let health watchers send NOT_SERVING before their streams end.
      await new Promise<void>((resolve) => setImmediate(resolve));
      streams.abort(shuttingDown());
      await broker.close(shuttingDown());
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      });
      await Promise.race([calls.idle(), graceOver]);
      clearTimeout(timer);
      if (calls.inFlight > 0) {
        logger.warn({ inFlight: calls.inFlight, graceMs }, 'grace period over: aborting calls still in flight');
        force.abort(shuttingDown());
        // Aborted handlers settle promptly; never wait on one that does not.
        let capTimer: NodeJS.Timeout | undefined;
        await Promise.race([
          calls.idle(),
          new Promise<void>((resolve) => {
            capTimer = setTimeout(resolve, 1000);
            capTimer.unref();
          }),
        ]);
        clearTimeout(capTimer);
      }
      host.close();
      sessionEnds.close();
      obs.close();
      if (ownStore) await givenStore.close();
    })();
    return shutdownPromise;
  };

  return Object.defineProperties(routes, {
    health: { value: health, enumerable: true },
    store: { value: givenStore, enumerable: true },
    logger: { value: logger, enumerable: true },
    tools: { value: host, enumerable: true },
    metrics: { value: obs.metrics, enumerable: true },
    draining: { get: () => calls.draining, enumerable: true },
    shutdown: { value: shutdown, enumerable: true },
  }) as BridgeRoutes;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}
